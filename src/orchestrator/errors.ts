/**
 * Domain errors of the orchestrator. The API edge (src/api/errors.ts) maps
 * each class to one gRPC code; the facts stay in fields.
 *
 * @module
 */

/** No task has the given id (gRPC NOT_FOUND). */
export class TaskNotFoundError extends Error {
  /** The id that was looked up. */
  readonly taskId: string;

  constructor(taskId: string) {
    super(`Cannot find task "${taskId}": no task has this id`);
    this.name = "TaskNotFoundError";
    this.taskId = taskId;
  }
}

/** A request to submit, list or cancel tasks breaks a rule (gRPC INVALID_ARGUMENT). */
export class InvalidTaskError extends Error {
  /** The field at fault, for example "id", "class" or "payload". */
  readonly field: string;
  /** What is wrong, without the action prefix. */
  readonly reason: string;

  constructor(action: string, field: string, reason: string) {
    super(`Cannot ${action}: ${reason}`);
    this.name = "InvalidTaskError";
    this.field = field;
    this.reason = reason;
  }
}

/** A task of class gpu_slurm was submitted on a host without Slurm (gRPC FAILED_PRECONDITION). */
export class SlurmUnavailableError extends Error {
  /** The task that was refused. */
  readonly taskId: string;
  /** The Slurm commands that are missing from PATH. */
  readonly missing: string[];

  constructor(taskId: string, missing: string[]) {
    super(
      `Cannot submit task "${taskId}" of class "gpu_slurm": ${
        missing.join(", ")
      } not found on PATH (install Slurm or use class "gpu")`,
    );
    this.name = "SlurmUnavailableError";
    this.taskId = taskId;
    this.missing = missing;
  }
}

/** A task was asked to move between states that have no edge (gRPC FAILED_PRECONDITION). */
export class IllegalTaskTransitionError extends Error {
  /** The task concerned. */
  readonly taskId: string;
  /** The state it was in. */
  readonly from: string;
  /** The lifecycle event that was refused. */
  readonly event: string;

  constructor(taskId: string, from: string, event: string) {
    super(`Cannot ${event} task "${taskId}": it is ${from}`);
    this.name = "IllegalTaskTransitionError";
    this.taskId = taskId;
    this.from = from;
    this.event = event;
  }
}

/**
 * A stream subscriber fell behind by more than its buffer (gRPC RESOURCE_EXHAUSTED).
 * It resumes without loss from `lastSequence` (StreamEventsRequest.after_sequence).
 */
export class SubscriberTooSlowError extends Error {
  /** The buffer size that was exceeded. */
  readonly bufferSize: number;
  /** The sequence number of the last event delivered to the subscriber (0: none). */
  readonly lastSequence: number;
  /** The unix millisecond timestamp of the last event delivered (0: none). */
  readonly lastTimestampMs: number;

  constructor(bufferSize: number, lastSequence: number, lastTimestampMs: number) {
    super(
      `Cannot keep streaming: the subscriber fell more than ${bufferSize} messages behind; resume after sequence ${lastSequence}`,
    );
    this.name = "SubscriberTooSlowError";
    this.bufferSize = bufferSize;
    this.lastSequence = lastSequence;
    this.lastTimestampMs = lastTimestampMs;
  }
}

/** The orchestrator was closed while a call was in progress (gRPC UNAVAILABLE). */
export class OrchestratorClosedError extends Error {
  constructor() {
    super("Cannot serve the request: the orchestrator is shutting down");
    this.name = "OrchestratorClosedError";
  }
}

/** Why a task execution failed; thrown by executors, stored in the task's error. */
export class TaskExecutionError extends Error {
  /** The task concerned. */
  readonly taskId: string;
  /** The executor that ran it (builtin, execution, runner, slurm). */
  readonly executor: string;
  /** Facts to keep in the result metadata (exit code, log tails). */
  readonly metadata: Record<string, unknown>;

  constructor(
    taskId: string,
    executor: string,
    reason: string,
    options?: ErrorOptions & { metadata?: Record<string, unknown> },
  ) {
    super(`Task "${taskId}" failed: ${reason}`, options);
    this.name = "TaskExecutionError";
    this.taskId = taskId;
    this.executor = executor;
    this.metadata = options?.metadata ?? {};
  }
}

/** The store file cannot be opened or is damaged: the daemon cannot start on it. */
export class StoreUnusableError extends Error {
  /** The store file. */
  readonly path: string;

  /** The error for a store file and what SQLite said. */
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(
      `Cannot open the task store "${path}": ${detail}. Nothing was changed. Move the file aside to start with an ` +
        `empty store (mv "${path}" "${path}.damaged"), or put back a copy made by \`dspy-agent store backup\`.`,
      options,
    );
    this.name = "StoreUnusableError";
    this.path = path;
  }
}

/**
 * The PostgreSQL store does not answer (down, unreachable, refused our credentials): the request was not stored, and
 * the daemon reconnects by itself.
 */
export class StoreUnavailableError extends Error {
  /** The store's URL, password masked. */
  readonly url: string;

  /** The error for a store URL (masked) and what the driver said. */
  constructor(url: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `The task store${url ? ` at ${url}` : ""} does not answer: ${why}. Nothing was stored; the daemon reconnects ` +
        "by itself, so retry shortly, and check that PostgreSQL is running and reachable with these credentials.",
      { cause },
    );
    this.name = "StoreUnavailableError";
    this.url = url;
  }
}

/** A feature the configured store does not offer yet (workflows and backups on PostgreSQL). */
export class StoreFeatureUnavailableError extends Error {
  /** The error naming the feature and what to use instead. */
  constructor(feature: string, instead: string) {
    super(`${feature} is not available with the PostgreSQL store in this release: ${instead}`);
    this.name = "StoreFeatureUnavailableError";
  }
}

/** `store migrate` cannot move the store: the target is not empty, or the source is in use. */
export class StoreMigrationError extends Error {
  /** The error with what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "StoreMigrationError";
  }
}

/** A backup destination that cannot be used. */
export class InvalidStoreBackupError extends Error {
  /** The path given. */
  readonly path: string;

  /** The error for a path and why it cannot be used. */
  constructor(path: string, why: string) {
    super(`Cannot back up the task store to "${path}": ${why}`);
    this.name = "InvalidStoreBackupError";
    this.path = path;
  }
}

/** A write to the task store failed because its disk is full: nothing of it was stored. */
export class StoreFullError extends Error {
  /** The error for what SQLite said. */
  constructor(options?: ErrorOptions) {
    super(
      "Cannot store the change: the disk that holds the task store is full. Nothing was accepted; reads keep " +
        "working. Free space on that disk (see `dspy-agent doctor`), then retry: writes work again by themselves.",
      options,
    );
    this.name = "StoreFullError";
  }
}

/** True when a SQLite error says the disk (or the database's size limit) is full. */
export function isDiskFull(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /database or disk is full|SQLITE_FULL|No space left on device|disk I\/O error/i.test(message);
}

/**
 * An attempt cut off by something other than the task itself (a worker that died or lost its lease, or gave the task
 * back): the task is requeued as an interruption, without spending its attempts.
 */
export class AttemptInterruptedError extends Error {
  /** The error, with what cut the attempt off. */
  constructor(reason: string) {
    super(reason);
    this.name = "AttemptInterruptedError";
  }
}
