/*
 * Image references as the container runtime reads them: an image without a registry is Docker
 * Hub's (`nginx` is `docker.io/library/nginx`), and a registry prefix ends at a path boundary
 * (`ghcr.io` is not a prefix of `ghcr.io.evil.com/x`). Hand-written: it is the few lines of
 * distribution/reference's ParseNormalizedNamed the drift rules need, with no library for it.
 */

const DOCKER_HUB = 'docker.io';

/** Whether the first part of a reference names a registry: it has a '.' or a ':', or is localhost. */
function isRegistry(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost';
}

/** The fully qualified reference: `nginx:1.25` is `docker.io/library/nginx:1.25`. */
export function normaliseImage(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (slash >= 0 && isRegistry(first)) {
    // index.docker.io is Docker Hub's old name; official images keep their library/ namespace.
    const registry = first === 'index.docker.io' ? DOCKER_HUB : first;
    const rest = image.slice(slash + 1);
    return registry === DOCKER_HUB && !rest.includes('/') && rest !== ''
      ? `${DOCKER_HUB}/library/${rest}`
      : `${registry}/${rest}`;
  }
  return slash < 0 ? `${DOCKER_HUB}/library/${image}` : `${DOCKER_HUB}/${image}`;
}

/**
 * A trusted prefix, normalised like an image. A prefix ending in '/' trusts everything under that
 * path; one without trusts that repository (with any tag or digest) or that registry host.
 */
export function normaliseImagePrefix(prefix: string): string {
  if (prefix.endsWith('/')) {
    const body = prefix.slice(0, -1);
    // "example-org/" is a Docker Hub namespace; "ghcr.io/" a registry.
    if (!body.includes('/') && isRegistry(body)) return `${body === 'index.docker.io' ? DOCKER_HUB : body}/`;
    return `${normaliseNamespace(body)}/`;
  }
  return prefix.includes('/') || !isRegistry(prefix) ? normaliseImage(prefix) : prefix;
}

/** `example-org` is `docker.io/example-org`, `ghcr.io/example-org` stays, as a path and not an image. */
function normaliseNamespace(path: string): string {
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  if (slash >= 0 && isRegistry(first))
    return first === 'index.docker.io' ? `${DOCKER_HUB}${path.slice(slash)}` : path;
  return `${DOCKER_HUB}/${path}`;
}

/** Whether `image` (normalised) starts with `prefix` (normalised) at a path boundary. */
export function imageHasPrefix(image: string, prefix: string): boolean {
  const ref = normaliseImage(image);
  const p = normaliseImagePrefix(prefix);
  if (p.endsWith('/')) return ref.startsWith(p);
  if (!ref.startsWith(p)) return false;
  const next = ref.charAt(p.length);
  // A registry host ends at '/'; a repository at its tag (':') or digest ('@').
  return next === '/' || (p.includes('/') && (next === ':' || next === '@' || next === ''));
}

/** The regular expression of "an image under one of these prefixes", on normalised references. */
export function trustedImagePattern(prefixes: readonly string[]): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alternatives = prefixes.map((raw) => {
    const p = normaliseImagePrefix(raw);
    if (p.endsWith('/')) return escape(p);
    return p.includes('/') ? `${escape(p)}(?=[/:@]|$)` : `${escape(p)}/`;
  });
  return `^(${[...new Set(alternatives)].join('|')})`;
}
