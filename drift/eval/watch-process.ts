import { ChildProcess, spawn } from 'node:child_process';
import { UsageError } from '../../model/errors';

/** `converge watch` as its own process, as an operator runs it: started, waited for, stopped. */
export class WatchProcess {
  private child?: ChildProcess;
  private output = '';

  /** `command`: how to run `converge` (node and the entry point the caller was started from). */
  constructor(
    private readonly command: readonly string[],
    private readonly args: readonly string[],
  ) {}

  /** Starts it and resolves once its first full check is done. */
  public async start(timeoutMs = 180_000): Promise<void> {
    this.output = '';
    const [program, ...rest] = this.command;
    const child = spawn(program, [...rest, 'watch', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const take = (d: Buffer) => {
      // Only the tail is kept: enough for a failure's last line.
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(
          new UsageError(
            `converge watch was not ready within ${timeoutMs / 1000} s; its last line: ${this.lastLine()}`,
          ),
        );
      }, timeoutMs);
      const poll = setInterval(() => {
        if (this.output.includes('initial check done')) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearInterval(poll);
          clearTimeout(timer);
          reject(
            new UsageError(
              `converge watch exited ${child.exitCode ?? child.signalCode} before it was ready: ${this.lastLine()}`,
            ),
          );
        }
      }, 50);
    });
  }

  private lastLine(): string {
    return this.output.trim().split('\n').pop() ?? '(no output)';
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  public async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(late);
  }
}
