/**
 * The environment variables dspy-agent reads. The permission set in deno.json
 * grants exactly these (plus a few that libraries read), so reading the whole
 * environment is neither needed nor allowed.
 */
export const CONFIG_ENV_VARS = [
  "HOME",
  "USERPROFILE",
  "DSPY_AGENT_HOME",
  "DSPY_AGENT_CONFIG",
  "ORCHESTRATOR_GRPC_ADDR",
  "ORCHESTRATOR_HTTP_ADDR",
  "DOCKER_HOST",
  "ENV_MANAGER_MAX_CONCURRENT",
  "ENV_MANAGER_HEALTH_TIMEOUT",
  "ENV_RUNNER_URL",
  "RUST_LOG",
] as const;

/** Reads the variables of {@linkcode CONFIG_ENV_VARS} from the process environment. */
export function readEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_VARS) env[name] = Deno.env.get(name);
  return env;
}
