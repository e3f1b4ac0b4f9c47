import { z } from 'zod';
import { isKubernetesNamespace } from '../model/constants';
import { durationSeconds, isDuration, isDurationUpTo, isImageReference } from '../model/validators';
import type { PlatformConfig } from './schema';

/*
 * Cross-key rules about values that are each valid alone: lists keyed by a name hold each name
 * once, a backoff's ceiling is not below its start, and the drift keys whose schema lives in
 * drift-schema.ts get the checks that schema leaves to the whole config.
 */

type Path = (string | number)[];
type Report = (path: Path, input: unknown, message: string) => void;

export function consistencyChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  const report: Report = (path, input, message) => ctx.addIssue({ code: 'custom', path, input, message });
  duplicateChecks(config, report);
  backoffChecks(config, report);
  driftChecks(config, report);
}

/** Reports every entry whose key an earlier entry has, at the later one. */
function once<T>(
  items: readonly T[],
  key: (item: T) => string | undefined,
  at: (i: number) => Path,
  what: (item: T) => { input: unknown; name: string },
  report: Report,
): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else {
      const { input, name } = what(item);
      report(at(i), input, `${name} is listed already at [${first}]; drop one of them, or merge them`);
    }
  });
}

function duplicateChecks(config: PlatformConfig, report: Report): void {
  const { project, notifications, drift } = config;
  for (const [name, service] of Object.entries(config.services))
    once(
      service.envFromSecrets ?? [],
      (s) => s,
      (i) => ['services', name, 'envFromSecrets', i],
      (s) => ({ input: s, name: `Secret ${s}` }),
      report,
    );
  once(
    project.roles,
    (r) => r.name,
    (i) => ['project', 'roles', i, 'name'],
    (r) => ({ input: r.name, name: `role ${r.name}` }),
    report,
  );
  // Identical windows are one window; two of the same kind and schedule differ only by mistake.
  once(
    project.syncWindows,
    (w) => JSON.stringify([w.kind, w.schedule, w.timeZone, [...w.applications].sort()]),
    (i) => ['project', 'syncWindows', i],
    (w) => ({
      input: { kind: w.kind, schedule: w.schedule },
      name: `a ${w.kind} window with schedule "${w.schedule}" for the same applications`,
    }),
    report,
  );
  once(
    project.clusterResources,
    (gk) => `${gk.group}/${gk.kind}`,
    (i) => ['project', 'clusterResources', i],
    (gk) => ({ input: gk, name: `${gk.kind} of group "${gk.group}"` }),
    report,
  );
  // Argo CD keys a subscription by trigger and service (subscribe.<trigger>.<service>): a second one overwrites the first.
  once(
    notifications.subscriptions,
    (s) => `${s.trigger}.${s.service}`,
    (i) => ['notifications', 'subscriptions', i],
    (s) => ({
      input: { trigger: s.trigger, service: s.service },
      name: `a ${s.service} subscription to ${s.trigger} (Argo CD keeps one per trigger and service; list every recipient in one)`,
    }),
    report,
  );
  notifications.subscriptions.forEach((s, i) =>
    once(
      s.recipients,
      (r) => r,
      (j) => ['notifications', 'subscriptions', i, 'recipients', j],
      (r) => ({ input: r, name: `recipient ${r}` }),
      report,
    ),
  );
  once(
    drift.rules ?? [],
    (r) => r.name,
    (i) => ['drift', 'rules', i, 'name'],
    (r) => ({ input: r.name, name: `rule ${r.name} (audit records and metrics name the rule that matched)` }),
    report,
  );
  for (const severity of ['low', 'medium', 'high'] as const) {
    once(
      drift.notify[severity],
      (t) => t,
      (i) => ['drift', 'notify', severity, i],
      (t) => ({ input: t, name: `target ${t}` }),
      report,
    );
  }
  // RollingSync syncs each Application in the first step that matches it: a later step never gets it.
  const steps = config.applicationSet.progressiveSteps ?? [];
  const stepOf = new Map<string, number>();
  steps.forEach((step, i) =>
    step.forEach((name, j) => {
      const first = stepOf.get(name);
      if (first === undefined) stepOf.set(name, i);
      else
        report(
          ['applicationSet', 'progressiveSteps', i, j],
          name,
          `service ${name} is in step [${first}] already; RollingSync syncs a service in one step only, so list it once`,
        );
    }),
  );
}

