/*
 * A work queue of object keys, in the manner of client-go's workqueue: a key waits at most once,
 * is never worked on by two workers at once (a key added while it is being worked on is worked on
 * again afterwards), can be added after a delay, and failing keys back off exponentially, per key.
 */

export interface WorkQueueOptions {
  /** Keys worked on at once. @default 2 */
  readonly workers?: number;
  /** Most keys waiting; more are dropped (and counted), for the next resync to find. @default 10000 */
  readonly maxLength?: number;
  /** First wait after a failure; it doubles with each failure of the same key. @default 1000 */
  readonly baseDelayMs?: number;
  /** Longest wait after failures. @default 300000 */
  readonly maxDelayMs?: number;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private worker?: (key: string) => Promise<void>;
  private shuttingDown = false;
  /** Keys dropped because the queue was full. */
  public dropped = 0;

  constructor(private readonly options: WorkQueueOptions = {}) {}

  /** Keys waiting to be worked on. */
  public get length(): number {
    return this.waiting.length;
  }

  public add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    if (this.queued.size >= (this.options.maxLength ?? 10_000)) {
      this.dropped++;
      return;
    }
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  /** Adds the key after `ms`; an earlier pending add of the same key wins. */
  public addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds the key after its backoff, which doubles with each failure until `forget`. */
  public addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const base = this.options.baseDelayMs ?? 1000;
    this.addAfter(key, Math.min(this.options.maxDelayMs ?? 300_000, base * 2 ** n));
  }

  /** The key succeeded: its next failure starts from the first wait again. */
  public forget(key: string): void {
    this.failures.delete(key);
  }

  /** Failures of the key since it last succeeded. */
  public failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Starts working: `worker` is called for each key, by up to `workers` at once. */
  public run(worker: (key: string) => Promise<void>): void {
    this.worker = worker;
    this.pump();
  }

  /** Resolves when nothing waits and nothing is being worked on (delayed keys do not count). */
  public idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys, drops delayed ones, and resolves when the keys in work are done. */
  public async shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.processing.size === 0;
  }

  private pump(): void {
    const worker = this.worker;
    if (!worker) return;
    while (this.waiting.length && this.processing.size < (this.options.workers ?? 2)) {
      const key = this.waiting.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      void worker(key)
        .catch(() => undefined) // the worker reports its own failures
        .finally(() => {
          this.processing.delete(key);
          if (this.dirty.delete(key)) this.add(key);
          this.pump();
          if (this.isIdle()) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}
