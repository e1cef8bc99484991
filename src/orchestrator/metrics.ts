/**
 * The orchestrator's Prometheus metrics (docs/compatibility.md §7 names) on the registry
 * the daemon gives, and the GetMetrics map (docs/compatibility.md §2.9). Gauges read the
 * scheduler at scrape time, so they are never stale.
 *
 * @module
 */

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LatencyWindow, queueWaitMs } from "./latency_window.ts";
import type { Task } from "./task.ts";

/** What the metrics read of a scheduler (either store's). */
export interface SchedulerView {
  classNames(): string[];
  usage(className: string): { capacity: number; inUse: number };
  /** The adaptive limit's state, where the scheduler has one. */
  limit(className: string): { errorRate: number; totals: { total: number } } | undefined;
  queueDepth(className: string): number;
  oldestWaitSeconds(className: string): number;
}

/** What the metrics read. */
export interface MetricsSource {
  /** The connected workers, when the worker protocol is on. */
  workers?: { list(): { state: string; slots: number; running: number }[] };
  tasks: { counts(): Readonly<Record<string, number>> };
  scheduler: SchedulerView;
}

/** Counters the orchestrator bumps as things happen. */
export interface OrchestratorMetrics {
  /** Call once per newly stored task. */
  taskSubmitted(task: Task): void;
  /** Call once per finished attempt. */
  attemptEnded(task: Task, outcome: string, latencyMs: number): void;
  /** Call once per published event. */
  eventPublished(type: string): void;
  /** The GetMetrics map: docs/compatibility.md §2.9 keys plus per-class detail and the last minute's latency. */
  snapshot(): Record<string, number>;
}

