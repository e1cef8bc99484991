/**
 * The scheduler of one daemon on the shared PostgreSQL store. It claims ready tasks it can run (FOR UPDATE SKIP
 * LOCKED, so daemons never take the same row) up to each class's limit on this host, runs each attempt under a lease
 * it renews, and records the outcome only while it still holds the attempt (the row's owner and revision), so a
 * daemon that lost its lease or saw the task cancelled records nothing. Any daemon reaps leases that expired (their
 * daemon died or lost the database): each such attempt is an interruption, requeued without spending an attempt.
 *
 * It wakes on new tasks (a notification from any daemon), on its own attempts ending, and once a second for
 * not-before times and retry backoffs.
 *
 * @module
 */
import { backoffMs } from "../../async/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { AttemptInterruptedError, TaskExecutionError } from "../errors.ts";
import type { ExecutorSelector } from "../executors/select.ts";
import { BUILTIN_TASK_TYPES } from "../executors/builtin.ts";
import { buildResult } from "../result.ts";
import type { ClassSettings } from "../scheduling/classes.ts";
import type { Task, TaskEvent } from "../task.ts";
import type { WorkerRegistry } from "../workers/registry.ts";
import type { PgEvents } from "./pg_events.ts";
import type { PgTasks } from "./pg_tasks.ts";

/** Options of {@linkcode PgScheduler}. */
export interface PgSchedulerOptions {
  tasks: PgTasks;
  events: PgEvents;
  classes: Map<string, ClassSettings>;
  select: ExecutorSelector;
  workers: WorkerRegistry;
  /** This daemon's id (its state folder's instance id): the owner of the attempts it runs. */
  owner: string;
  /** How long an attempt's lease lives without renewal. */
  leaseMs: number;
  /** Whether `payload.execution` can run here. */
  execution: boolean;
  /** Whether an external runner takes any task (ENV_RUNNER_URL). */
  runner: boolean;
  /** Whether Slurm commands are here. */
  slurm: boolean;
  logger: Logger;
  now: () => number;
  /** The first retry waits this long; each next one twice as long. @default {1000} */
  retryBaseMs?: number;
  /** Called when an attempt ends, for metrics. */
  onAttemptEnd?: (task: Task, outcome: "completed" | "failed" | "timed_out" | "cancelled", latencyMs: number) => void;
}

interface Running {
  task: Task;
  controller: AbortController;
  timer?: ReturnType<typeof setTimeout>;
}

/** Why an attempt's signal was aborted. */
class StopReason {
  constructor(readonly kind: "cancel" | "timeout" | "shutdown" | "lost", readonly detail: string) {}
}

/** Runs the tasks this daemon claims. */
export class PgScheduler {
  #options: PgSchedulerOptions;
  #running = new Map<string, Running>();
  #inUse = new Map<string, number>();
  #pumping = false;
  /** Classes to claim in at the next turn of the pump. */
  #due = new Set<string>();
  #stopped = false;
  /** Set once the attempts this daemon left behind are requeued: claiming waits for that. */
  #ready = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  #unsubscribe: () => void;

