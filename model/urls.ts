import { isIP } from 'node:net';
import type { Check } from './validators';

/*
 * URLs in the stack file: repo URLs must not carry credentials (Argo CD keeps those in repository
 * Secrets), and notification webhooks must be https, or http to this machine only.
 */

/** `scheme://userinfo@` at the start of a URL; userinfo ends at the last '@' before the path. */
const USERINFO = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)@/;

/** The userinfo of a URL, whatever the parser thinks of the rest (a broken URL may still carry one). */
function userinfo(url: string): { scheme: string; info: string } | undefined {
  const m = USERINFO.exec(url);
  return m ? { scheme: m[1].toLowerCase(), info: m[2] } : undefined;
}

/** The URL with its userinfo shown as `***`, for messages: never the credential itself. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1***@');
}

/** Whether an error message may quote the URL as it is. */
export function hasUserinfo(url: unknown): boolean {
  return typeof url === 'string' && userinfo(url) !== undefined;
}

const REPO_SECRET =
  "keep credentials in an Argo CD repository Secret (labelled argocd.argoproj.io/secret-type: repository, in Argo CD's namespace)";

/**
 * A repo URL without credentials. ssh URLs may name the login user (`ssh://git@host/...`), as
 * `git@host:path` does; a password, or any userinfo in an http(s) URL, is a credential.
 */
export const hasNoCredentials: Check<string> = (value) => {
  if (typeof value !== 'string') return undefined;
  const found = userinfo(value);
  if (!found) return undefined;
  if (found.scheme === 'ssh://' && !found.info.includes(':')) return undefined;
  return `it carries credentials (${redactUrl(value)}); ${REPO_SECRET}, and write the URL without them`;
};

const LOOPBACK_NAMES = new Set(['localhost']);

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** A URL Argo CD's notifications controller may post to: https, or http to a loopback address. */
export const isWebhookUrl: Check<string> = (value) => {
  const example = 'e.g. "https://hooks.example.com/argocd"';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `it must be an absolute https URL, ${example}`;
  }
  if (url.username !== '' || url.password !== '') {
    return `it carries credentials (${redactUrl(value)}); put the token in the Argo CD notifications Secret and send it as a header, and write the URL without them`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isLoopback(url.hostname)
      ? undefined
      : `plain http sends every notification unencrypted; use https, ${example} (http is allowed to localhost only)`;
  }
  return `Argo CD posts webhooks over https; the ${url.protocol.replace(/:$/, '')} scheme is not allowed; use https, ${example}`;
};

/**
 * Where Argo CD deploys (`destination.server`): the API server's https URL, as `argocd cluster add`
 * registers it, or https://kubernetes.default.svc for Argo CD's own cluster; never credentials.
 */
export const isClusterServerUrl: Check<string> = (value) => {
  const example = 'e.g. "https://kubernetes.default.svc" (Argo CD\'s own cluster) or "https://10.0.0.1:6443"';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `it must be the https URL of a Kubernetes API server, ${example}`;
  }
  if (url.username !== '' || url.password !== '')
    return `it carries credentials (${redactUrl(value)}); Argo CD keeps a cluster's credentials in a cluster Secret (argocd.argoproj.io/secret-type: cluster); write the URL without them`;
  if (url.protocol !== 'https:' || !url.hostname || /\s/.test(value))
    return `it must be the https URL of a Kubernetes API server (the ${url.protocol.replace(/:$/, '')} scheme is not one), ${example}`;
  return undefined;
};

/** `scheme://userinfo@` anywhere in a text, e.g. an error line; greedy to the authority's last '@', so a password holding '@' is hidden whole. */
const USERINFO_IN_TEXT = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#\s]*)@/g;

/** The text with every URL's credentials shown as `***`; an ssh login name alone stays. */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO_IN_TEXT, (whole, scheme: string, info: string) =>
    scheme.toLowerCase() === 'ssh://' && !info.includes(':') ? whole : `${scheme}***@`,
  );
}
