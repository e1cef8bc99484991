/**
 * Labels that mark every Docker resource dspy-agent owns.
 *
 * Nothing without {@linkcode LABEL_PROJECT} is ever touched; cleanup and
 * adoption go by these labels, never by name.
 * @module
 */

/** Label holding the project (namespace) a resource belongs to, `dspy-agent` by default. */
export const LABEL_PROJECT = "dev.dspy-agent.project";
/** Label holding the service name of a service container or volume. */
export const LABEL_SERVICE = "dev.dspy-agent.service";
/** Label holding the hash of the service definition a container was created from. */
export const LABEL_DEFINITION_HASH = "dev.dspy-agent.definition-hash";
/** Label holding what the resource is: see {@linkcode ResourceKind}. */
export const LABEL_KIND = "dev.dspy-agent.kind";
/** Label holding the task id of a one-off task container. */
export const LABEL_TASK = "dev.dspy-agent.task";
/** Label tests put on everything they create, so cleanup can find it (`dspy-agent.test=<run>`). */
export const LABEL_TEST = "dspy-agent.test";

/** What a labelled resource is. */
export type ResourceKind = "service" | "task" | "network" | "volume";

/** Options for {@linkcode ownedLabels}. */
export interface OwnedLabelsOptions {
  /** The project (namespace). */
  project: string;
  /** The kind of resource. */
  kind: ResourceKind;
  /** The service name, for service containers and service volumes. */
  service?: string;
  /** The definition hash, for service containers. */
  definitionHash?: string;
  /** The task id, for task containers. */
  taskId?: string;
  /** Extra labels to merge in (tests add {@linkcode LABEL_TEST}). */
  extra?: Record<string, string>;
}

/** Builds the label map for a resource dspy-agent creates. */
export function ownedLabels(
  options: OwnedLabelsOptions,
): Record<string, string> {
  const labels: Record<string, string> = {
    ...options.extra,
    [LABEL_PROJECT]: options.project,
    [LABEL_KIND]: options.kind,
  };
  if (options.service !== undefined) labels[LABEL_SERVICE] = options.service;
  if (options.definitionHash !== undefined) {
    labels[LABEL_DEFINITION_HASH] = options.definitionHash;
  }
  if (options.taskId !== undefined) labels[LABEL_TASK] = options.taskId;
  return labels;
}

/**
 * A label selector: `{ key: value }` matches that value, `{ key: true }` matches any value.
 */
export type LabelSelector = Record<string, string | true>;

/** Turns a selector into the `label=` list of a Docker API `filters` parameter. */
export function labelFilter(selector: LabelSelector): string[] {
  return Object.entries(selector).map(([key, value]) => value === true ? key : `${key}=${value}`);
}

/** Selector for every resource of a project, optionally narrowed to a kind and a service. */
export function projectSelector(
  project: string,
  options: { kind?: ResourceKind; service?: string } = {},
): LabelSelector {
  const selector: LabelSelector = { [LABEL_PROJECT]: project };
  if (options.kind !== undefined) selector[LABEL_KIND] = options.kind;
  if (options.service !== undefined) selector[LABEL_SERVICE] = options.service;
  return selector;
}

/** True when `labels` carries every key (and value) of the selector. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: LabelSelector,
): boolean {
  if (!labels) return false;
  return Object.entries(selector).every(([key, value]) => value === true ? key in labels : labels[key] === value);
}
