import { z } from 'zod';
import { isImageUpdateStrategy, isSemverRange, isTagGlob, isTagRegexp } from '../model/image-updates';
import { checked } from './checked';

/*
 * The schema of image updates: `imageUpdater` switches Argo CD Image Updater on for the environment
 * (it must be installed in the cluster), and `services.<name>.imageUpdates` is one service's policy.
 * Rules that span keys (the pinned tag against the constraint) are in image-updates.ts.
 */

/** `imageUpdater`: whether the environment's images move by policy, with Git write-back. */
export const imageUpdaterSchema = z.strictObject({
  /** Synthesize an ImageUpdater per service whose policy is not `none`. @default false */
  enabled: z.boolean().default(false),
});

/** `services.<name>.imageUpdates`: unset keys take the environment's defaults (image-updates.ts). */
export const imageUpdatesSchema = z.strictObject({
  strategy: checked(z.string(), isImageUpdateStrategy).optional(),
  /** A semver range; semver only. */
  constraint: checked(z.string(), isSemverRange).optional(),
  /** Only tags matching this regexp are considered. */
  allowTags: checked(z.string(), isTagRegexp).optional(),
  /** Tags matching any of these globs never deploy. */
  ignoreTags: z.array(checked(z.string(), isTagGlob)).optional(),
});