  /** Starts claiming; first interrupts the attempts this daemon left running when it was killed. */
  constructor(options: PgSchedulerOptions) {
    this.#options = options;
    for (const name of options.classes.keys()) this.#inUse.set(name, 0);
    const stopChanges = options.tasks.onChanged((task) => this.#onChange(task));
    const stopSubmitted = options.tasks.onSubmitted((classes) => this.wake(classes));
    this.#unsubscribe = () => (stopChanges(), stopSubmitted());
    const { leaseMs } = options;
    this.#timers.push(setInterval(() => this.wake(), 1000));
    this.#timers.push(setInterval(() => void this.#renew(), Math.max(250, Math.floor(leaseMs / 3))));
    this.#timers.push(setInterval(() => void this.#reap(false), Math.max(500, Math.floor(leaseMs / 2))));
    void this.#reap(true).finally(() => {
      this.#ready = true;
      this.wake();
    });
  }

  /** The limit and the attempts running here of a class. */
  usage(className: string): { capacity: number; inUse: number } {
    return { capacity: this.#options.classes.get(className)?.limit ?? 0, inUse: this.#inUse.get(className) ?? 0 };
  }

  /** The class names scheduled. */
  classNames(): string[] {
    return [...this.#options.classes.keys()];
  }

  /** No adaptive limit on this store: each class runs at its configured limit. */
  limit(_className: string): undefined {
    return undefined;
  }

  /** Tasks of a class waiting in the whole store (recent). */
  queueDepth(className: string): number {
    return this.#options.tasks.waiting(className).depth;
  }

  /** The longest wait of a waiting task of a class in the whole store, in seconds (recent). */
  oldestWaitSeconds(className: string): number {
    const oldest = this.#options.tasks.waiting(className).oldestMs;
    return oldest === Infinity ? 0 : Math.max(0, (this.#options.now() - oldest) / 1000);
  }

  /** Looks for work now, in the given classes (all when none are named). */
  wake(classes?: Iterable<string>): void {
    for (const name of classes ?? this.#options.classes.keys()) this.#due.add(name);
    if (this.#stopped || !this.#ready || this.#pumping) return;
    void this.#pump();
  }

  /** Stops claiming; running attempts are given back (interruptions) and aborted; waits up to `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
    for (const timer of this.#timers) clearInterval(timer);
    const { tasks, now, owner } = this.#options;
    await Promise.allSettled([...this.#running.values()].map(async (run) => {
      run.controller.abort(new StopReason("shutdown", "the daemon is stopping"));
      await tasks.apply(run.task, {
        type: "interrupt",
        nowMs: now(),
        reason: "the daemon was stopped during the attempt",
      }, { owner });
    }));
    const deadline = Date.now() + graceMs;
    while (this.#running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** What this daemon can run: built-in types, its workers' types, `payload.execution`, or anything (a runner). */
  #runnable() {
    const types = new Set<string>(BUILTIN_TASK_TYPES);
    for (const worker of this.#options.workers.list()) {
      if (worker.state === "connected") { for (const type of worker.taskTypes) types.add(type); }
    }
    return { types: [...types], execution: this.#options.execution, any: this.#options.runner };
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#due.size > 0 && !this.#stopped) {
        const due = [...this.#due];
        this.#due.clear();
        const runnable = this.#runnable();
        for (const name of due) {
          const settings = this.#options.classes.get(name);
          if (this.#stopped) return;
          if (!settings) continue;
          if (name === "gpu_slurm" && !this.#options.slurm) continue;
          const free = settings.limit - this.#inUse.get(name)!;
          if (free <= 0) continue;
          // Reserve the slots while the claim is in flight, so a concurrent wake does not claim past the limit.
          this.#inUse.set(name, this.#inUse.get(name)! + free);
          let claimed: Task[] = [];
          try {
            claimed = await this.#options.tasks.claim(name, free, this.#options.owner, this.#options.leaseMs, runnable);
          } catch (error) {
            this.#options.logger.warn("Cannot claim tasks", { class: name, error });
          } finally {
            this.#inUse.set(name, this.#inUse.get(name)! - free);
          }
          for (const task of claimed) this.#start(task);
          // A full claim may have left more behind.
          if (claimed.length === free) this.#due.add(name);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(task: Task): void {
    if (this.#stopped) return;
    const controller = new AbortController();
    const run: Running = { task, controller };
    if (task.timeoutSeconds > 0) {
      run.timer = setTimeout(
        () => controller.abort(new StopReason("timeout", `timed out after ${task.timeoutSeconds}s`)),
        task.timeoutSeconds * 1000,
      );
    }
    this.#running.set(task.id, run);
    this.#inUse.set(task.class, (this.#inUse.get(task.class) ?? 0) + 1);
    void this.#execute(run);
  }

  async #execute(run: Running): Promise<void> {
    const { events, now, select, tasks, owner } = this.#options;
    const task = run.task;
    const startMs = performance.now();
    let outcome: "completed" | "failed" | "timed_out" | "cancelled" = "completed";
    let event: TaskEvent | undefined;
    const choice = select(task);
    try {
      if ("reason" in choice) throw new TaskExecutionError(task.id, "none", choice.reason);
      const execution = await choice.executor(task, {
        attempt: task.attempts,
        signal: run.controller.signal,
        publish: (type, data) => events.publish({ type, resourceId: task.id, data: { class: task.class, ...data } }),
      });
      if (run.controller.signal.aborted) throw run.controller.signal.reason;
      const latencyMs = performance.now() - startMs;
      event = { type: "succeed", nowMs: now(), result: buildResult(task, { latencyMs, execution }) };
    } catch (error) {
      const latencyMs = performance.now() - startMs;
      const reason = run.controller.signal.aborted ? run.controller.signal.reason : undefined;
      if (reason instanceof StopReason && reason.kind !== "timeout") {
        // Cancelled, reaped or stopping: whoever moved the task on has recorded its state already.
        outcome = "cancelled";
      } else if (error instanceof AttemptInterruptedError) {
        outcome = "cancelled";
        event = { type: "interrupt", nowMs: now(), reason: error.message };
      } else {
        const timedOut = reason instanceof StopReason ||
          (error instanceof TaskExecutionError && error.metadata.timed_out === true);
        outcome = timedOut ? "timed_out" : "failed";
        const message = reason instanceof StopReason
          ? `Task "${task.id}" ${reason.detail} (attempt ${task.attempts} of ${task.maxAttempts})`
          : error instanceof Error
          ? error.message
          : String(error);
        const result = buildResult(task, {
          latencyMs,
          executor: error instanceof TaskExecutionError ? error.executor : "name" in choice ? choice.name : "none",
          failureMetadata: error instanceof TaskExecutionError ? error.metadata : {},
          error: message,
        });
        const nowMs = now();
        const retryAtMs = nowMs +
          backoffMs(task.attempts, { baseMs: this.#options.retryBaseMs ?? 1000, maxMs: 300_000 });
        event = { type: "fail", nowMs, error: message, result, timedOut, retryAtMs };
      }
    } finally {
      clearTimeout(run.timer);
    }
    let next: Task | undefined;
    if (event && !this.#stopped) {
      try {
        // Recorded only while this daemon still holds the attempt.
        next = await tasks.apply(task, event, { owner });
      } catch (error) {
        // The store is unreachable: the lease runs out and another daemon (or this one) runs the task again.
        this.#options.logger.warn("Cannot record an attempt's outcome", { taskId: task.id, error });
      }
    }
    this.#running.delete(task.id);
    this.#inUse.set(task.class, this.#inUse.get(task.class)! - 1);
    this.#options.onAttemptEnd?.(next ?? task, outcome, performance.now() - startMs);
    // A retry waits for its backoff (the timer finds it); a freed slot may take the next task of the class.
    this.wake([task.class]);
  }

  #onChange(task: Task): void {
    if (this.#stopped) return;
    if (task.state === "pending" || task.state === "retrying") {
      this.wake([task.class]);
      return;
    }
    const run = this.#running.get(task.id);
    // Another daemon (a cancel, a reap) moved our running task on: stop the attempt.
    if (run && task.revision > run.task.revision) {
      run.controller.abort(
        new StopReason(task.state === "cancelled" ? "cancel" : "lost", task.error || `the task is ${task.state} now`),
      );
    }
  }

  async #renew(): Promise<void> {
    if (this.#stopped || this.#running.size === 0) return;
    try {
      await this.#options.tasks.renewLeases(this.#options.owner, this.#options.leaseMs);
    } catch (error) {
      this.#options.logger.warn("Cannot renew task leases", { error });
    }
  }

  async #reap(includeOwn: boolean): Promise<void> {
    if (this.#stopped) return;
    const { owner, tasks } = this.#options;
    try {
      // At start, also our own running rows: this daemon left them when it was killed.
      const reaped = await tasks.reapExpired(owner, includeOwn);
      if (reaped > 0) this.wake();
    } catch (error) {
      this.#options.logger.warn("Cannot requeue expired attempts", { error });
    }
  }
}
