/**
 * The one map from domain error classes to gRPC codes.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.ts";

/** The `domain` of the ErrorInfo detail every mapped error carries. */
export const ERROR_DOMAIN = "dspy-agent";

/**
 * The gRPC code of each domain error, by the error's `name`. This is the one
 * place where domain failures become wire errors (STYLE.md: errors are mapped
 * once per edge). Anything not listed is INTERNAL and its text stays in logs.
 */
const CODES: Record<string, Code> = {
  // config/
  ConfigError: Code.InvalidArgument,
  ConfigErrors: Code.InvalidArgument,
  // orchestrator/
  InvalidTaskError: Code.InvalidArgument,
  TaskNotFoundError: Code.NotFound,
  SlurmUnavailableError: Code.FailedPrecondition,
  SubscriberTooSlowError: Code.ResourceExhausted,
  IllegalTaskTransitionError: Code.FailedPrecondition,
  OrchestratorClosedError: Code.Unavailable,
  WorkflowExistsError: Code.AlreadyExists,
  WorkflowInputError: Code.InvalidArgument,
  WorkflowNotFoundError: Code.NotFound,
  WorkflowRunNotFoundError: Code.NotFound,
  WorkflowSpecError: Code.InvalidArgument,
  InvalidRunListingError: Code.InvalidArgument,
  InvalidStoreBackupError: Code.InvalidArgument,
  StoreUnusableError: Code.DataLoss,
  StoreFullError: Code.ResourceExhausted,
  StoreUnavailableError: Code.Unavailable,
  StoreFeatureUnavailableError: Code.FailedPrecondition,
  StoreMigrationError: Code.FailedPrecondition,
  // env/
  ServiceNotFoundError: Code.NotFound,
  UnknownServiceError: Code.NotFound,
  DependencyCycleError: Code.InvalidArgument,
  RegistryError: Code.InvalidArgument,
  InvalidExecutionSpecError: Code.InvalidArgument,
  DockerUnavailableError: Code.Unavailable,
  PortInUseError: Code.FailedPrecondition,
  ImageNotFoundError: Code.FailedPrecondition,
  IllegalServiceTransitionError: Code.FailedPrecondition,
  NoFreePortError: Code.ResourceExhausted,
  ProjectOwnedElsewhereError: Code.FailedPrecondition,
};

/** The gRPC code an error class maps to, by its name; undefined for one that answers INTERNAL. */
export function codeForError(name: string): Code | undefined {
  return CODES[name];
}

/** Turns any thrown value into a ConnectError, keeping the original as `cause` for logs. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof Error) {
    const code = CODES[err.name];
    if (code !== undefined) {
      // The machine-readable reason: clients act on the class name, never on the message text.
      const details = [{ desc: ErrorInfoSchema, value: { reason: err.name, domain: ERROR_DOMAIN } }];
      return new ConnectError(err.message, code, undefined, details, err);
    }
    return new ConnectError(
      "internal error; see the daemon log",
      Code.Internal,
      undefined,
      undefined,
      err,
    );
  }
  return new ConnectError(
    "internal error; see the daemon log",
    Code.Internal,
    undefined,
    undefined,
    err,
  );
}

/** Throws INVALID_ARGUMENT with a message when a condition does not hold. */
export function requireArgument(
  condition: unknown,
  message: string,
): asserts condition {
  if (!condition) throw new ConnectError(message, Code.InvalidArgument);
}
