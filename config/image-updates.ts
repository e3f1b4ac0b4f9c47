import { z } from 'zod';
import { Environment } from '../model/constants';
import {
  ImageUpdateStrategy,
  IMAGE_UPDATE_STRATEGIES,
  isSemverRange,
  tagSatisfies,
  tagVersion,
} from '../model/image-updates';
import { isGitRevision, isImageTag } from '../model/validators';
import type { PlatformConfig } from './schema';

/*
 * Each service's effective image update policy: what its stack file says over the environment's
 * defaults, and the rules that span keys. The stack file holds the policy and the floor (the pinned
 * tag); the write-back file beside the chart holds what runs (see render/image-tags.ts).
 */

export interface ImageUpdatePolicy {
  readonly strategy: Exclude<ImageUpdateStrategy, 'none'>;
  /** The semver range Image Updater reads from the image name (semver only). */
  readonly constraint?: string;
  readonly allowTags?: string;
  readonly ignoreTags: readonly string[];
}

/** Stable tags outside dev, even if a range is widened with "-0": release candidates and dev builds stay out. */
const UNSTABLE_TAGS = ['*-rc*', '*-dev*'];

/**
 * The environment's default policy for a service pinned at `tag`:
 * - dev: semver, any version including pre-releases (`>=0.0.0-0`): the highest build wins, which
 *   needs no image build dates (newest-build does, and reproducible builds have none);
 * - staging: semver, the pinned major (`^1` for 1.4.2), stable only;
 * - prod: semver, the pinned minor (`~1.4` for 1.4.2), stable only.
 */
export function defaultImageUpdates(environment: Environment, tag: string): ImageUpdatePolicy {
  const v = tagVersion(tag);
  switch (environment) {
    case 'dev':
      return { strategy: 'semver', constraint: '>=0.0.0-0', ignoreTags: [] };
    case 'staging':
      return { strategy: 'semver', constraint: v ? `^${v.major}` : undefined, ignoreTags: UNSTABLE_TAGS };
    case 'prod':
      return {
        strategy: 'semver',
        constraint: v ? `~${v.major}.${v.minor}` : undefined,
        ignoreTags: UNSTABLE_TAGS,
      };
  }
}

/** A service's effective policy, or undefined when its image never moves (updater off, or `none`). */
export function imageUpdatePolicy(config: PlatformConfig, service: string): ImageUpdatePolicy | undefined {
  if (!config.imageUpdater.enabled) return undefined;
  const declared = config.services[service].imageUpdates ?? {};
  const strategy = (declared.strategy ?? 'semver') as ImageUpdateStrategy;
  if (strategy === 'none') return undefined;
  const defaults = defaultImageUpdates(config.environment, config.services[service].image.tag);
  return {
    strategy,
    constraint: strategy === 'semver' ? (declared.constraint ?? defaults.constraint) : undefined,
    allowTags: declared.allowTags,
    ignoreTags: declared.ignoreTags ?? (strategy === 'digest' ? [] : defaults.ignoreTags),
  };
}

/** Rules across keys, each reported at the key a person would change. */
export function imageUpdateChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });
  const enabled = config.imageUpdater.enabled;
  for (const [name, service] of Object.entries(config.services)) {
    const declared = service.imageUpdates;
    const at = ['services', name, 'imageUpdates'];
    // A bad strategy or range has its own error already.
    const strategy = declared?.strategy ?? 'semver';
    if (!(IMAGE_UPDATE_STRATEGIES as readonly string[]).includes(strategy)) continue;
    if (declared?.constraint !== undefined && strategy !== 'semver') {
      issue(
        [...at, 'constraint'],
        declared.constraint,
        `strategy ${strategy} takes no constraint (only semver reads one; ${strategy === 'digest' ? 'digest follows the pinned tag' : strategy === 'none' ? 'none never updates' : 'newest-build takes the newest build among the allowed tags'}); remove constraint or use strategy: semver`,
      );
    }
    for (const key of ['allowTags', 'ignoreTags'] as const) {
      if (declared?.[key] !== undefined && (strategy === 'none' || strategy === 'digest')) {
        issue(
          [...at, key],
          declared[key],
          `strategy ${strategy} ${strategy === 'none' ? 'never updates' : 'follows the pinned tag alone'}, so it reads no tag filter; remove ${key} or use strategy: semver or newest-build`,
        );
      }
    }
    if (strategy !== 'semver') continue;
    const tag = service.image.tag;
    // A malformed tag has its own error already.
    if (isImageTag(tag) !== undefined) continue;
    // The pin is checked where the updater runs, and against a written constraint always (it would
    // refuse the pin the day the updater is turned on); an idle default policy asks nothing of it.
    if (!enabled && declared?.constraint === undefined) continue;
    if (tagVersion(tag) === undefined) {
      issue(
        ['services', name, 'image', 'tag'],
        tag,
        `the image update strategy here is semver${declared?.strategy ? '' : ' (the default)'}, which moves from a semver tag only; pin a semver tag such as "1.4.2", or set services.${name}.imageUpdates.strategy to newest-build, digest or none`,
      );
      continue;
    }
    const constraint = declared?.constraint ?? defaultImageUpdates(config.environment, tag).constraint;
    if (
      constraint !== undefined &&
      isSemverRange(constraint) === undefined &&
      !tagSatisfies(tag, constraint)
    ) {
      issue(
        declared?.constraint !== undefined ? [...at, 'constraint'] : ['services', name, 'image', 'tag'],
        declared?.constraint ?? tag,
        declared?.constraint !== undefined
          ? `the pinned tag ${tag} (services.${name}.image.tag) is outside it, so the updater could never keep what runs; widen the range or pin a tag inside it${/-/.test(tag) && !/-/.test(constraint) ? ' (a pre-release needs a "-0" bound, e.g. ">=1.0.0-0 <1.1.0")' : ''}`
          : `it is outside the environment's default range "${constraint}"; pin a tag inside it or set services.${name}.imageUpdates.constraint`,
      );
    }
  }
  if (enabled) {
    const revision = config.git.revision;
    const why =
      isGitRevision(revision) !== undefined
        ? undefined // it has its own error already
        : revision === 'HEAD' || /^[0-9a-f]{7,40}$/i.test(revision)
          ? 'a commit'
          : tagVersion(revision.replace(/^v/, '')) !== undefined
            ? 'a release tag'
            : undefined;
    if (why) {
      issue(
        ['imageUpdater', 'enabled'],
        enabled,
        `git.revision is "${revision}", ${why}; Image Updater commits each new tag to the branch Argo CD follows, so point git.revision at a branch (e.g. "main") or turn imageUpdater.enabled off`,
      );
    }
  }
}
