import { z } from 'zod';
import { Environment, ENVIRONMENTS } from '../model/constants';
import { ValidationError } from '../model/errors';
import { SyncPolicy } from '../model/sync-policy';
import { hasNoCredentials, hasUserinfo } from '../model/urls';
import { isEmailAddress, isGitRepoUrl, isProjectSourceRepo } from '../model/validators';
import { consistencyChecks } from './consistency-checks';
import { imageUpdateChecks } from './image-updates';
import { hookChecks } from './hooks';
import type { PlatformConfig, SyncConfig } from './schema';

/*
 * Rules that span several keys of a stack file (a service's repo must be in the project, a drift
 * target must be configured, ...), each reported at the key a person would change.
 */

/** The shape drift-schema.ts gives a notify target; a target without it has that file's error. */
const NOTIFY_TARGET = /^(slack:.+|pagerduty|email:.+@.+|webhook:[a-z0-9-]+)$/;

export function crossChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  for (const [name, service] of Object.entries(config.services)) {
    const owner =
      service.namespace === config.argocd.namespace
        ? "it is Argo CD's namespace (argocd.namespace)"
        : service.namespace === config.drift.controller.namespace
          ? "it is Converge's own namespace (drift.controller.namespace), which holds the drift records and controller"
          : undefined;
    if (owner) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', name, 'namespace'],
        input: service.namespace,
        message: `${owner}, and the service's project would grant access to everything in it; give the service a namespace of its own, e.g. "${config.environment}-${name}"`,
      });
    }
  }
  // An empty project.sourceRepos, or one with a bad entry (a wildcard), has its own error already:
  // checking against it would add a second line about the same problem.
  const declared = config.project.sourceRepos;
  const repos =
    declared === undefined
      ? [config.git.repoURL]
      : declared.every((r) => isProjectSourceRepo(r) === undefined && hasNoCredentials(r) === undefined)
        ? declared
        : [];
  const onDefaultRepo: string[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    const repo = service.repoURL;
    if (repo === undefined) onDefaultRepo.push(name);
    // A URL with credentials, or no Git URL at all, has its own error already.
    else if (
      repos.length > 0 &&
      !repos.includes(repo) &&
      !hasUserinfo(repo) &&
      isGitRepoUrl(repo) === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', name, 'repoURL'],
        input: repo,
        message: `it is outside the project; allowed repos: ${repos.join(', ')}; add it to project.sourceRepos or use one of those`,
      });
    }
  }
  if (
    onDefaultRepo.length > 0 &&
    repos.length > 0 &&
    !repos.includes(config.git.repoURL) &&
    isGitRepoUrl(config.git.repoURL) === undefined &&
    !hasUserinfo(config.git.repoURL)
  ) {
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
      // Malformed targets already have their own error (drift-schema.ts's notifyTarget).
      if (!NOTIFY_TARGET.test(target)) continue;
      const address = service === 'email' ? isEmailAddress(target.slice('email:'.length)) : undefined;
      if (address) {
        ctx.addIssue({
          code: 'custom',
          path: ['drift', 'notify', severity, i],
          input: target,
          message: `after "email:" ${address.replace(/^it must be /, 'comes ')}, e.g. "email:oncall@example.com"`,
        });
        continue;
      }
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
    const webhooks = Object.keys(config.notifications.webhooks);
    const configured = sub.service === 'webhook' ? webhooks.length > 0 : config.notifications[sub.service];
    if (!configured) {
      // One problem, one line: with no webhook declared, the recipients have nothing to name.
      ctx.addIssue({
        code: 'custom',
        path: ['notifications', 'subscriptions', i, 'service'],
        input: sub.service,
        message:
          sub.service === 'webhook'
            ? 'no webhook is declared, so its recipients name nothing; declare one under notifications.webhooks first (e.g. deploy-events: { url: https://hooks.example.com/argocd }), or subscribe another service'
            : `no ${sub.service} service is configured; add notifications.${sub.service} or subscribe another service`,
      });
    } else if (sub.service === 'webhook') {
      for (const [j, recipient] of sub.recipients.entries()) {
        if (!(recipient in config.notifications.webhooks)) {
          ctx.addIssue({
            code: 'custom',
            path: ['notifications', 'subscriptions', i, 'recipients', j],
            input: recipient,
            message: `it is not a declared webhook; use one of: ${webhooks.join(', ')}`,
          });
        }
      }
    }
  }
  addonChecks(config, ctx);
  consistencyChecks(config, ctx);
  imageUpdateChecks(config, ctx);
  hookChecks(config, ctx);
}

