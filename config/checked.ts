import { z } from 'zod';
import { showValue } from '../model/errors';
import { redactUrl } from '../model/urls';
import { Check, isDnsLabel, isDuration } from '../model/validators';

/** How an error shows a value that may be a credential: as given, redacted, or not at all. */
export type Shown = (value: unknown) => string | undefined;

/** Shows a URL with its userinfo as `***`. */
export const redactedUrl: Shown = (value) =>
  typeof value === 'string' ? showValue(redactUrl(value)) : undefined;
/** Never shows the value. */
export const hidden: Shown = () => '(value not shown)';

/**
 * A string or number checked by one of the shared validators, so constructs and config agree.
 * `shown` replaces the value in the error when it may carry a secret; parse.ts prints `params.shown`.
 */
export const checked = <T extends z.ZodType>(schema: T, check: Check<z.infer<T>>, shown?: Shown) =>
  schema.superRefine((value, ctx) => {
    const rule = check(value);
    if (rule === undefined) return;
    const text = shown?.(value);
    ctx.addIssue({
      code: 'custom',
      message: rule,
      input: text === undefined ? value : undefined,
      ...(text === undefined ? {} : { params: { shown: text } }),
    });
  });

/** Checks in order; the first rule broken is reported. */
export const all =
  <T>(...checks: Check<T>[]): Check<T> =>
  (value) => {
    for (const check of checks) {
      const rule = check(value);
      if (rule !== undefined) return rule;
    }
    return undefined;
  };

export const dnsLabel = checked(z.string(), isDnsLabel);
export const duration = checked(z.string(), isDuration);
