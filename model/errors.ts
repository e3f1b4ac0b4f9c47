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