/** Argo CD's own defaults, for a retry that sets only one end. */
const RETRY_DEFAULTS = { backoffDuration: '5s', backoffMaxDuration: '3m' };

/** A backoff grows from its first wait up to its ceiling: a ceiling below the start is a typo. */
function backoffChecks(config: PlatformConfig, report: Report): void {
  // A start that breaks its own rule (not a duration, too long) has its own error already.
  const below = (
    path: Path,
    cap: string,
    capKey: string,
    start: string,
    startKey: string,
    startMax = '1h',
  ) => {
    if (isDurationUpTo(startMax, '')(start) !== undefined || isDuration(cap) !== undefined) return;
    if (durationSeconds(cap) < durationSeconds(start))
      report(
        path,
        cap,
        `it is shorter than ${startKey} (${start}), the first wait it caps; raise ${capKey} to at least ${start}, or lower ${startKey}`,
      );
  };
  const { argocd, sync, drift } = config;
  below(
    ['argocd', 'selfHealBackoffCap'],
    argocd.selfHealBackoffCap,
    'selfHealBackoffCap',
    argocd.selfHealBackoff,
    'argocd.selfHealBackoff',
  );
  if (sync.retry) {
    const start = sync.retry.backoffDuration ?? RETRY_DEFAULTS.backoffDuration;
    const cap = sync.retry.backoffMaxDuration ?? RETRY_DEFAULTS.backoffMaxDuration;
    const startKey = `sync.retry.backoffDuration${sync.retry.backoffDuration === undefined ? ", Argo CD's default" : ''}`;
    if (sync.retry.backoffMaxDuration !== undefined)
      below(['sync', 'retry', 'backoffMaxDuration'], cap, 'backoffMaxDuration', start, startKey);
    else if (isDurationUpTo('1h', '')(start) === undefined && durationSeconds(start) > durationSeconds(cap))
      report(
        ['sync', 'retry', 'backoffDuration'],
        start,
        `it is longer than Argo CD's default backoffMaxDuration (${cap}), which caps it; set sync.retry.backoffMaxDuration to at least ${start}, or lower backoffDuration`,
      );
  }
  below(
    ['drift', 'backoff', 'max'],
    drift.backoff.max,
    'max',
    drift.backoff.initial,
    'drift.backoff.initial',
  );
  for (const [key, max] of [
    ['initial', '1h'],
    ['max', '24h'],
  ] as const) {
    const value = drift.backoff[key];
    if (isDuration(value) === undefined && durationSeconds(value) > durationSeconds(max))
      report(
        ['drift', 'backoff', key],
        value,
        `it is longer than ${max}, the most it may be (the controller waits this long between heals of one drift, so it would stay unhealed); shorten it, e.g. to ${max}`,
      );
  }
}

/** What drift-schema.ts checks one key at a time, and the controller would trip over later. */
function driftChecks(config: PlatformConfig, report: Report): void {
  const { controller } = config.drift;
  const imageRule = isImageReference(controller.image);
  if (controller.image.trim() !== '' && imageRule)
    report(['drift', 'controller', 'image'], controller.image, `${imageRule}; the kubelet could not pull it`);
  if (isKubernetesNamespace(controller.namespace))
    report(
      ['drift', 'controller', 'namespace'],
      controller.namespace,
      'Kubernetes keeps it (and every "kube-" namespace) for itself, and the drift records and controller need a namespace of their own; use "converge-system"',
    );
}
