import semver from 'semver';
import { safeRegex } from 'safe-regex2';
import { Check } from './validators';
import { closest } from './suggest';

/*
 * The vocabulary of image update policies (Argo CD Image Updater v1.x) and the pure rules that check
 * one: semver ranges as Image Updater's Masterminds library reads them, tag regexps, and the
 * filepath.Match globs of ignoreTags.
 */

/** What a stack file may name; `none` means Image Updater leaves the service alone. */
export const IMAGE_UPDATE_STRATEGIES = ['semver', 'newest-build', 'digest', 'none'] as const;
export type ImageUpdateStrategy = (typeof IMAGE_UPDATE_STRATEGIES)[number];

/** Image Updater's older names for two strategies, and what a stack file calls them. */
const UPSTREAM_ALIASES: Record<string, string> = { latest: 'newest-build', name: 'alphabetical' };

export const isImageUpdateStrategy: Check<string> = (value) => {
  if ((IMAGE_UPDATE_STRATEGIES as readonly string[]).includes(value)) return undefined;
  const alias = UPSTREAM_ALIASES[value];
  if (alias === 'newest-build')
    return 'Image Updater renamed "latest" to "newest-build"; use strategy: newest-build';
  const near = closest(value, IMAGE_UPDATE_STRATEGIES);
  return `it is not a strategy${near ? `; did you mean "${near}"?` : ''}; use one of: ${IMAGE_UPDATE_STRATEGIES.join(', ')}`;
};

/**
 * A semver range written in the syntax both npm's `semver` and Masterminds/semver v3 (what Image
 * Updater uses) read alike: comparators joined by spaces, `||`, `~`, `^`, `x`, `*`, hyphen ranges.
 */
export const isSemverRange: Check<string> = (value) => {
  if (value.includes(','))
    return 'join comparators with a space, not a comma (e.g. ">=1.2.0 <2.0.0"), so every tool reads the range alike';
  if (value.trim() === '' || semver.validRange(value) === null)
    return 'it is not a semver range; write one such as "~1.0" (patches of 1.0), "^1" (1.x) or ">=1.2.0 <2.0.0"; add "-0" to a bound (">=1.0.0-0") to admit pre-releases';
  return undefined;
};

/** Whether a range admits pre-releases: Masterminds does when any bound of it carries one. */
export const rangeAdmitsPrereleases = (range: string): boolean => /\d-[0-9A-Za-z]/.test(range);

/** The tag as a semver version (a leading "v" allowed, as Image Updater allows it), or undefined. */
export const tagVersion = (tag: string): semver.SemVer | undefined =>
  semver.parse(tag, { loose: true }) ?? undefined;

/** Whether a tag is in the range, pre-releases counted as Image Updater counts them. */
export function tagSatisfies(tag: string, range: string): boolean {
  const version = tagVersion(tag);
  return (
    version !== undefined &&
    semver.satisfies(version, range, { includePrerelease: rangeAdmitsPrereleases(range) })
  );
}

/** `allowTags`: a regexp that compiles and cannot take exponential time on a hostile tag. */
export const isTagRegexp: Check<string> = (value) => {
  try {
    new RegExp(value);
  } catch (err) {
    return `it is not a valid regular expression (${(err as Error).message}); fix or escape it`;
  }
  return safeRegex(value)
    ? undefined
    : 'it can take exponential time on some tags (a repeated group inside a repetition, such as "(a+)+"); rewrite it without nested repetition, e.g. "^[0-9]+\\.[0-9]+\\.[0-9]+$"';
};

/**
 * An `ignoreTags` pattern as a RegExp, read as Go's `path/filepath.Match` reads it (Image Updater's
 * syntax: `*`, `?`, `[...]`, `[^...]`, `\` escapes), or the reason it is malformed. Hand-written:
 * npm's glob libraries add braces and extglobs that Go never reads, so they would accept other text.
 */
export function tagGlob(pattern: string): RegExp | string {
  let out = '^';
  const escape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return 'it ends in a lone "\\"; escape a character after it or drop it';
      out += escape(pattern[++i]);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '[';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let ranges = 0;
      const unclosed = 'a "[" is never closed; close it with "]" or escape it as "\\["';
      // One class character as Go's getEsc reads it: "\\" escapes; a bare "-" or "]" is malformed.
      const char = (): string | undefined => {
        const ch = pattern[j];
        if (ch === undefined || ch === '-' || ch === ']') return undefined;
        if (ch === '\\') {
          if (pattern[j + 1] === undefined) return undefined;
          j += 2;
          return pattern[j - 1];
        }
        j++;
        return ch;
      };
      for (;;) {
        if (j >= pattern.length) return unclosed;
        if (pattern[j] === ']' && ranges > 0) break;
        const lo = char();
        if (lo === undefined)
          return j >= pattern.length
            ? unclosed
            : `a "${pattern[j]}" stands bare in a [...] class; escape it as "\\${pattern[j]}"`;
        let hi = lo;
        if (pattern[j] === '-') {
          j++;
          const end = char();
          if (end === undefined)
            return 'a range in a [...] class has no upper end; write it as "[a-z]" or escape the "-"';
          hi = end;
          if (hi < lo)
            return `the range "${lo}-${hi}" runs backwards, so it matches nothing; write it low to high`;
        }
        cls += lo === hi ? escape(lo) : `${escape(lo)}-${escape(hi)}`;
        ranges++;
      }
      out += `${cls}]`;
      i = j;
    } else out += escape(c);
  }
  return new RegExp(`${out}$`);
}

export const isTagGlob: Check<string> = (value) => {
  if (value === '') return 'an empty pattern ignores nothing; remove it';
  const glob = tagGlob(value);
  return typeof glob === 'string'
    ? `${glob} (ignoreTags are Go filepath.Match globs, e.g. "*-rc*", not regexps)`
    : undefined;
};

/** Whether a tag matches any of the ignoreTags globs (malformed ones match nothing). */
export const tagIgnored = (tag: string, globs: readonly string[]): string | undefined =>
  globs.find((g) => {
    const glob = tagGlob(g);
    return typeof glob !== 'string' && glob.test(tag);
  });

/** The values file, relative to a service's chart, that Image Updater writes its tags to: one per environment. */
export const imageWriteBackFile = (environment: string): string => `images/${environment}.yaml`;

/**
 * Helm keys Image Updater writes, apart from `image.*`: the Application's valuesObject sets those
 * from the stack file over every value file, so a written `image.tag` would never win.
 */
export const WRITE_BACK_KEYS = { repository: 'updatedImage.repository', tag: 'updatedImage.tag' } as const;
