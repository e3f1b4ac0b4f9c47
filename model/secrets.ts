import type { Check } from './validators';

/*
 * Secrets stay out of the stack file: Converge names where a token is kept (a key of a
 * Kubernetes Secret), never the token. These checks catch a token pasted where its name belongs,
 * and secret values written inline in chart values.
 */

/** Prefixes of tokens vendors issue (Slack, GitHub, GitLab, Stripe, OpenAI, AWS, PagerDuty events). */
const TOKEN_PREFIX = /^(xox[abposr]-|xapp-|gh[pousr]_|github_pat_|glpat-|sk_|sk-|rk_|pk_|AKIA|ASIA)/;

/** Whether a string looks like a credential rather than a name: a vendor's token prefix, or a long random run. */
export function looksLikeCredential(value: string): boolean {
  if (TOKEN_PREFIX.test(value)) return true;
  // Names are words joined by '-', '.' or '_'; a token is one long run mixing letters and digits.
  return value.split(/[-._]/).some((run) => run.length >= 20 && /[0-9]/.test(run) && /[a-zA-Z]/.test(run));
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** The name of a key in a Kubernetes Secret, e.g. "slack-token", where Argo CD reads a token from. */
export const isSecretKeyName: Check<string> = (value) => {
  if (typeof value !== 'string' || value.trim() === '') {
    return 'it must name the key of the Secret that holds the token, e.g. "slack-token"';
  }
  if (looksLikeCredential(value)) {
    return 'this looks like the token itself; put the token in the Secret and name its key here, e.g. "slack-token"';
  }
  return value.length <= 253 && SECRET_KEY.test(value)
    ? undefined
    : "it must be a Secret key: letters, digits, '-', '_' and '.', at most 253 characters, e.g. \"slack-token\"";
};

/** Key names (lowercased, without '-' and '_') that say their value is a secret. */
const SECRET_WORDS = /(password|passwd|passphrase|secret|token|apikey|privatekey|accesskey|credential)/;
/** Keys that name where a secret is kept, rather than holding it. */
const REFERENCE =
  /^existing|(secretname|secretref|secretkeyref|keyref|secretkey|keyname|ref|name|names|file|path|enabled|length|url|uri|endpoint|ttl|expiry|expiration|duration|type|format|mode|header|issuer|audience)$/;
/** `scheme://user:password@`: a connection string with its password inline. */
const CONNECTION_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]+@/i;

/** A value that only points at a secret: a `${...}` placeholder filled in elsewhere. */
const PLACEHOLDER = /^\$\{[^}]+\}$/;

/**
 * Paths of string values in chart values that hold a secret inline: under a key that names a
 * secret, or a connection string with a password. Values are never returned, only where they are.
 */
export function inlineSecretPaths(values: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(values)) return values.flatMap((v, i) => inlineSecretPaths(v, [...path, i]));
  if (values !== null && typeof values === 'object') {
    return Object.entries(values).flatMap(([k, v]) => inlineSecretPaths(v, [...path, k]));
  }
  // A PIN or numeric password is as secret as a word; YAML reads `password: 1234` as a number.
  if (typeof values === 'number') values = String(values);
  if (typeof values !== 'string' || values.trim() === '' || PLACEHOLDER.test(values.trim())) return [];
  if (CONNECTION_WITH_PASSWORD.test(values)) return [path];
  const key = [...path].reverse().find((p): p is string => typeof p === 'string');
  if (key === undefined) return [];
  const word = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_WORDS.test(word) && !REFERENCE.test(word) ? [path] : [];
}

export const INLINE_SECRET_RULE =
  'a secret value is inline; put it in a Kubernetes Secret and reference it, e.g. existingSecret: <secret name>';
