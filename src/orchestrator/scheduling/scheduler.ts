/**
 * The scheduler: starts ready tasks within each class's adaptive limit,
 * highest (aged) priority first, and drives each attempt to its end —
 * success, failure with retry and exponential backoff, timeout or cancel.
 * It is event-driven: it reacts to task changes and finished attempts;
 * timers exist only for not-before times, backoffs and timeouts.
 *
 * @module
 */

import { backoffMs } from "../../async/mod.ts";
import { AdaptiveLimit } from "./adaptive_limit.ts";
import type { ClassSettings } from "./classes.ts";
import { AttemptInterruptedError, TaskExecutionError } from "../errors.ts";
import type { EventLog } from "../store/event_log.ts";
import type { ExecutorSelector } from "../executors/select.ts";
import { ReadyQueue } from "./ready_queue.ts";
import { buildResult } from "../result.ts";
import type { Task } from "../task.ts";
import type { TaskService } from "../task_service.ts";

/** Options of {@linkcode Scheduler}. */
export interface SchedulerOptions {
  tasks: TaskService;
  events: EventLog;
  classes: Map<string, ClassSettings>;
  select: ExecutorSelector;
  now: () => number;
  /** The first retry waits this long; each next one twice as long. @default {1000} */
  retryBaseMs?: number;
  /** The longest retry wait. @default {300000} */
  retryMaxMs?: number;
  /** Waiting this long is worth one priority step. @default {10000} */
  agingMs?: number;
  /** Called when an attempt ends, for metrics. */
  onAttemptEnd?: (task: Task, outcome: "completed" | "failed" | "timed_out" | "cancelled", latencyMs: number) => void;
}

interface Running {
  task: Task;
  controller: AbortController;
  /** When the attempt times out (Date.now() milliseconds); Infinity without a timeout. */
  deadline: number;
}

/** The longest delay setTimeout takes; longer ones fire at once, so longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why an attempt's signal was aborted. */
class StopReason {
  constructor(readonly kind: "cancel" | "timeout" | "shutdown", readonly detail: string) {}
}

/** Runs tasks. */
export class Scheduler {
  #options: SchedulerOptions;
  #queues = new Map<string, ReadyQueue<Task>>();
  #limits = new Map<string, AdaptiveLimit>();
  #running = new Map<string, Running>();
  #inUse = new Map<string, number>();
  #delayed = new Map<string, { task: Task; atMs: number }>();
  #delayTimer?: ReturnType<typeof setTimeout>;
  #delayTimerAt = Infinity;
  // One timer for the nearest attempt deadline, not one per attempt: most attempts end long
  // before it, and a timer set and cleared per task was a twentieth of the daemon's CPU (bench/tasks).
  #timeoutTimer?: ReturnType<typeof setTimeout>;
  #timeoutAt = Infinity;
  #pumpQueued = false;
  #stopped = false;
  #unsubscribe: () => void;