/** Registers the orchestrator's metrics on `registry`. */
export function createOrchestratorMetrics(registry: Registry, source: MetricsSource): OrchestratorMetrics {
  const registers = [registry];
  const perClass = (gauge: Gauge<"class">, read: (className: string) => number) => {
    for (const name of source.scheduler.classNames()) gauge.set({ class: name }, read(name));
  };
  new Gauge({
    name: "dspy_agent_workers",
    help: "Workers known to the daemon, by state (connected, disconnected).",
    labelNames: ["state"],
    registers,
    collect() {
      const list = source.workers?.list() ?? [];
      for (const state of ["connected", "disconnected"]) {
        this.set({ state }, list.filter((w) => w.state === state).length);
      }
    },
  });
  new Gauge({
    name: "dspy_agent_worker_slots",
    help: "Task slots of connected workers, by use (busy, free).",
    labelNames: ["use"],
    registers,
    collect() {
      const list = (source.workers?.list() ?? []).filter((w) => w.state === "connected");
      const busy = list.reduce((n, w) => n + w.running, 0);
      this.set({ use: "busy" }, busy);
      this.set({ use: "free" }, list.reduce((n, w) => n + w.slots, 0) - busy);
    },
  });
  new Gauge({
    name: "orchestrator_concurrency_limit",
    help: "Current adaptive concurrency limit of a task class.",
    labelNames: ["class"],
    registers,
    collect() {
      perClass(this, (c) => source.scheduler.usage(c).capacity);
    },
  });
  new Gauge({
    name: "orchestrator_inflight_tasks",
    help: "Tasks running now in a class.",
    labelNames: ["class"],
    registers,
    collect() {
      perClass(this, (c) => source.scheduler.usage(c).inUse);
    },
  });
  new Gauge({
    name: "env_queue_depth",
    help: "Tasks waiting to start in a class (ready, delayed or backing off).",
    labelNames: ["class"],
    registers,
    collect() {
      perClass(this, (c) => source.scheduler.queueDepth(c));
    },
  });
  new Gauge({
    name: "env_error_rate",
    help: "Share of failed attempts among a class's recent attempts.",
    labelNames: ["class"],
    registers,
    collect() {
      perClass(this, (c) => source.scheduler.limit(c)?.errorRate ?? 0);
    },
  });
  new Gauge({
    name: "gpu_wait_seconds",
    help: "How long the oldest waiting gpu task has waited.",
    registers,
    collect() {
      this.set(source.scheduler.oldestWaitSeconds("gpu"));
    },
  });
  new Gauge({
    name: "orchestrator_tasks",
    help: "Stored tasks by detailed state.",
    labelNames: ["state"],
    registers,
    collect() {
      for (const [state, n] of Object.entries(source.tasks.counts())) this.set({ state }, n);
    },
  });
  const errors = new Counter({
    name: "orchestrator_task_errors_total",
    help: "Attempts that failed or timed out.",
    labelNames: ["class"],
    registers,
  });
  const submitted = new Counter({
    name: "queue_tasks_submitted_total",
    help: "Tasks accepted since the daemon started.",
    labelNames: ["class"],
    registers,
  });
  const completed = new Counter({
    name: "queue_tasks_completed_total",
    help: "Tasks completed successfully since the daemon started.",
    labelNames: ["class"],
    registers,
  });
  const events = new Counter({
    name: "events_published_total",
    help: "Events stored and published.",
    labelNames: ["type"],
    registers,
  });
  const duration = new Histogram({
    name: "orchestrator_task_duration_seconds",
    help: "Run time of task attempts.",
    labelNames: ["class", "outcome"],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800],
    registers,
  });
  const wait = new Histogram({
    name: "orchestrator_task_queue_wait_seconds",
    help: "Time from a task being ready (submitted, or its not-before or retry time) to its attempt's start.",
    labelNames: ["class"],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800],
    registers,
  });
  const recent = new LatencyWindow();
  let submittedCount = 0;
  let completedCount = 0;
  let eventCount = 0;
  return {
    taskSubmitted(task) {
      submitted.inc({ class: task.class });
      submittedCount++;
    },
    attemptEnded(task, outcome, latencyMs) {
      duration.observe({ class: task.class, outcome }, latencyMs / 1000);
      const waitMs = queueWaitMs(task);
      if (!Number.isNaN(waitMs)) wait.observe({ class: task.class }, waitMs / 1000);
      recent.record(Date.now(), latencyMs, waitMs);
      if (outcome === "failed" || outcome === "timed_out") errors.inc({ class: task.class });
      if (outcome === "completed") {
        completed.inc({ class: task.class });
        completedCount++;
      }
    },
    eventPublished(type) {
      events.inc({ type });
      eventCount++;
    },
    snapshot() {
      const counts = source.tasks.counts();
      const out: Record<string, number> = {
        tasks_pending: (counts.pending ?? 0) + (counts.retrying ?? 0),
        tasks_running: counts.running ?? 0,
        tasks_completed: counts.completed ?? 0,
        tasks_failed: (counts.failed ?? 0) + (counts.cancelled ?? 0) + (counts.timed_out ?? 0),
        tasks_cancelled: counts.cancelled ?? 0,
        tasks_timed_out: counts.timed_out ?? 0,
        tasks_tracked_total: Object.values(counts).reduce((a, b) => a + b, 0),
        queue_tasks_submitted_total: submittedCount,
        queue_tasks_completed_total: completedCount,
        events_published_total: eventCount,
        gpu_wait_seconds: source.scheduler.oldestWaitSeconds("gpu"),
      };
      let limit = 0, depth = 0, errorsRecent = 0, windows = 0;
      for (const name of source.scheduler.classNames()) {
        const usage = source.scheduler.usage(name);
        const classLimit = source.scheduler.limit(name);
        const classDepth = source.scheduler.queueDepth(name);
        out[`concurrency_limit.${name}`] = usage.capacity;
        out[`inflight.${name}`] = usage.inUse;
        out[`queue_depth.${name}`] = classDepth;
        out[`error_rate.${name}`] = classLimit?.errorRate ?? 0;
        limit += usage.capacity;
        depth += classDepth;
        if (classLimit && classLimit.totals.total > 0) {
          errorsRecent += classLimit.errorRate;
          windows++;
        }
      }
      // Latency of the attempts that ended in the last minute (the dashboard's chart); zeros when none did.
      const latency = recent.summary(Date.now());
      out.task_latency_window_attempts = latency.attempts;
      out.task_run_seconds_p50 = latency.runP50;
      out.task_run_seconds_p95 = latency.runP95;
      out.task_wait_seconds_p50 = latency.waitP50;
      out.task_wait_seconds_p95 = latency.waitP95;
      // Summaries over all classes, under the keys existing clients read.
      out.concurrency_limit = limit;
      out.env_queue_depth = depth;
      out.task_error_rate = windows ? errorsRecent / windows : 0;
      return out;
    },
  };
}
