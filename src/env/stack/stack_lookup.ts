/**
 * Looking up a stack's containers: by service, and the last lines they wrote.
 *
 * @module
 */
import type { ContainerSummary } from "../engine/engine.ts";
import { LABEL_SERVICE, projectSelector } from "../labels.ts";
import type { EngineScope, StackContext } from "./stack_context.ts";

/** The service containers of the project by service name. */
export async function listExisting(ctx: EngineScope, signal: AbortSignal): Promise<Map<string, ContainerSummary>> {
  const containers = await ctx.engine.listContainers({
    selector: projectSelector(ctx.registry.project, { kind: "service" }),
    signal,
  });
  return new Map(containers.map((c) => [c.Labels?.[LABEL_SERVICE] ?? "", c]));
}

/** The last lines a container wrote, for failure messages. */
export async function logTail(
  ctx: Pick<StackContext, "engine">,
  containerId: string | undefined,
  lines = 20,
): Promise<string[]> {
  if (!containerId) return [];
  try {
    const decoder = new TextDecoder();
    let text = "";
    for await (const frame of ctx.engine.logs(containerId, { tail: lines, signal: AbortSignal.timeout(3000) })) {
      text += decoder.decode(frame.data, { stream: true });
    }
    return text.split("\n").filter((l) => l.trim() !== "").slice(-lines);
  } catch {
    return [];
  }
}
