import { z } from 'zod';
import { Check, durationSeconds, isDuration, isIntegerInRange } from '../model/validators';
import { all, checked } from './checked';

/*
 * The schema of `observability`: whether the environment declares its Prometheus alert rules,
 * scrape targets and Grafana dashboard, and the alerts' thresholds. Unset keys take the
 * environment's defaults (config/observability.ts), so the schema itself has none.
 */

/** A threshold: a duration above zero and at most a week (an alert later than that is no alert). */
const isThreshold = (what: string): Check<string> =>
  all<string>(isDuration, (v) =>
    durationSeconds(v) <= 0
      ? `an alert with no ${what} fires at once on every blip; give it a length, e.g. "10m"`
      : durationSeconds(v) > 7 * 24 * 3600
        ? `it is longer than 168h, the most it may be (a ${what} of over a week alerts on nothing); shorten it, e.g. to "24h"`
        : undefined,
  );
const threshold = (what: string) => checked(z.string(), isThreshold(what));

export const observabilitySchema = z.strictObject({
  /** Declare the PrometheusRule, ServiceMonitors and dashboard (needs the Prometheus Operator's CRDs). */
  enabled: z.boolean().optional(),
  alerts: z
    .strictObject({
      /** An Application OutOfSync this long alerts. */
      outOfSyncFor: threshold('wait').optional(),
      /** A held drift waiting this long for `converge approve|reject` alerts. */
      approvalPendingFor: threshold('wait').optional(),
      /** The controller's metrics unreachable this long alerts. */
      controllerDownFor: threshold('wait').optional(),
      /** No completed check or resync this long alerts; above the controller's resync (60 s). */
      notReconcilingFor: checked(
        z.string(),
        all<string>(isThreshold('wait'), (v) =>
          durationSeconds(v) < 120
            ? 'the controller resyncs every 60s, so a shorter limit fires between two resyncs; use at least "2m"'
            : undefined,
        ),
      ).optional(),
      /** Heals of one object within `window` that count as flapping. */
      flapping: z
        .strictObject({
          heals: checked(
            z.number(),
            isIntegerInRange(2, 100, 'one heal is normal self-healing; use 3 for "healed three times"'),
          ).optional(),
          window: threshold('window').optional(),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type ObservabilityInput = z.infer<typeof observabilitySchema>;
