/**
 * Which Docker objects are this daemon's: a stable id kept in its state folder (`<home>/instance.id`) is labelled on
 * everything it creates, beside the project, and names the default project. Two state folders with default configs
 * therefore never share a stack, and a project another state folder owns is refused with that folder's path.
 *
 * Objects an earlier version created carry the project label but no owner: they are left alone, unless the config
 * names their project explicitly (`project = "dspy-agent"`), which claims them.
 *
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import { LABEL_PROJECT } from "../labels.ts";

/** Label holding the id of the state folder that owns a resource. */
export const LABEL_OWNER = "dev.dspy-agent.owner";
/** Label holding the path of that state folder, for messages that must name it. */
export const LABEL_HOME = "dev.dspy-agent.home";

/** The file in the state folder that holds its id. */
export const INSTANCE_ID_FILE = "instance.id";

/** One state folder's identity on the Docker engine. */
export interface StackOwner {
  /** The state folder's id. */
  id: string;
  /** The state folder. */
  home: string;
  /** The project its resources are labelled with. */
  project: string;
}

/**
 * Reads the state folder's id, making it on first use, and the project: the configured one, else
 * `dspy-agent-<first 8 characters of the id>`.
 */
export async function loadStackOwner(home: string, configuredProject: string | undefined): Promise<StackOwner> {
  const path = `${home}/${INSTANCE_ID_FILE}`;
  let id: string;
  try {
    id = (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    id = "";
  }
  if (!/^[0-9a-f]{32}$/.test(id)) {
    id = crypto.randomUUID().replaceAll("-", "");
    await Deno.mkdir(home, { recursive: true });
    await Deno.writeTextFile(path, `${id}\n`, { mode: 0o644 });
  }
  return { id, home, project: configuredProject || `dspy-agent-${id.slice(0, 8)}` };
}

/** The labels that mark a resource as this owner's. */
export function ownerLabels(owner: StackOwner): Record<string, string> {
  return { [LABEL_OWNER]: owner.id, [LABEL_HOME]: owner.home };
}

/** A project's resources belong to another state folder. */
export class ProjectOwnedElsewhereError extends Error {
  /** The project. */
  readonly project: string;
  /** The state folder that owns it. */
  readonly otherHome: string;

  /** The error for a project and the other state folder. */
  constructor(project: string, otherHome: string) {
    super(
      `Cannot use project "${project}": its Docker resources belong to the dspy-agent state folder "${otherHome}". ` +
        `Choose another name with project = "..." in this folder's config.toml, or remove the setting to get a ` +
        `project of this folder's own.`,
    );
    this.name = "ProjectOwnedElsewhereError";
    this.project = project;
    this.otherHome = otherHome;
  }
}

/** Throws {@linkcode ProjectOwnedElsewhereError} when any resource of the owner's project carries another owner. */
export async function assertProjectOwned(engine: Engine, owner: StackOwner, signal?: AbortSignal): Promise<void> {
  const selector = { [LABEL_PROJECT]: owner.project };
  const labelSets = [
    ...(await engine.listContainers({ selector, signal })).map((c) => c.Labels),
    ...(await engine.listNetworks({ selector, signal })).map((n) => n.Labels),
  ];
  for (const labels of labelSets) {
    const other = labels?.[LABEL_OWNER];
    if (other !== undefined && other !== owner.id) {
      throw new ProjectOwnedElsewhereError(owner.project, labels?.[LABEL_HOME] ?? `with id ${other}`);
    }
  }
}
