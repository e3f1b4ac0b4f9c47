import { z } from 'zod';
import { Environment, ENVIRONMENTS } from '../model/constants';
import { ValidationError } from '../model/errors';
import { SyncPolicy } from '../model/sync-policy';
import type { PlatformConfig, SyncConfig } from './schema';

/*
 * Rules that span several keys of a stack file (a service's repo must be in the project, a drift
 * target must be configured, ...), each reported at the key a person would change.
 */

export function crossChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  // An empty project.sourceRepos has its own error; every repo would be outside it.
  const repos = config.project.sourceRepos ?? [config.git.repoURL];
  const onDefaultRepo: string[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    const repo = service.repoURL;
    if (repo === undefined) onDefaultRepo.push(name);
    else if (repos.length > 0 && !repos.includes(repo)) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', name, 'repoURL'],
        input: repo,
        message: `it is outside the project; allowed repos: ${repos.join(', ')}; add it to project.sourceRepos or use one of those`,
      });
    }
  }
  if (onDefaultRepo.length > 0 && repos.length > 0 && !repos.includes(config.git.repoURL)) {
    ctx.addIssue({
      code: 'custom',
      path: ['git', 'repoURL'],
      input: config.git.repoURL,
      message: `it is outside the project, and ${onDefaultRepo.join(', ')} read their charts from it; allowed repos: ${repos.join(', ')}; add it to project.sourceRepos, or set those services' repoURL to an allowed repo`,
    });
  }
  // The sync policy's own rules (e.g. prune only acts on automated syncs), reported at sync.<key>.
  const syncProblem = syncPolicyProblem(config.environment, config.sync);
  if (syncProblem) {
    ctx.addIssue({
      code: 'custom',
      path: ['sync', ...syncProblem.path.split('.')],
      input: syncProblem.value,
      message: syncProblem.rule,
    });
  }
  for (const [i, step] of (config.applicationSet.progressiveSteps ?? []).entries()) {
    for (const [j, name] of step.entries()) {
      if (!(name in config.services)) {
        ctx.addIssue({
          code: 'custom',
          path: ['applicationSet', 'progressiveSteps', i, j],
          input: name,
          message: `it is not a declared service; use one of: ${Object.keys(config.services).join(', ')}`,
        });
      }
    }
  }
  if (config.applicationSet.progressiveSteps && config.sync.automated !== false) {
    ctx.addIssue({
      code: 'custom',
      path: ['applicationSet', 'progressiveSteps'],
      input: config.applicationSet.progressiveSteps,
      message:
        'RollingSync turns automated sync off on generated Applications, so prune and self-heal would silently stop; set sync.automated: false to accept that, or drop progressiveSteps',
    });
  }
  for (const severity of ['low', 'medium', 'high'] as const) {
    for (const [i, target] of config.drift.notify[severity].entries()) {
      const [service, name] = target.split(':');
      // Malformed targets already have their own error.
      if (!['webhook', 'slack', 'pagerduty', 'email'].includes(service)) continue;
      const missing =
        service === 'webhook'
          ? !(name in config.notifications.webhooks)
          : !config.notifications[service as 'slack' | 'pagerduty' | 'email'];
      if (missing) {
        ctx.addIssue({
          code: 'custom',
          path: ['drift', 'notify', severity, i],
          input: target,
          message: `it names a ${service} ${service === 'webhook' ? 'webhook that is not declared' : 'service that is not configured'}; declare it under notifications or pick another target`,
        });
      }
    }
  }
  for (const [i, sub] of config.notifications.subscriptions.entries()) {
    const configured =
      sub.service === 'webhook'
        ? Object.keys(config.notifications.webhooks).length > 0
        : config.notifications[sub.service];
    if (!configured) {
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'subscriptions', i, 'service'],
        input: sub.service,
        message: `no ${sub.service} service is configured; add notifications.${sub.service === 'webhook' ? 'webhooks.<name>' : sub.service} or subscribe another service`,
      });
    }
    if (sub.service === 'webhook') {
      for (const [j, recipient] of sub.recipients.entries()) {
        if (!(recipient in config.notifications.webhooks)) {
          ctx.addIssue({
            code: 'custom',
            path: ['notifications', 'subscriptions', i, 'recipients', j],
            input: recipient,
            message: `it is not a declared webhook; use one of: ${Object.keys(config.notifications.webhooks).join(', ')}`,
          });
        }
      }
    }
  }
}

/** The ValidationError SyncPolicy raises for an environment's `sync` settings, if any. */
function syncPolicyProblem(environment: Environment, sync: SyncConfig): ValidationError | undefined {
  if (!ENVIRONMENTS.includes(environment)) return undefined;
  try {
    SyncPolicy.forEnvironment(environment, sync);
    return undefined;
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
}
