import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';

/*
 * Shared by the error-path and fuzz tests: run the CLI in-process, capture what it printed, and
 * write kubeconfigs that fail in one known way each.
 */

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A password the kubeconfigs of these tests carry (token, server URL); no output may show it. */
export const SENTINEL_PASSWORD = 'sentinel-pw-6c1e9f0b';

const printed: string[] = [];
/** Everything every cli() call of this test file printed, stdout and stderr. */
export const everythingPrinted = (): string => printed.join('\n');

/** Runs `converge <args>` in-process; stdout and stderr as the lines console.log/error printed. */
export async function cli(...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...p: unknown[]) => out.push(p.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...p: unknown[]) => err.push(p.join(' ')));
  // commander writes help to process.stdout directly.
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk).replace(/\n$/, ''));
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    printed.push(...out, ...err);
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
    writeErr.mockRestore();
    // The commands set it, as the binary does; the test process must not end with it.
    process.exitCode = undefined;
  }
}

/** Exit 2 and exactly one stderr line, `converge: ` first, no stack frame, containing every part. */
export function expectFailure(result: CliResult, ...parts: string[]): string {
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toContain('internal error');
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^converge: /);
  for (const part of parts) expect(lines[0]).toContain(part);
  expect(result.code).toBe(2);
  return lines[0];
}

export function scratch(prefix = 'converge-err-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface KubeconfigShape {
  readonly server?: string;
  readonly insecure?: boolean;
  readonly currentContext?: string | null;
  readonly contextCluster?: string;
}

/** A kubeconfig with one cluster `c`, one user and one context `local`. */
export function writeKubeconfig(path: string, shape: KubeconfigShape = {}): string {
  const server = shape.server ?? 'https://127.0.0.1:1';
  const insecure = shape.insecure ? ', insecure-skip-tls-verify: true' : '';
  const current = shape.currentContext === undefined ? 'local' : shape.currentContext;
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: ${JSON.stringify(server)}${insecure}}}]`,
      `users: [{name: me, user: {token: ${SENTINEL_PASSWORD}}}]`,
      `contexts: [{name: local, context: {cluster: ${shape.contextCluster ?? 'c'}, user: me}}]`,
      ...(current === null ? [] : [`current-context: ${current}`]),
    ].join('\n'),
  );
  return path;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
