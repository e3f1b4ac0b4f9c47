import { escapePathComponent, unescapePathComponent } from 'fast-json-patch';

/* JSON pointers (RFC 6901), the way drift findings, policy rules and heals name a field. */

/** One key as a pointer segment: `~` and `/` escaped. */
export const escapePointer = (segment: string): string => escapePathComponent(segment);

/** A pointer's segments, unescaped; the whole document ("") has none. */
export const pointerSegments = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePathComponent);
