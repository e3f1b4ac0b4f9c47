import { z } from 'zod';
import { INLINE_SECRET_RULE, inlineSecretPaths } from '../model/secrets';
import { hidden } from './checked';

/** Chart values, passed to Helm as they are, with no secret written inline (never shown in errors). */
export const chartValues = z.record(z.string(), z.unknown()).superRefine((values, ctx) => {
  for (const path of inlineSecretPaths(values)) {
    ctx.addIssue({
      code: 'custom',
      path,
      input: undefined,
      params: { shown: hidden(undefined) },
      message: INLINE_SECRET_RULE,
    });
  }
});
