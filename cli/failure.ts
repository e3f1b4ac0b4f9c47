import { Command, CommanderError } from 'commander';
import { YAMLError } from 'yaml';
import { ConvergeError, EXIT, firstLine, isSystemError, systemErrorLine } from '../model/errors';
import { redactCredentials } from '../model/urls';

/*
 * How `converge` ends when something throws: one line per problem, each starting `converge: `,
 * exit 2 for anything the user can act on (bad input, a file, a socket, a program), and exit 70
 * only for a bug in Converge, whose stack is shown only with CONVERGE_DEBUG=1.
 */

export interface FailureReport {
  readonly lines: readonly string[];
  readonly code: number;
}

const PREFIX = 'converge: ';
const debug = () => process.env.CONVERGE_DEBUG === '1';

/** The lines to print and the exit code for an error thrown by a command or by commander. */
export function failureReport(err: unknown, program: Command, argv: readonly string[]): FailureReport {
  const report = rawReport(err, program, argv);
  // The last guard of "secrets stay secret": a URL's password in any message, foreseen or not, is cut.
  return { ...report, lines: report.lines.map(redactCredentials) };
}

function rawReport(err: unknown, program: Command, argv: readonly string[]): FailureReport {
  if (err instanceof CommanderError) return commanderReport(err, program, argv);
  const lines = userLines(err);
  if (lines) {
    const code = err instanceof ConvergeError ? err.exitCode : EXIT.badInput;
    return { lines: [...lines.map((l) => PREFIX + l), ...stack(err)], code };
  }
  const e = err as { message?: unknown; name?: unknown } | null;
  const message =
    typeof e === 'object' && e !== null && typeof e.message === 'string'
      ? firstLine(e.message) || String(e.name)
      : String(err);
  return {
    lines: [
      `${PREFIX}internal error: ${message}; this is a bug in converge: rerun with CONVERGE_DEBUG=1 for the stack trace and report it`,
      ...stack(err),
    ],
    code: EXIT.internal,
  };
}

/** The stack, only when asked for: users see one line, developers can still see where. */
function stack(err: unknown): string[] {
  const trace = (err as { stack?: unknown } | null)?.stack;
  return debug() && typeof trace === 'string' ? [trace] : [];
}

/** The message lines of an error the user can act on; undefined for a bug. */
function userLines(err: unknown): string[] | undefined {
  if (err instanceof ConvergeError) return err.message.split('\n').filter((l) => l !== '');
  if (isSystemError(err)) return [systemErrorLine(err)];
  if (err instanceof YAMLError)
    return [`not valid YAML: ${firstLine(err.message)}; fix the syntax of the file the command reads`];
  // yaml's alias limit ("billion laughs") throws a plain ReferenceError.
  if (err instanceof ReferenceError && /alias count/i.test(err.message))
    return [
      'a YAML file expands too many aliases (a "billion laughs" file); write its values out instead of nesting aliases',
    ];
  return undefined;
}

/** Commander's rejections as one line with the usage hint; help and version are successes. */
function commanderReport(err: CommanderError, program: Command, argv: readonly string[]): FailureReport {
  if (err.exitCode === 0) return { lines: [], code: EXIT.ok };
  // `converge` alone: commander has printed the usage already.
  if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed')
    return { lines: [], code: EXIT.badInput };
  const parts = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const commands = program.commands.map((c) => c.name());
  if (err.code === 'commander.unknownCommand')
    return {
      lines: [`${PREFIX}${parts.join(' ')}; commands: ${commands.join(', ')}`],
      code: EXIT.badInput,
    };
  const command = argv[0] !== undefined && commands.includes(argv[0]) ? `converge ${argv[0]}` : 'converge';
  return {
    lines: [`${PREFIX}${parts.join(' ')}; run \`${command} --help\` for usage`],
    code: EXIT.badInput,
  };
}
