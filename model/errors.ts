/*
 * The one error type of Converge: a failure the user can act on, carrying the exit code the
 * `converge` command ends with. Subclasses add the data their messages are built from; callers tell
 * errors apart by type (`instanceof`), never by a `name` string.
 */

/** Exit codes shared by every command. `converge drift` adds 3 and 4 for medium and high drift. */
export const EXIT = { ok: 0, violations: 1, badInput: 2, internal: 70 } as const;

/** A failure whose message is the whole report: one line per problem, no stack trace. */
export class ConvergeError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number = EXIT.badInput,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input on the command line: a flag, an argument, a file it names. */
export class UsageError extends ConvergeError {}

/** One or more bad values in a config file; each line of the message is one complete error. */
export class ConfigError extends ConvergeError {
  constructor(public readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** A value that breaks a rule; the message quotes the prop, the value, the rule and the fix. */
export class ValidationError extends ConvergeError {
  constructor(
    public readonly path: string,
    public readonly value: unknown,
    public readonly rule: string,
  ) {
    super(`'${path}' is ${showValue(value)}; ${rule}`);
  }
}

/** A value as a message shows it: strings quoted, long values cut. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A Node system error: a failed file, socket or process call, with its `code` (ENOENT, ...). */
export interface SystemError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  readonly address?: string;
  readonly port?: number;
}

/** By shape, not `instanceof Error`: Node's own errors come from another realm under jest and vm. */
export function isSystemError(err: unknown): err is SystemError {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.message === 'string' &&
    typeof e.code === 'string' &&
    /^E[A-Z0-9_]+$/.test(e.code)
  );
}

/** What each common code means and what to do about it, for a one-line message. */
const SYSTEM_ERRORS: Record<string, { says: string; fix: string }> = {
  ENOENT: { says: 'does not exist', fix: 'check the path, or create it' },
  EACCES: { says: 'is not accessible (permission denied)', fix: 'fix its permissions or run as its owner' },
  EPERM: {
    says: 'is not permitted (operation not permitted)',
    fix: 'fix its permissions or run as its owner',
  },
  EISDIR: { says: 'is a folder, not a file', fix: 'pass the file inside it' },
  ENOTDIR: { says: 'is not a folder (a part of the path is a file)', fix: 'pass a folder' },
  EEXIST: { says: 'already exists', fix: 'move it away or pick another path' },
  ENOTEMPTY: { says: 'is not empty', fix: 'empty it or pick another path' },
  ENOSPC: { says: 'cannot be written: no space left on the device', fix: 'free some space' },
  EROFS: { says: 'is on a read-only file system', fix: 'pick a writable path' },
  EMFILE: { says: 'cannot be opened: too many open files', fix: 'raise the limit (ulimit -n) and retry' },
  ENAMETOOLONG: { says: 'has a name that is too long', fix: 'use a shorter path' },
  ELOOP: { says: 'has a symbolic link loop', fix: 'fix the links' },
  EADDRINUSE: { says: 'is already in use', fix: 'stop what listens there or pick another port' },
  EADDRNOTAVAIL: { says: 'is not an address of this machine', fix: 'pass a local address' },
  ECONNREFUSED: { says: 'refused the connection', fix: 'is it up? check the address' },
  ECONNRESET: { says: 'closed the connection', fix: 'retry, and check the server' },
  ETIMEDOUT: { says: 'did not answer in time', fix: 'check the address and the network' },
  ENOTFOUND: { says: 'is an unknown host name', fix: 'check the address and DNS' },
  EHOSTUNREACH: { says: 'cannot be reached', fix: 'check the address and the network' },
  EPIPE: { says: 'closed its end early', fix: 'retry' },
};

/**
 * A system error as one line: what it was done to (path, address or command), what failed and the
 * fix, e.g. `/tmp/x: open: is a folder, not a file; pass the file inside it`. Node's own messages
 * say the same less clearly and repeat the path.
 */
export function systemErrorLine(err: SystemError, name?: string): string {
  const what =
    name ??
    err.path ??
    (err.address !== undefined
      ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}`
      : (/'([^']+)'/.exec(err.message)?.[1] ?? err.syscall ?? 'a system call'));
  const known = SYSTEM_ERRORS[err.code];
  const call = err.syscall ? `${err.syscall.replace(/^spawn\s.*/, 'spawn')}: ` : '';
  if (err.code === 'ENOENT' && err.syscall?.startsWith('spawn'))
    return `${what}: the program is not installed or not on PATH (${err.code}); install it or fix PATH`;
  return known
    ? `${what}: ${call}${known.says} (${err.code}); ${known.fix}`
    : `${what}: ${call}failed (${err.code}: ${firstLine(err.message)}); check it and retry`;
}

/** The first line of a message, without trailing punctuation noise. */
export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
}
