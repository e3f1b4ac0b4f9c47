/**
 * Pure validators shared by the constructs (checked at construction) and the config schema
 * (checked when `Pulumi.<env>.yaml` is read). Each returns `undefined` when the value is fine,
 * or the rule: what is allowed and how to fix it.
 */

import { ValidationError } from './errors';

export type Check<T> = (value: T) => string | undefined;

/** Throws a `ValidationError` when `check` rejects `value`; returns the value otherwise. */
export function validate<T>(path: string, value: T, check: Check<T>): T {
  const rule = check(value);
  if (rule !== undefined) throw new ValidationError(path, value, rule);
  return value;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const DURATION = /^([0-9]+(ms|s|m|h))+$/;

export const isDnsLabel: Check<string> = (value) =>
  typeof value === 'string' && value.length <= 63 && DNS_LABEL.test(value)
    ? undefined
    : 'it must be a DNS label (lowercase letters, digits and \'-\', at most 63 characters, starting and ending with a letter or digit); rename it, e.g. "team-a"';

export const isDnsSubdomain: Check<string> = (value) =>
  typeof value === 'string' && value.length <= 253 && DNS_SUBDOMAIN.test(value)
    ? undefined
    : "it must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters); rename it, e.g. \"app-service\"";

export const isImageTag: Check<string> = (value) =>
  typeof value === 'string' && IMAGE_TAG.test(value)
    ? undefined
    : "it must be an image tag (letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'); use a release tag such as \"1.4.2\"";

export const isImageRepository: Check<string> = (value) =>
  typeof value === 'string' && value.length <= 255 && IMAGE_REPOSITORY.test(value)
    ? undefined
    : 'it must be an image repository without tag or digest (lowercase, e.g. "ghcr.io/acme/app-service"); put the tag under \'tag\'';

export const isDuration: Check<string> = (value) =>
  typeof value === 'string' && DURATION.test(value)
    ? undefined
    : 'it must be a duration such as "30s", "3m" or "1h30m"; write a number followed by ms, s, m or h';

export function isIntegerInRange(min: number, max: number, fix: string): Check<number> {
  return (value) =>
    Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `it must be an integer from ${min} to ${max}; ${fix}`;
}

export const isPositiveInteger = (fix: string): Check<number> =>
  isIntegerInRange(1, Number.MAX_SAFE_INTEGER, fix);

export const isNonNegativeInteger = (fix: string): Check<number> =>
  isIntegerInRange(0, Number.MAX_SAFE_INTEGER, fix);

export const isGitRepoUrl: Check<string> = (value) =>
  typeof value === 'string' && /^(https?:\/\/|git:\/\/|ssh:\/\/|file:\/\/|git@[^:]+:).+/.test(value)
    ? undefined
    : 'it must be a Git URL (https://, ssh://, git://, file:// or git@host:path); use the URL you would `git clone`';

export const isNonEmptyString: Check<string> = (value) =>
  typeof value === 'string' && value.trim().length > 0 ? undefined : 'it must be a non-empty string';

/** A repo an AppProject lists in `sourceRepos`: one Git URL, never a wildcard. */
export const isProjectSourceRepo: Check<string> = (value) =>
  typeof value === 'string' && value.includes('*')
    ? 'wildcards allow any repo; list each repo URL'
    : isGitRepoUrl(value);

/** A Git branch, tag or commit (see git-ref.ts). */
export { isGitRevision } from './git-ref';

const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** An API group as Kubernetes names it, "" for the core group; a wildcard gets `onWildcard`. */
export function isApiGroup(onWildcard: string): Check<string> {
  return (value) =>
    typeof value === 'string' && value.includes('*')
      ? onWildcard
      : value === '' || (typeof value === 'string' && value.length <= 253 && GROUP.test(value))
        ? undefined
        : 'it must be an API group such as "apiextensions.k8s.io", or "" for the core group';
}

/** A kind as the API names it, e.g. "CustomResourceDefinition"; a wildcard gets `onWildcard`. */
export function isKind(onWildcard: string): Check<string> {
  return (value) =>
    typeof value === 'string' && value.includes('*')
      ? onWildcard
      : typeof value === 'string' && KIND.test(value)
        ? undefined
        : 'it must be a kind as the API names it, e.g. "CustomResourceDefinition"';
}

/** A path inside a Git repo, such as a chart directory: relative, and never above the repo root. */
export const isRepoPath: Check<string> = (value) =>
  isNonEmptyString(value) ??
  (value.startsWith('/') || value.split('/').includes('..')
    ? 'it must be a path inside the repo, e.g. "charts/app-service"'
    : undefined);

/** Durations in seconds, for values Argo CD takes as a plain number of seconds. */
export function durationSeconds(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    const n = Number(amount);
    total += unit === 'h' ? n * 3600 : unit === 'm' ? n * 60 : unit === 's' ? n : n / 1000;
  }
  return total;
}

/** A sync window's schedule, as Argo CD parses it (see cron.ts). */
export { isSyncWindowSchedule as isCronSchedule } from './cron';

/* Helm sources: HelmApplication and the add-ons' schema accept the same values. */

const HELM_REPO_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;
const HELM_CHART_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A Helm chart repository, as Argo CD reads one: an https URL, never a wildcard. */
export const isHelmRepoUrl: Check<string> = (value) =>
  typeof value === 'string' && HELM_REPO_URL.test(value) && !value.includes('*')
    ? undefined
    : "it must be the https URL of a Helm chart repository, e.g. \"https://istio-release.storage.googleapis.com/charts\"; for a chart in Git, set the chart's folder under 'path' instead of 'chart'";

/** A chart's name in a Helm repository, such as "base": one name, no folder. */
export const isHelmChartName: Check<string> = (value) =>
  typeof value === 'string' && HELM_CHART_NAME.test(value)
    ? undefined
    : 'it must be the name of a chart in the Helm repo, e.g. "base"; a chart folder in a Git repo goes under \'path\'';

/** A chart version or a Git branch, tag or commit: what Argo CD takes as `targetRevision`. */
export const isRevision: Check<string> = (value) =>
  typeof value === 'string' && /^\S+$/.test(value)
    ? undefined
    : 'it must be a chart version such as "1.24.3", or a Git branch, tag or commit; write it without spaces';
