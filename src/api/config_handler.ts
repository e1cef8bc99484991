/**
 * The GetConfig RPC: the daemon's effective settings and where each came from, read-only, with secrets masked by
 * the same code as `dspy-agent config show` (docs/security.md).
 *
 * @module
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { type LoadedConfig, shownSettings } from "../config/mod.ts";
import type { OrchestratorService } from "../gen/orchestrator/v1/orchestrator_pb.ts";

/**
 * The GetConfig handler over the configuration the daemon started with. The settings do not change while the
 * daemon runs, so they are shown once; the answer carries what `config show` prints and nothing else (never the
 * auth token, never a password or a password file's contents).
 */
export function configHandler(loaded: LoadedConfig): Pick<ServiceImpl<typeof OrchestratorService>, "getConfig"> {
  const settings = shownSettings(loaded);
  const configFile = loaded.config.configFile;
  return {
    getConfig() {
      return { settings, configFile };
    },
  };
}
