import type { Check } from './validators';

/*
 * The canary's header match, as Istio takes it into a VirtualService: header names are RFC 7230
 * tokens, and Istio wants them lowercase (Envoy lowercases every header it matches).
 */

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export const isHttpHeaderName: Check<string> = (value) => {
  if (typeof value !== 'string' || value.trim() === '') return 'it must be a header name, e.g. "x-canary"';
  if (value.startsWith(':')) {
    return `it is an HTTP/2 pseudo-header, which routing by header does not use; name a request header, e.g. "x-canary"`;
  }
  if (TOKEN.test(value.toLowerCase()) && value !== value.toLowerCase()) {
    return `Istio matches header names in lowercase only; write "${value.toLowerCase()}"`;
  }
  return TOKEN.test(value)
    ? undefined
    : 'it must be an HTTP header name (lowercase letters, digits and !#$%&\'*+.^_`|~-, no spaces), e.g. "x-canary"';
};

/** A header value: visible ASCII and spaces, as HTTP allows; a newline would inject YAML into the chart. */
export const isHttpHeaderValue: Check<string> = (value) => {
  if (typeof value !== 'string' || value.trim() === '') return 'it must be a non-empty string';
  return /[\x00-\x1f\x7f]/.test(value)
    ? 'it has a control character or a line break, which HTTP header values may not hold; write it on one line, e.g. "always"'
    : value !== value.trim()
      ? 'it starts or ends with white space, which HTTP drops from header values; remove it'
      : undefined;
};
