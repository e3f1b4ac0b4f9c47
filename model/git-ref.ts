import type { Check } from './validators';

/*
 * Git revisions as Argo CD resolves `targetRevision` against a Git repo: a branch or tag name
 * (which `git check-ref-format` must accept), a commit hash, or HEAD. Hand-written: it mirrors
 * the rules of git's refs.c check_refname_format, which no maintained JS library exposes.
 */

const HEX_COMMIT = /^[0-9a-f]{7,40}$/i;

/** Why `git check-ref-format --allow-onelevel` refuses `name`, or undefined when git accepts it. */
export function refFormatProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name === '@') return 'git does not allow "@" alone';
  if (/[\x00-\x20\x7f]/.test(name)) return 'it has a space or a control character';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad) return `it has "${bad[0]}", which git does not allow in a ref (none of ~ ^ : ? * [ \\)`;
  if (name.includes('..')) return 'it has ".."';
  if (name.includes('@{')) return 'it has "@{"';
  if (name.includes('//')) return 'it has "//"';
  if (name.startsWith('/') || name.endsWith('/')) return 'it starts or ends with "/"';
  if (name.endsWith('.')) return 'it ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `its part "${component}" starts with "."`;
    if (component.endsWith('.lock')) return `its part "${component}" ends with ".lock"`;
  }
  return undefined;
}

/** A branch, tag, commit (7-40 hex digits) or HEAD. */
export const isGitRevision: Check<string> = (value) => {
  if (typeof value !== 'string') return 'it must be a branch, tag or commit';
  if (value === 'HEAD' || HEX_COMMIT.test(value)) return undefined;
  const problem = refFormatProblem(value);
  return problem === undefined
    ? undefined
    : `${problem}; it must be a Git branch, tag or commit that \`git check-ref-format\` accepts, e.g. "main", "v1.5.0" or a commit hash`;
};