  /** Takes over the given non-terminal tasks and starts following task changes. */
  constructor(options: SchedulerOptions, active: Task[]) {
    this.#options = options;
    for (const settings of options.classes.values()) {
      this.#queues.set(settings.name, new ReadyQueue<Task>(options.agingMs ?? 10_000));
      this.#limits.set(settings.name, new AdaptiveLimit(settings));
      this.#inUse.set(settings.name, 0);
    }
    // New tasks are heard of in their submit batch (subscribeAccepted), so a built-in task can
    // start and finish in the batch that stores it; their committed copy (pending, revision 1)
    // then brings nothing new.
    const stopAccepted = options.tasks.subscribeAccepted((task) => this.#onChange(task));
    const stopCommitted = options.tasks.subscribe((task) => {
      if (!(task.state === "pending" && task.revision === 1)) this.#onChange(task);
    });
    this.#unsubscribe = () => (stopAccepted(), stopCommitted());
    for (const task of active) this.#onChange(task);
  }

  /** The current limit and tasks running in a class. */
  usage(className: string): { capacity: number; inUse: number } {
    return { capacity: this.#limits.get(className)?.limit ?? 0, inUse: this.#inUse.get(className) ?? 0 };
  }

  /** Tasks waiting (ready or delayed) in a class. */
  queueDepth(className: string): number {
    let delayed = 0;
    for (const { task } of this.#delayed.values()) if (task.class === className) delayed++;
    return (this.#queues.get(className)?.size ?? 0) + delayed;
  }

  /** The longest wait of a ready task in a class, in seconds. */
  oldestWaitSeconds(className: string): number {
    return (this.#queues.get(className)?.oldestWaitMs(this.#options.now()) ?? 0) / 1000;
  }

  /** The adaptive limit state of a class. */
  limit(className: string): AdaptiveLimit | undefined {
    return this.#limits.get(className);
  }

  /** The class names scheduled. */
  classNames(): string[] {
    return [...this.#queues.keys()];
  }

  /**
   * Stops starting tasks and gives every running task back (uncounted) so
   * the next start runs it again; waits up to `graceMs` for attempts to end.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
    clearTimeout(this.#delayTimer);
    clearTimeout(this.#timeoutTimer);
    const running = [...this.#running.values()];
    for (const run of running) {
      const current = this.#options.tasks.get(run.task.id);
      if (current.state === "running" && current.revision === run.task.revision) {
        this.#options.tasks.apply(current, {
          type: "interrupt",
          nowMs: this.#options.now(),
          reason: "the daemon was stopped during the attempt",
        });
      }
      run.controller.abort(new StopReason("shutdown", "the daemon is stopping"));
    }
    const deadline = Date.now() + graceMs;
    while (this.#running.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #onChange(task: Task): void {
    if (this.#stopped) return;
    const queue = this.#queues.get(task.class);
    if (!queue) return;
    if (task.state === "pending" || task.state === "retrying") {
      const nowMs = this.#options.now();
      if (task.notBeforeMs > nowMs) {
        this.#delay(task);
      } else {
        queue.add(task.id, task.priority, task.state === "retrying" ? task.notBeforeMs : task.createdAtMs, task);
        this.#schedulePump();
      }
      return;
    }
    queue.remove(task.id);
    this.#delayed.delete(task.id);
    const run = this.#running.get(task.id);
    // Another writer (cancel) moved a running task on: stop its attempt.
    if (run && task.state !== "running") {
      run.controller.abort(new StopReason("cancel", task.error));
    }
  }

  #delay(task: Task): void {
    this.#delayed.set(task.id, { task, atMs: task.notBeforeMs });
    if (task.notBeforeMs < this.#delayTimerAt) this.#armDelayTimer(task.notBeforeMs);
  }

  #armDelayTimer(atMs: number): void {
    clearTimeout(this.#delayTimer);
    this.#delayTimerAt = atMs;
    this.#delayTimer = setTimeout(() => {
      this.#delayTimerAt = Infinity;
      const nowMs = this.#options.now();
      let next = Infinity;
      for (const [id, { task, atMs }] of this.#delayed) {
        if (atMs <= nowMs) {
          this.#delayed.delete(id);
          this.#queues.get(task.class)?.add(task.id, task.priority, atMs, task);
        } else next = Math.min(next, atMs);
      }
      if (next < Infinity) this.#armDelayTimer(next);
      this.#schedulePump();
    }, Math.min(MAX_TIMER_MS, Math.max(0, atMs - this.#options.now())));
  }

  /** Arms the timeout timer for `atMs` (Infinity: none). */
  #armTimeouts(atMs: number): void {
    clearTimeout(this.#timeoutTimer);
    this.#timeoutAt = atMs;
    if (atMs === Infinity) return;
    this.#timeoutTimer = setTimeout(() => {
      const nowMs = Date.now();
      let next = Infinity;
      for (const run of this.#running.values()) {
        if (run.controller.signal.aborted) continue;
        if (run.deadline <= nowMs) {
          run.controller.abort(new StopReason("timeout", `timed out after ${run.task.timeoutSeconds}s`));
        } else next = Math.min(next, run.deadline);
      }
      this.#armTimeouts(next);
    }, Math.min(MAX_TIMER_MS, Math.max(0, atMs - Date.now())));
  }

  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#stopped) return;
    const nowMs = this.#options.now();
    for (const [className, queue] of this.#queues) {
      const limit = this.#limits.get(className)!;
      while (queue.size > 0 && this.#inUse.get(className)! < limit.limit) {
        const task = queue.take(nowMs);
        if (task === undefined) break;
        this.#start(task);
      }
    }
  }

  /**
   * Starts the task as last heard of. If it changed since (a cancel not yet
   * committed), the revision guard refuses the start.
   */
  #start(task: Task): void {
    const { tasks, now } = this.#options;
    if (task.state !== "pending" && task.state !== "retrying") return;
    const started = tasks.apply(task, { type: "start", nowMs: now() });
    if (!started) return;
    const controller = new AbortController();
    const deadline = started.timeoutSeconds > 0 ? Date.now() + started.timeoutSeconds * 1000 : Infinity;
    const run: Running = { task: started, controller, deadline };
    if (deadline < this.#timeoutAt) this.#armTimeouts(deadline);
    this.#running.set(task.id, run);
    this.#inUse.set(started.class, this.#inUse.get(started.class)! + 1);
    void this.#execute(run);
  }

  async #execute(run: Running): Promise<void> {
    const { events, now, select } = this.#options;
    const task = run.task;
    const startMs = performance.now();
    let outcome: "completed" | "failed" | "timed_out" | "cancelled" = "completed";
    let next: Task | undefined;
    const choice = select(task);
    try {
      if ("reason" in choice) throw new TaskExecutionError(task.id, "none", choice.reason);
      // An attempt with effects outside the daemon (a process, a container, a runner, a Slurm
      // job) begins only once its task and its start are committed. Built-ins have none.
      if (choice.name !== "builtin") {
        await this.#options.tasks.flushed();
        if (run.controller.signal.aborted) throw run.controller.signal.reason;
      }
      const execution = await choice.executor(task, {
        attempt: task.attempts,
        signal: run.controller.signal,
        publish: (type, data) => events.publish({ type, resourceId: task.id, data: { class: task.class, ...data } }),
      });
      if (run.controller.signal.aborted) throw run.controller.signal.reason;
      const latencyMs = performance.now() - startMs;
      next = this.#finish(task, { type: "succeed", nowMs: now(), result: buildResult(task, { latencyMs, execution }) });
    } catch (error) {
      const latencyMs = performance.now() - startMs;
      const reason = run.controller.signal.aborted ? run.controller.signal.reason : undefined;
      if (reason instanceof StopReason && reason.kind !== "timeout") {
        outcome = "cancelled"; // already stored by cancel() or stop()
      } else if (error instanceof AttemptInterruptedError && !reason) {
        // Cut off by something other than the task (its worker died or gave it back): requeued unspent.
        outcome = "cancelled";
        next = this.#finish(task, { type: "interrupt", nowMs: now(), reason: error.message });
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
        const retryAtMs = nowMs + this.#backoffMs(task.attempts);
        next = this.#finish(task, { type: "fail", nowMs, error: message, result, timedOut, retryAtMs });
      }
    } finally {
      // The timeout timer stays armed even when nothing runs: re-arming it for every task that
      // finds the scheduler idle would bring back a timer per task.
      this.#running.delete(task.id);
      this.#inUse.set(task.class, this.#inUse.get(task.class)! - 1);
    }
    const latencyMs = performance.now() - startMs;
    this.#options.onAttemptEnd?.(next ?? task, outcome, latencyMs);
    if (outcome !== "cancelled") {
      this.#limits.get(task.class)?.record(outcome === "completed", latencyMs, this.queueDepth(task.class));
    }
    this.#schedulePump();
  }

  #finish(task: Task, event: Parameters<TaskService["apply"]>[1]): Task | undefined {
    if (this.#stopped) return undefined;
    // Guarded by revision: a task cancelled meanwhile is not overwritten.
    return this.#options.tasks.apply(task, event);
  }

  #backoffMs(attempt: number): number {
    return backoffMs(attempt, {
      baseMs: this.#options.retryBaseMs ?? 1000,
      maxMs: this.#options.retryMaxMs ?? 300_000,
    });
  }
}
