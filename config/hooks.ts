import { z } from 'zod';
import { imageUpdatePolicy } from './image-updates';
import type { PlatformConfig } from './schema';

/* Rules across keys of `services.<name>.hooks`, each reported at the key a person would change. */

export function hookChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  for (const [name, service] of Object.entries(config.services)) {
    const syncFail = service.hooks?.syncFail;
    if (!syncFail) continue;
    const at = ['services', name, 'hooks', 'syncFail'];
    if (syncFail.rollback && imageUpdatePolicy(config, name) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'rollback'],
        input: true,
        message: `a rollback rewrites the image update write-back file, and ${name}'s image does not move by policy here (imageUpdater.enabled off, or strategy none); roll back with \`git revert\`, or turn the updater on`,
      });
    }
    if (syncFail.notify && config.drift.notify.high.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'notify'],
        input: true,
        message:
          'a failed sync is told to drift.notify.high, which lists no target; add one (e.g. "webhook:deploy-events") or set notify: false',
      });
    }
  }
}

/** Whether any service declares a hook Job, so the project must allow Jobs. */
export const declaresHookJobs = (config: PlatformConfig): boolean =>
  Object.values(config.services).some(
    (s) => s.hooks?.preSync || s.hooks?.postSync || s.hooks?.syncFail?.command,
  );
