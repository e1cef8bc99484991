/**
 * The workers connected to this daemon and the tasks leased to them (the worker protocol,
 * `proto/worker/v1/worker.proto`). Tasks are pushed, never polled: an attempt for a worker task waits here until a
 * worker that handles its type (and carries its required labels) has a free slot, is leased to it, and ends when the
 * worker completes, fails or releases it, or when the lease expires (the worker died or lost the network). An
 * expired or released lease interrupts the attempt (requeued without spending its attempts); a report naming a lease
 * that is no longer current is refused, so one outcome is recorded per attempt.
 *
 * @module
 */
import { BoundedQueue } from "../../async/mod.ts";
import { AttemptInterruptedError, TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";

/** What the daemon pushes to a worker. */
export type WorkerPush =
  | {
    kind: "assignment";
    taskId: string;
    leaseId: string;
    taskType: string;
    payloadJson: string;
    attempt: number;
    maxAttempts: number;
    deadlineMs: number;
    labels: Record<string, string>;
    workflowId: string;
  }
  | { kind: "cancel"; taskId: string; leaseId: string; reason: string };

/** A worker as ListWorkers shows it. */
export interface WorkerInfo {
  workerId: string;
  name: string;
  address: string;
  taskTypes: string[];
  slots: number;
  running: number;
  labels: Record<string, string>;
  registeredAtMs: number;
  lastHeartbeatMs: number;
  state: "connected" | "silent" | "disconnected";
  runningTaskIds: string[];
  clientVersion: string;
}

/** The outcome of an attempt that a worker completed. */
export interface WorkerOutcome {
  output: unknown;
  workerId: string;
}

interface Lease {
  leaseId: string;
  task: Task;
  worker: WorkerEntry;
  expiresAtMs: number;
  resolve: (outcome: WorkerOutcome) => void;
  reject: (error: unknown) => void;
}

/** An attempt waiting for a worker with a free slot. */
interface WaitingAttempt {
  task: Task;
  signal: AbortSignal;
  resolve: (outcome: WorkerOutcome) => void;
  reject: (error: unknown) => void;
  onAbort: () => void;
}

interface WorkerEntry {
  info: Omit<WorkerInfo, "running" | "runningTaskIds" | "state">;
  leases: Map<string, Lease>;
  pushes: BoundedQueue<WorkerPush>;
  listeners: number;
}

/** Options of {@linkcode WorkerRegistry}. */
export interface WorkerRegistryOptions {
  /** How long a lease lives without a heartbeat. @default {10000} */
  leaseMs?: number;
  /** How often workers are asked to heartbeat. @default {a third of the lease, at most 2000} */
  heartbeatMs?: number;
  /** The clock. @default {Date.now} */
  now?: () => number;
}

/** Pushes queued for one worker before it counts as not reading (its stream then ends). */
const PUSH_BUFFER = 10_000;

/** The registry of one daemon's workers. */
export class WorkerRegistry {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  #now: () => number;
  #workers = new Map<string, WorkerEntry>();
  /** Attempts waiting for a worker, oldest first; matched to free slots whenever one frees or a worker arrives. */
  #waiting: WaitingAttempt[] = [];
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  /** Marks the lease ids this registry issues, apart from those another daemon of a shared store issued. */
  #issuer = crypto.randomUUID().slice(0, 8);

  /** Starts the lease clock. */
  constructor(options: WorkerRegistryOptions = {}) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.min(2_000, Math.floor(this.leaseMs / 3));
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.#expire(), Math.min(1000, this.leaseMs / 4));
  }

  /** Stops the lease clock; every open lease is interrupted (the daemon is stopping). */
  close(): void {
    clearInterval(this.#timer);
    this.#closed = true;
    for (const waiting of this.#waiting.splice(0)) {
      waiting.signal.removeEventListener("abort", waiting.onAbort);
      waiting.reject(new AttemptInterruptedError("the daemon stopped"));
    }
    for (const worker of this.#workers.values()) {
      for (const lease of [...worker.leases.values()]) {
        this.#end(lease, new AttemptInterruptedError("the daemon stopped"));
      }
    }
  }

  /** Registers a worker (again, after a reconnect, with its earlier id); returns its id. */
  register(input: {
    name: string;
    taskTypes: string[];
    slots: number;
    labels: Record<string, string>;
    workerId?: string;
    address: string;
    clientVersion: string;
  }): string {
    const known = input.workerId ? this.#workers.get(input.workerId) : undefined;
    const workerId = known ? input.workerId! : crypto.randomUUID();
    const info = {
      workerId,
      name: input.name,
      address: input.address,
      taskTypes: [...new Set(input.taskTypes)],
      slots: input.slots,
      labels: input.labels,
      registeredAtMs: known?.info.registeredAtMs ?? this.#now(),
      lastHeartbeatMs: this.#now(),
      clientVersion: input.clientVersion,
    };
    if (known) known.info = info;
    else this.#workers.set(workerId, { info, leases: new Map(), pushes: new BoundedQueue(PUSH_BUFFER), listeners: 0 });
    this.#wake();
    return workerId;
  }

  /** True when some registered worker handles the task's type: the task goes to workers. */
  handles(task: Task): boolean {
    const type = task.payload.task_type;
    if (typeof type !== "string") return false;
    for (const worker of this.#workers.values()) if (worker.info.taskTypes.includes(type)) return true;
    return false;
  }

  /**
   * Runs one attempt of `task` on a worker: waits for a free slot of a worker that handles it, leases it, and
   * resolves with the worker's result. Rejects with TaskExecutionError when the worker fails it, with
   * AttemptInterruptedError when the lease ends otherwise, and with the signal's reason on cancel or timeout.
   */
  assign(task: Task, signal: AbortSignal): Promise<WorkerOutcome> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiting: WaitingAttempt = {
        task,
        signal,
        resolve,
        reject,
        onAbort: () => {
          const at = this.#waiting.indexOf(waiting);
          if (at >= 0) this.#waiting.splice(at, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener("abort", waiting.onAbort, { once: true });
      this.#waiting.push(waiting);
      this.#wake();
    });
  }

  /** The pushes of one worker, while `signal` lives; ends (undefined) for an unknown worker. */
  async *listen(workerId: string, signal: AbortSignal): AsyncGenerator<WorkerPush> {
    const worker = this.#workers.get(workerId);
    if (!worker) return;
    worker.listeners++;
    worker.info.lastHeartbeatMs = this.#now();
    this.#wake();
    try {
      while (!signal.aborted) {
        const next = await worker.pushes.take(signal);
        if (next.kind !== "item") return;
        yield next.item;
      }
    } finally {
      worker.listeners--;
    }
  }

  /** Renews the worker's leases; returns those of `leaseIds` it no longer holds. */
  heartbeat(workerId: string, leaseIds: string[]): string[] | undefined {
    const worker = this.#workers.get(workerId);
    if (!worker) return undefined;
    const now = this.#now();
    const wasSilent = this.#silent(worker, now);
    worker.info.lastHeartbeatMs = now;
    if (wasSilent) this.#wake();
    for (const lease of worker.leases.values()) lease.expiresAtMs = now + this.leaseMs;
    return leaseIds.filter((id) => !worker.leases.has(id));
  }

  /** Whether this registry issued `leaseId` (else another daemon sharing the store did, or nobody). */
  issued(leaseId: string): boolean {
    return leaseId.split(".")[1] === this.#issuer;
  }

  /** Whether `leaseId` is the current lease of `taskId` on `workerId`; stop=true when it is not. */
  holds(workerId: string, taskId: string, leaseId: string): boolean {
    const lease = this.#workers.get(workerId)?.leases.get(leaseId);
    return lease !== undefined && lease.task.id === taskId;
  }

  /** Ends a lease with the worker's result; false (nothing recorded) when the lease is not current. */
  complete(workerId: string, taskId: string, leaseId: string, resultJson: string): boolean {
    const lease = this.#current(workerId, taskId, leaseId);
    if (!lease) return false;
    let output: unknown;
    try {
      output = resultJson === "" ? null : JSON.parse(resultJson);
    } catch {
      output = resultJson;
    }
    this.#end(lease, undefined, { output, workerId });
    return true;
  }

  /** Ends a lease with the worker's failure. */
  fail(workerId: string, taskId: string, leaseId: string, error: string, errorType: string): boolean {
    const lease = this.#current(workerId, taskId, leaseId);
    if (!lease) return false;
    const message = errorType ? `${errorType}: ${error}` : error;
    this.#end(lease, new TaskExecutionError(taskId, "worker", message, { metadata: { worker_id: workerId } }));
    return true;
  }

  /** Ends a lease the worker gives back: the task is requeued without spending an attempt. */
  release(workerId: string, taskId: string, leaseId: string, reason: string): boolean {
    const lease = this.#current(workerId, taskId, leaseId);
    if (!lease) return false;
    this.#end(lease, new AttemptInterruptedError(`worker "${lease.worker.info.name}" gave the task back: ${reason}`));
    return true;
  }

  /** Removes a worker; its unfinished leases are interrupted at once. */
  deregister(workerId: string): void {
    const worker = this.#workers.get(workerId);
    if (!worker) return;
    for (const lease of [...worker.leases.values()]) {
      this.#end(lease, new AttemptInterruptedError(`worker "${worker.info.name}" left`));
    }
    this.#workers.delete(workerId);
  }

  /** Every known worker. */
  list(): WorkerInfo[] {
    return [...this.#workers.values()].map((w) => ({
      ...w.info,
      running: w.leases.size,
      runningTaskIds: [...w.leases.values()].map((l) => l.task.id),
      state: w.listeners === 0 ? "disconnected" : this.#silent(w, this.#now()) ? "silent" : "connected",
    }));
  }

  /** A worker whose heartbeats stopped for a lease's length: it gets no tasks until it beats again. */
  #silent(worker: WorkerEntry, now: number): boolean {
    return now - worker.info.lastHeartbeatMs >= this.leaseMs;
  }

  #pick(task: Task): WorkerEntry | undefined {
    const type = task.payload.task_type;
    const wanted = Object.entries(task.labels ?? {}).filter(([k]) => k.startsWith("worker."));
    const now = this.#now();
    let best: WorkerEntry | undefined;
    for (const worker of this.#workers.values()) {
      if (worker.listeners === 0 || typeof type !== "string" || !worker.info.taskTypes.includes(type)) continue;
      if (this.#silent(worker, now)) continue;
      if (worker.leases.size >= worker.info.slots) continue;
      if (!wanted.every(([k, v]) => worker.info.labels[k.slice(7)] === v)) continue;
      // Fairly across workers: the one with the most free slots.
      if (!best || worker.info.slots - worker.leases.size > best.info.slots - best.leases.size) best = worker;
    }
    return best;
  }

  #lease(worker: WorkerEntry, waiting: WaitingAttempt): void {
    const { task, signal, resolve, reject } = waiting;
    signal.removeEventListener("abort", waiting.onAbort);
    // The id starts with the task's revision at the claim: on a shared store another daemon can then fence a report
    // the worker sends it after this daemon died (see leaseRevision).
    const leaseId = `${task.revision}.${this.#issuer}.${crypto.randomUUID()}`;
    const lease: Lease = { leaseId, task, worker, expiresAtMs: this.#now() + this.leaseMs, resolve, reject };
    worker.leases.set(leaseId, lease);
    const onAbort = () => {
      if (!worker.leases.has(leaseId)) return;
      worker.pushes.push({ kind: "cancel", taskId: task.id, leaseId, reason: String(signal.reason?.message ?? "") });
      this.#end(lease, signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const { task_type: _, ...payload } = task.payload;
    worker.pushes.push({
      kind: "assignment",
      taskId: task.id,
      leaseId,
      taskType: String(task.payload.task_type),
      payloadJson: JSON.stringify(payload),
      attempt: task.attempts,
      maxAttempts: task.maxAttempts,
      deadlineMs: task.timeoutSeconds > 0 ? task.startedAtMs + task.timeoutSeconds * 1000 : 0,
      labels: task.labels,
      workflowId: task.workflowId,
    });
  }

  #current(workerId: string, taskId: string, leaseId: string): Lease | undefined {
    const lease = this.#workers.get(workerId)?.leases.get(leaseId);
    return lease && lease.task.id === taskId ? lease : undefined;
  }

  #end(lease: Lease, error?: unknown, outcome?: WorkerOutcome): void {
    if (!lease.worker.leases.delete(lease.leaseId)) return;
    if (error !== undefined) lease.reject(error);
    else lease.resolve(outcome!);
    this.#wake();
  }

  #expire(): void {
    const now = this.#now();
    for (const worker of this.#workers.values()) {
      for (const lease of [...worker.leases.values()]) {
        if (lease.expiresAtMs <= now) {
          this.#end(
            lease,
            new AttemptInterruptedError(`worker "${worker.info.name}" stopped renewing its lease (${this.leaseMs} ms)`),
          );
        }
      }
    }
  }

  /**
   * Matches waiting attempts to free slots, oldest first. Stops as soon as no worker has a free slot, so a freed slot
   * costs one pass over the attempts that wait, and none when every worker is busy.
   */
  #wake(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#waiting.length && this.#anyFreeSlot();) {
      const worker = this.#pick(this.#waiting[i].task);
      if (!worker) {
        i++;
        continue;
      }
      const [waiting] = this.#waiting.splice(i, 1);
      this.#lease(worker, waiting);
    }
  }

  #anyFreeSlot(): boolean {
    for (const worker of this.#workers.values()) {
      if (worker.listeners > 0 && worker.leases.size < worker.info.slots) return true;
    }
    return false;
  }
}

/** The task revision a lease id was made at (the attempt it names), or undefined for an id not made here. */
export function leaseRevision(leaseId: string): number | undefined {
  const match = /^(\d{1,15})\.[0-9a-f]{8}\.[0-9a-f-]{36}$/.exec(leaseId);
  return match ? Number(match[1]) : undefined;
}
