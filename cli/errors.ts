/** Exit codes of every `converge` command. */
export const EXIT = { ok: 0, violations: 1, badInput: 2 } as const;

/** Bad input from the command line or a config file: reported as one line each, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Errors that are the user's to fix: their message is the whole report. The cluster's own answers
 * (unreachable, 401, 403, a missing kind) are in the kubeconfig's or the cluster's hands, not ours.
 */
const INPUT_ERRORS = new Set([
  'UsageError',
  'ConfigError',
  'ValidationError',
  'UpstreamMissingError',
  'KubeApiError',
]);

export function isInputError(err: unknown): err is Error {
  return err instanceof Error && INPUT_ERRORS.has(err.name);
}
