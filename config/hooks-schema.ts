import { z } from 'zod';
import { durationSeconds, isDurationUpTo, isImageReference, isNonEmptyString } from '../model/validators';
import { checked } from './checked';

/*
 * The schema of `services.<name>.hooks`: Argo CD resource hooks the service's chart renders as Jobs
 * (a PreSync check, a PostSync smoke test), and what a failed sync sets off (the SyncFail hook,
 * a notification, a rollback of the image by Git). Rules across keys are in hooks.ts.
 */

/** A label key or value as Kubernetes takes them (prefix/name, at most 63 characters each). */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labelKey = checked(z.string(), (v) =>
  LABEL_KEY.test(v) && v.length <= 316 ? undefined : 'it must be a label key such as "example.com/suite"',
);
const labelValue = checked(z.string(), (v) =>
  LABEL_VALUE.test(v) ? undefined : 'it must be a label value: at most 63 letters, digits, "-", "_" or "."',
);

const hookJob = {
  /** The container's command and arguments, run without a shell unless it names one. */
  command: z.array(checked(z.string(), isNonEmptyString)).min(1),
  /** @default the service's stable image */
  image: checked(z.string(), isImageReference).optional(),
  /** How long the Job may run before it counts as failed. */
  timeout: checked(
    z.string(),
    (v) =>
      isDurationUpTo('1h', 'a hook holds the sync while it runs')(v) ??
      (durationSeconds(v) > 0 ? undefined : 'a hook needs some time to run; give it e.g. "2m"'),
  ).default('5m'),
  /** Labels on the hook's Pod besides Converge's own (e.g. for a test suite's selector). */
  labels: z.record(labelKey, labelValue).default({}),
};

export const hooksSchema = z.strictObject({
  /** Runs before Argo CD applies anything; a failure stops the sync. */
  preSync: z.strictObject(hookJob).optional(),
  /** Runs once everything is applied and healthy: a smoke test. A failure fails the sync. */
  postSync: z.strictObject(hookJob).optional(),
  /** What a failed sync sets off. */
  syncFail: z
    .strictObject({
      ...hookJob,
      /** @default no Job: the response is the notification and rollback below */
      command: hookJob.command.optional(),
      /** Tell the environment's high-severity targets (drift.notify.high). */
      notify: z.boolean().default(true),
      /** Put the image back to the tag that ran before, by a commit to the write-back file. */
      rollback: z.boolean().default(false),
    })
    .optional(),
});
