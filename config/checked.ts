import { z } from 'zod';
import { Check, isDnsLabel, isDuration } from '../model/validators';

/** A string or number checked by one of the shared validators, so constructs and config agree. */
export const checked = <T extends z.ZodType>(schema: T, check: Check<z.infer<T>>) =>
  schema.superRefine((value, ctx) => {
    const rule = check(value);
    if (rule !== undefined) ctx.addIssue({ code: 'custom', message: rule, input: value });
  });

export const dnsLabel = checked(z.string(), isDnsLabel);
export const duration = checked(z.string(), isDuration);
