/**
 * Pure validators shared by the constructs (checked at construction) and the config schema
 * (checked when `Pulumi.<env>.yaml` is read). Each returns `undefined` when the value is fine,
 * or the rule: what is allowed and how to fix it.
 */

import { isIP } from 'node:net';
import { regexes } from 'zod';
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
  typeof value === 'string' && /^file:/i.test(value)
    ? "Argo CD's repo-server clones it in the cluster, where a path on this machine does not exist; push the repo to a Git server and use its https://, ssh:// or git:// URL"
    : typeof value === 'string' && /^(https?:\/\/|git:\/\/|ssh:\/\/|git@[^:]+:).+/.test(value)
      ? undefined
      : 'it must be a Git URL (https://, ssh://, git:// or git@host:path); use the URL you would `git clone`';

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

/**
 * A duration no longer than `max` (itself a duration), e.g. `isDurationUpTo('24h', why)`. Argo CD
 * and the controller parse durations into Go's time.Duration, which overflows past about 2562047h.
 */
export function isDurationUpTo(max: string, why: string): Check<string> {
  return (value) =>
    isDuration(value) ??
    (durationSeconds(value) > durationSeconds(max)
      ? `it is longer than ${max}, the most it may be (${why}); shorten it, e.g. to ${max}`
      : undefined);
}

/*
 * An image reference as distribution/reference (the container runtime's parser) reads it:
 * [registry[:port]/]path[:tag][@digest]. Hand-written: its grammar is a few regular expressions
 * (regexp.go), and no JS library carries them.
 */
const REGISTRY =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** A full image reference such as "ghcr.io/example-org/converge:0.1.0" (tag or digest optional). */
export const isImageReference: Check<string> = (value) => {
  const fix =
    'it must be an image reference such as "ghcr.io/example-org/converge:0.1.0" (lowercase repository, then :tag or @sha256:digest)';
  if (typeof value !== 'string' || value === '') return fix;
  const at = value.indexOf('@');
  const digest = at < 0 ? undefined : value.slice(at + 1);
  let name = at < 0 ? value : value.slice(0, at);
  const colon = name.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const parts = name.split('/');
  // The first part is a registry only when it looks like one, as ParseNormalizedNamed decides.
  const hasRegistry =
    parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost');
  const path = hasRegistry ? parts.slice(1) : parts;
  const ok =
    name.length <= 255 &&
    (!hasRegistry || REGISTRY.test(parts[0])) &&
    path.every((p) => PATH_COMPONENT.test(p)) &&
    (tag === undefined || IMAGE_TAG.test(tag)) &&
    (digest === undefined || DIGEST.test(digest));
  return ok ? undefined : fix;
};

/** A host name or IP address, e.g. "smtp.example.com" or "10.0.0.5": no scheme, port or path. */
export const isHostOrAddress: Check<string> = (value) =>
  typeof value === 'string' && (isIP(value.replace(/^\[|\]$/g, '')) !== 0 || regexes.hostname.test(value))
    ? undefined
    : 'it must be a host name or IP address such as "smtp.example.com" or "10.0.0.5", without scheme, port or path';

/** An email address, by zod's own pattern (the one `z.email()` uses): `name@example.com`. */
export const isEmailAddress: Check<string> = (value) =>
  typeof value === 'string' && value.length <= 254 && regexes.email.test(value)
    ? undefined
    : 'it must be an email address such as "argocd@example.com"';

/** A sender as mail headers write it: an address, or a name and an address, `Argo CD <argocd@example.com>`. */
export const isMailbox: Check<string> = (value) => {
  const named = typeof value === 'string' ? /^[^<>\r\n]*<([^<>]+)>$/.exec(value) : null;
  return isEmailAddress(named ? named[1] : value) === undefined
    ? undefined
    : 'it must be an email address such as "argocd@example.com", or a name and one: "Argo CD <argocd@example.com>"';
};

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