/** Argo CD's longest name of a project. */
const PROJECT_NAME_MAX = 63;

/**
 * Each add-on's project grants one namespace, so that namespace is the add-on's alone: never Argo
 * CD's, Converge's or a service's. Its project and Application, `<env>-addon-<name>`, take no name
 * that is in use, and fit Argo CD's limit.
 */
function addonChecks(config: PlatformConfig, ctx: z.RefinementCtx): void {
  const env = config.environment;
  const servicesIn = (namespace: string) =>
    Object.keys(config.services).filter((s) => config.services[s].namespace === namespace);
  // A split service has a second, guarded Application: both names are taken.
  const serviceApps = new Map(
    Object.keys(config.services).flatMap((s) => [
      [`${env}-${s}`, s],
      [`${env}-${s}-guarded`, s],
    ]),
  );
  const creators = new Map<string, { name: string; createNamespace: boolean }>();
  for (const [name, addon] of Object.entries(config.addons)) {
    const at = (path: (string | number)[], input: unknown, message: string) =>
      ctx.addIssue({ code: 'custom', path: ['addons', name, ...path], input, message });
    const ns = addon.namespace;
    const platformNs =
      ns === config.argocd.namespace
        ? "it is Argo CD's namespace (argocd.namespace)"
        : ns === config.drift.controller.namespace
          ? "it is Converge's own namespace (drift.controller.namespace), which holds the drift records and controller"
          : undefined;
    const services = servicesIn(ns);
    if (platformNs) {
      at(
        ['namespace'],
        ns,
        `${platformNs}, and the add-on's project would grant access to everything in it; give the add-on a namespace of its own, e.g. "${name}"`,
      );
    } else if (services.length > 0) {
      at(
        ['namespace'],
        ns,
        `services ${services.join(', ')} deploy to it; an add-on gets a namespace of its own, so its project grants nothing in theirs; pick another namespace, e.g. "${name}"`,
      );
    }
    const first = creators.get(ns);
    if (!first) creators.set(ns, { name, createNamespace: addon.createNamespace });
    else if (first.createNamespace !== addon.createNamespace) {
      at(
        ['createNamespace'],
        addon.createNamespace,
        `add-on ${first.name} shares namespace ${ns} with createNamespace: ${first.createNamespace}; a namespace has one owner, so set the same value on both`,
      );
    }
    const full = `${env}-addon-${name}`;
    if (full.length > PROJECT_NAME_MAX) {
      at(
        [],
        name,
        `it names the add-on's project and Application "${full}", ${full.length} characters; Argo CD allows ${PROJECT_NAME_MAX}; shorten the name to at most ${PROJECT_NAME_MAX - full.length + name.length} characters`,
      );
    }
    const service = serviceApps.get(full);
    if (service !== undefined) {
      at(
        [],
        name,
        `its Application "${full}" would take the name of service ${service}'s; rename the add-on or the service`,
      );
    }
    if (full === (config.project.name ?? env)) {
      at(
        [],
        name,
        `its project "${full}" would take the name of project.name; rename the add-on or the project`,
      );
    }
    // The add-on's sync is the environment's with its own prune and selfHeal; the environment's
    // own problems are reported at sync.<key> already.
    if (!syncPolicyProblem(env, config.sync)) {
      const problem = syncPolicyProblem(env, { ...config.sync, ...definedKeys(addon.sync) });
      if (problem) {
        const own = problem.path in definedKeys(addon.sync);
        at(
          ['sync', ...(own ? [problem.path] : [])],
          own ? problem.value : addon.sync,
          own
            ? problem.rule
            : `with the environment's sync, '${problem.path}' breaks a rule: ${problem.rule}`,
        );
      }
    }
  }
}

function definedKeys<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
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
