import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { stackFileLabel } from '../../config/stack-file';
import { DRIFT_RECORD, LABELS } from '../../model/constants';
import { UsageError } from '../../model/errors';
import { KubeObject } from '../../model/objects';
import { cacheRoot } from '../../render/cache';
import { DesiredState, desiredState } from '../../render/desired-state';
import { DRIFT_RECORD_API_VERSION } from '../audit';
import { KubeClient } from '../kube/client';
import {
  apply,
  helm,
  HelmRelease,
  helmRelease,
  HelmTarget,
  helmUninstall,
  kubectlApply,
  mutate,
  pollUntil,
  readLive,
  remove,
} from './cluster';
import { neededSecret, neededSecretName, withEnvFromSecret } from './needed-secret';
import { describeTerm, drawOperator, OperatorTerm, seededRandom } from './operator';
import { Scenario, ScenarioName, scenarioFor, SCENARIO_TITLES } from './scenarios';
import { Arm, iso, seconds, Trial, TrialPart } from './trial';
import { WatchProcess } from './watch-process';

/*
 * `converge eval`: the same six drifts, N times each, under three reconcilers, on the
 * environment's services installed by helm into a cluster that does not run them yet (the state
 * before GitOps). Arms run one after another, manual first, so no reconciler of one arm is
 * present in another's: the manual arm has none, the converge arm runs `converge watch`, the
 * argocd arm an Argo CD Application with self-heal. Every trial is isolated: Argo CD's self-heal
 * backoff is reset by a sync and the controller restarts with no records, so each trial measures
 * one drift, not a drift that keeps coming back. Everything the run creates is removed at the end.
 */

export const RUN_ORDER: readonly Arm[] = ['manual', 'converge', 'argocd'];

export interface EvalOptions {
  readonly env: string;
  readonly stacksDir?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly trials: number;
  readonly scenarios: readonly ScenarioName[];
  /** True when --scenarios named them: a scenario the chart cannot run is then an error, not a skip. */
  readonly scenariosNamed: boolean;
  readonly arms: readonly Arm[];
  readonly seed: number;
  readonly reaction: readonly OperatorTerm[];
  readonly reactionSpec: string;
  readonly timeoutSeconds: number;
  /** How to start `converge` (node and its entry point) for the converge arm's `converge watch`. */
  readonly convergeCommand: readonly string[];
  readonly log: (line: string) => void;
}

export interface EvalRun {
  readonly environment: string;
  readonly subject: { readonly service: string; readonly namespace: string; readonly commit?: string };
  readonly settings: {
    readonly trials: number;
    readonly arms: readonly Arm[];
    readonly seed: number;
    readonly reaction: string;
    readonly timeoutSeconds: number;
    readonly argocdSyncPolicy: unknown;
  };
  readonly skipped: readonly { readonly scenario: ScenarioName; readonly why: string }[];
  readonly trials: readonly Trial[];
}

/**
 * How long the argocd arm waits for an object Git does not hold: Argo CD does not restore what Git
 * does not hold, so the trial ends there as a timeout (censored), never as restored.
 */
export const ARGOCD_OUTSIDE_GIT_TIMEOUT_SECONDS = 20;

/** Argo CD's documented automated sync with self-heal; everything else (prune, retry, options) its default. */
export const ARGOCD_DEFAULT_SYNC = { automated: { selfHeal: true } };

interface Ctx {
  readonly o: EvalOptions;
  /** Replaced once the records' CRD is created: a client's discovery is cached. */
  client: KubeClient;
  readonly kc: KubeConfig;
  readonly helmTarget: HelmTarget;
  readonly releases: readonly HelmRelease[];
  readonly subject: HelmRelease;
  readonly scenarios: readonly Scenario[];
  readonly recordsNamespace: string;
  readonly argoApp: KubeObject;
  /** The operator's own copy of the Secret Git does not hold (a manifest file), when one is made. */
  readonly neededSecret?: { readonly object: KubeObject; readonly file: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runEval(kc: KubeConfig, o: EvalOptions): Promise<EvalRun> {
  mkdirSync(join(cacheRoot(), 'tmp'), { recursive: true });
  const work = mkdtempSync(join(cacheRoot(), 'tmp', 'eval-'));
  try {
    return await evalIn(kc, o, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The subject's desired state with the Secret it needs and Git does not hold, for `delete-secret`. */
interface WithNeededSecret {
  readonly desired: DesiredState;
  readonly secret: KubeObject;
  /** The stack file (Git's, plus the need) and the charts at Git's commit, for `converge watch`. */
  readonly stacksDir: string;
  readonly chartsDir: string;
}

/**
 * Git's stack file, with `services.<subject>.envFromSecrets` also naming the eval's Secret, read
 * with the charts at the same commit: the desired state the chart, the controller and Argo CD's
 * Application all share in this run. Git itself is not changed.
 */
async function withNeededSecret(
  o: EvalOptions,
  git: DesiredState,
  service: string,
  namespace: string,
  work: string,
): Promise<WithNeededSecret> {
  const label = stackFileLabel(o.env);
  const name = neededSecretName(service);
  const stacksDir = join(work, 'stacks');
  mkdirSync(stacksDir, { recursive: true });
  const text = readFileSync(join(git.charts.dir, label), 'utf8');
  writeFileSync(
    join(stacksDir, `Pulumi.${o.env}.yaml`),
    withEnvFromSecret(text, `${label}@${git.charts.commit?.slice(0, 12) ?? git.charts.dir}`, service, name),
  );
  const chartsDir = join(git.charts.dir, 'charts');
  const desired = await desiredState(o.env, { stacksDir, chartsDir });
  return { desired, secret: neededSecret(name, namespace), stacksDir, chartsDir };
}

async function evalIn(kc: KubeConfig, o: EvalOptions, work: string): Promise<EvalRun> {
  // Discovery is cached per client: a fresh one after the CRD is created (below) sees its kind.
  let client = new KubeClient(kc);
  const desired = await desiredState(o.env, { stacksDir: o.stacksDir, withoutArgoCd: true });
  const config = desired.environment.loaded.config;
  const gitApps = desired.environment.platform.applicationSet.applications;
  const objectsOf = (d: DesiredState, app: KubeObject) =>
    d.objects.filter((x) => x.application === app.metadata.name).map((x) => x.object);
  const service =
    gitApps[0].metadata.labels?.[LABELS.service] ??
    (gitApps[0].spec as { source: { helm?: { releaseName?: string } } }).source.helm?.releaseName ??
    gitApps[0].metadata.name;
  const subjectNamespace = (gitApps[0].spec as { destination: { namespace: string } }).destination.namespace;
  // A Secret in the chart would be in Git (plaintext there): the scenario is on one the service
  // needs that Git does not hold, as a credential made by hand is, even when the chart has one.
  const needed = o.scenarios.includes('delete-secret')
    ? await withNeededSecret(o, desired, service, subjectNamespace, work)
    : undefined;
  const apps = (needed?.desired ?? desired).environment.platform.applicationSet.applications;
  const subjectApp = apps[0];
  const subjectObjects = objectsOf(needed?.desired ?? desired, subjectApp);
  const scenarios: Scenario[] = [];
  const skipped: { scenario: ScenarioName; why: string }[] = [];
  for (const name of o.scenarios) {
    const s = scenarioFor(name, subjectObjects, needed ? [needed.secret] : []);
    if (s) scenarios.push(s);
    else {
      const why = `${subjectApp.metadata.name}'s chart renders no such object`;
      if (o.scenariosNamed)
        throw new UsageError(
          `--scenarios names ${name}, but ${why} in ${o.env}; drop it from --scenarios, or declare the object in the chart`,
        );
      skipped.push({ scenario: name, why });
    }
  }
  if (!scenarios.length)
    throw new UsageError(`--scenarios: none of ${o.scenarios.join(', ')} can run on ${o.env}`);

  const namespaces = [
    ...new Set([
      ...apps.map((a) => (a.spec as { destination: { namespace: string } }).destination.namespace),
    ]),
    config.drift.controller.namespace,
  ];
  for (const ns of namespaces)
    if (await readLive(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
      throw new UsageError(
        `namespace ${ns} already exists in the cluster; converge eval installs ${o.env}'s services itself (helm, as before GitOps) and removes them after, so it needs a cluster where ${o.env} is not deployed; use a scratch cluster (--kubeconfig/--context) or delete the namespace`,
      );
  const argoApp = argoApplication(subjectApp, config.argocd.namespace, o.env, desired.charts.commit);
  if (o.arms.includes('argocd') && !(await client.resource('argoproj.io/v1alpha1', 'Application')))
    throw new UsageError(
      `--arms includes argocd, but the cluster serves no Argo CD Application kind; install Argo CD, or leave argocd out of --arms`,
    );

  const helmTarget = { kubeconfig: o.kubeconfig, context: o.context };
  const releases = apps.map((a) => helmRelease(a, desired.charts.dir, work));
  const created: KubeObject[] = [];
  const watch = new WatchProcess(o.convergeCommand, watchArgs(o, needed));
  // The operator's own store: the manifest they made the Secret from, readable by them only.
  const neededFile = needed && join(work, `${needed.secret.metadata.name}.secret.json`);
  if (needed && neededFile) writeFileSync(neededFile, JSON.stringify(needed.secret), { mode: 0o600 });
  const ctx: Ctx = {
    o,
    client,
    kc,
    helmTarget,
    releases,
    subject: releases[0],
    scenarios,
    recordsNamespace: config.drift.controller.namespace,
    argoApp,
    neededSecret: needed && neededFile ? { object: needed.secret, file: neededFile } : undefined,
  };
  const trials: Trial[] = [];
  try {
    // The sandbox: the namespaces as Git declares them, and the records' CRD when the cluster has none.
    for (const ns of namespaces) {
      const declared = desired.objects.find(
        (d) => d.object.kind === 'Namespace' && d.object.metadata.name === ns,
      );
      const obj = declared?.object ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } };
      await apply(client, obj);
      created.push(obj);
    }
    if (
      o.arms.includes('converge') &&
      !(await client.resource(DRIFT_RECORD_API_VERSION, DRIFT_RECORD.kind))
    ) {
      const crd = desired.objects.find((d) => d.object.kind === 'CustomResourceDefinition')?.object;
      if (!crd)
        throw new UsageError(
          `${o.env} declares no DriftRecord CRD; the converge arm needs one to record drift`,
        );
      await apply(client, crd);
      created.push(crd);
      await pollUntil(
        async () => {
          client = new KubeClient(kc);
          return !!(await client.resource(DRIFT_RECORD_API_VERSION, DRIFT_RECORD.kind));
        },
        Date.now() + 30_000,
        200,
      );
      ctx.client = client;
    }
    if (needed) {
      await apply(client, needed.secret);
      o.log(
        `made Secret ${needed.secret.metadata.name} in ${subjectNamespace}, which ${service} needs and Git does not hold`,
      );
    }
    for (const r of releases) {
      const h = await helm('install', r, helmTarget);
      if (!h.ok)
        throw new UsageError(`${h.line}; fix the chart or the cluster, then run converge eval again`);
    }
    o.log(`installed ${releases.map((r) => `${r.name} in ${r.namespace}`).join(', ')} with helm`);
    const random = seededRandom(o.seed);
    for (const arm of RUN_ORDER.filter((a) => o.arms.includes(a))) {
      o.log(`arm ${arm}: ${scenarios.length} scenarios x ${o.trials} trials`);
      if (arm === 'argocd') await startArgo(ctx);
      for (const scenario of scenarios)
        for (let trial = 1; trial <= o.trials; trial++) {
          await baseline(ctx, arm);
          const t =
            arm === 'manual'
              ? await manualTrial(ctx, scenario, trial, random)
              : arm === 'converge'
                ? await convergeTrial(ctx, watch, scenario, trial)
                : await argoTrial(ctx, scenario, trial);
          trials.push(t);
          o.log(
            `  ${arm} ${scenario.name} #${trial}: ${t.outcome}${t.restoreSeconds === null ? '' : ` in ${t.restoreSeconds.toFixed(2)} s`}`,
          );
        }
      if (arm === 'converge') await watch.stop();
      if (arm === 'argocd') await remove(client, argoApp);
    }
  } finally {
    await watch.stop();
    await remove(client, argoApp).catch(() => undefined);
    for (const r of releases) await helmUninstall(r, helmTarget);
    for (const obj of created.reverse()) await remove(client, obj).catch(() => undefined);
    // Wait for the namespaces to go, so the next run does not find them terminating.
    await pollUntil(
      async () => {
        for (const ns of namespaces)
          if (await readLive(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
            return false;
        return true;
      },
      Date.now() + 120_000,
      500,
    ).catch(() => undefined);
  }
  return {
    environment: o.env,
    subject: {
      service: subjectApp.metadata.name,
      namespace: releases[0].namespace,
      commit: desired.charts.commit,
    },
    settings: {
      trials: o.trials,
      arms: RUN_ORDER.filter((a) => o.arms.includes(a)),
      seed: o.seed,
      reaction: o.reactionSpec,
      timeoutSeconds: o.timeoutSeconds,
      argocdSyncPolicy: ARGOCD_DEFAULT_SYNC,
    },
    skipped,
    trials,
  };
}

function watchArgs(o: EvalOptions, needed?: WithNeededSecret): string[] {
  return [
    '--env',
    o.env,
    // With the eval's Secret, the desired state is Git's stack file plus the need, and Git's charts.
    ...(needed
      ? ['--stacks-dir', needed.stacksDir, '--charts-dir', needed.chartsDir]
      : o.stacksDir
        ? ['--stacks-dir', o.stacksDir]
        : []),
    ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []),
    ...(o.context ? ['--context', o.context] : []),
    // The services' namespaces only: the rest of the platform is not installed here.
    '--namespaced',
    '--metrics-port',
    '-1',
  ];
}

/** The subject's Application as Argo CD would run it with its defaults: same chart, values and commit. */
function argoApplication(app: KubeObject, namespace: string, env: string, commit?: string): KubeObject {
  const spec = app.spec as { source: Record<string, unknown>; destination: Record<string, unknown> };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: `eval-${app.metadata.name}`,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'converge-eval', 'converge.dev/eval': env },
    },
    spec: {
      project: 'default',
      source: { ...spec.source, ...(commit ? { targetRevision: commit } : {}) },
      destination: spec.destination,
      syncPolicy: ARGOCD_DEFAULT_SYNC,
    },
  };
}

/**
 * Every scenario's object in its Git state before a trial; helm puts back what an earlier trial
 * left, and the eval re-makes the Secret Git does not hold if an arm left it deleted.
 */
async function baseline(ctx: Ctx, arm: Arm): Promise<void> {
  const needed = ctx.neededSecret;
  if (needed) {
    const s = ctx.scenarios.find((x) => x.desired === needed.object);
    if (s && !s.restored(await readLive(ctx.client, needed.object))) {
      // A deletion still in progress (finalizers) must end before the same name can be made again.
      await pollUntil(async () => !(await readLive(ctx.client, needed.object)), Date.now() + 30_000, 100);
      await apply(ctx.client, needed.object);
    }
  }
  const clean = async () => {
    for (const s of ctx.scenarios) if (!s.restored(await readLive(ctx.client, s.desired))) return false;
    return true;
  };
  if (await clean()) return;
  if (arm === 'argocd') {
    if (await pollUntil(clean, Date.now() + 30_000, 100)) return;
  }
  const h = await helm('upgrade', ctx.subject, ctx.helmTarget);
  if (!h.ok) throw new UsageError(`${h.line}; the subject could not be put back between trials`);
  if (!(await pollUntil(clean, Date.now() + 60_000, 100)))
    throw new UsageError(`${ctx.subject.name} did not come back to its Git state between trials`);
}

interface Onset {
  readonly startMs: number;
  readonly onsetMs: number;
}

async function drift(ctx: Ctx, s: Scenario): Promise<Onset> {
  const startMs = Date.now();
  await mutate(ctx.client, s.desired, s.mutation);
  return { startMs, onsetMs: Date.now() };
}

const restoredBy = (ctx: Ctx, s: Scenario, deadlineMs: number) =>
  pollUntil(async () => s.restored(await readLive(ctx.client, s.desired)), deadlineMs);

function trial(
  s: Scenario,
  arm: Arm,
  n: number,
  onsetMs: number,
  detectedMs: number | undefined,
  restoredMs: number | undefined,
  parts: TrialPart[],
  outcome: Trial['outcome'],
  detail: string,
): Trial {
  const modelled = parts.filter((p) => p.modelled).reduce((a, p) => a + p.seconds, 0);
  const measured = parts.filter((p) => !p.modelled).reduce((a, p) => a + p.seconds, 0);
  return {
    scenario: s.name,
    arm,
    trial: n,
    onset: iso(onsetMs),
    detected: detectedMs === undefined ? null : iso(detectedMs),
    restored: restoredMs === undefined ? null : iso(restoredMs),
    detectSeconds: detectedMs === undefined ? null : seconds(detectedMs - onsetMs),
    restoreSeconds: restoredMs === undefined ? null : seconds(restoredMs - onsetMs),
    measuredSeconds: seconds(measured * 1000),
    modelledSeconds: seconds(modelled * 1000),
    parts,
    outcome,
    detail,
  };
}

/**
 * Manual: the operator model's wait (drawn, not slept), then a real fix and the live object back.
 * The fix is `helm upgrade`, or for what Git does not hold, `kubectl apply` of the operator's copy.
 */
async function manualTrial(ctx: Ctx, s: Scenario, n: number, random: () => number): Promise<Trial> {
  const draws = drawOperator(ctx.o.reaction, random);
  const { onsetMs } = await drift(ctx, s);
  const kept = !s.inGit && ctx.neededSecret?.object === s.desired ? ctx.neededSecret : undefined;
  const h = kept
    ? await kubectlApply(kept.file, `Secret ${s.desired.metadata.name}`, ctx.helmTarget)
    : await helm('upgrade', ctx.subject, ctx.helmTarget);
  const back = h.ok ? await restoredBy(ctx, s, Date.now() + ctx.o.timeoutSeconds * 1000) : undefined;
  const waitedMs = draws.reduce((a, d) => a + d, 0) * 1000;
  const noticeMs = ctx.o.reaction.some((t) => t.kind === 'every')
    ? draws.filter((_, i) => ctx.o.reaction[i].kind === 'every').reduce((a, d) => a + d, 0) * 1000
    : waitedMs;
  const parts: TrialPart[] = [
    ...ctx.o.reaction.map((t, i) => ({
      what: describeTerm(t),
      seconds: seconds(draws[i] * 1000),
      modelled: true,
    })),
    { what: h.line, seconds: seconds(h.ms), modelled: false },
  ];
  if (back !== undefined)
    parts.push({
      what: `live object back in its Git state after ${kept ? 'kubectl apply' : 'helm'}`,
      seconds: seconds(back - onsetMs - h.ms),
      modelled: false,
    });
  // The modelled wait shifts the measured fix later on the trial's own time line.
  return trial(
    s,
    'manual',
    n,
    onsetMs,
    onsetMs + noticeMs,
    back === undefined ? undefined : back + waitedMs,
    parts,
    !h.ok ? 'failed' : back === undefined ? 'timeout' : 'restored',
    kept
      ? "detected and the wait before the fix: modelled (seeded draws); kubectl apply of the operator's copy and the live object: measured"
      : 'detected and the wait before helm: modelled (seeded draws); helm upgrade and the live object: measured',
  );
}

interface Rec {
  spec: { event: string; at: string; object: { kind: string; name: string; namespace?: string } };
}

async function recordsFor(ctx: Ctx, s: Scenario, sinceMs: number): Promise<Rec['spec'][]> {
  const { items } = await ctx.client.list<Rec>(
    DRIFT_RECORD_API_VERSION,
    DRIFT_RECORD.kind,
    '',
    ctx.recordsNamespace,
  );
  return items
    .map((i) => i.spec)
    .filter(
      (r) =>
        r.object.kind === s.desired.kind &&
        r.object.name === s.desired.metadata.name &&
        r.object.namespace === s.desired.metadata.namespace &&
        Date.parse(r.at) >= sinceMs,
    )
    .sort((a, b) => a.at.localeCompare(b.at));
}

/** Converge: a fresh controller with no records (no backoff from earlier trials); times from its records and the live object. */
async function convergeTrial(ctx: Ctx, watch: WatchProcess, s: Scenario, n: number): Promise<Trial> {
  await watch.stop();
  const path = await ctx.client.path(DRIFT_RECORD_API_VERSION, DRIFT_RECORD.kind, ctx.recordsNamespace);
  await ctx.client.request('DELETE', path);
  await watch.start();
  const { startMs, onsetMs } = await drift(ctx, s);
  const deadline = Date.now() + ctx.o.timeoutSeconds * 1000;
  let held = false;
  const back = await pollUntil(async () => {
    if (s.restored(await readLive(ctx.client, s.desired))) return true;
    held = (await recordsFor(ctx, s, startMs)).some((r) => r.event === 'held');
    return held;
  }, deadline);
  // The detection record can land just after the object is back: give it a moment.
  const detected = await pollUntil(
    async () => (await recordsFor(ctx, s, startMs)).some((r) => r.event === 'detected'),
    Date.now() + 5_000,
    100,
  );
  const records = await recordsFor(ctx, s, startMs);
  const detectedAt = detected ? Date.parse(records.find((r) => r.event === 'detected')!.at) : undefined;
  const restoredMs = held ? undefined : back;
  const parts: TrialPart[] =
    restoredMs === undefined
      ? []
      : [
          {
            what: 'drift to the live object back (controller heal)',
            seconds: seconds(restoredMs - onsetMs),
            modelled: false,
          },
        ];
  return trial(
    s,
    'converge',
    n,
    onsetMs,
    detectedAt === undefined ? undefined : Math.max(detectedAt, onsetMs),
    restoredMs,
    parts,
    held ? 'held-for-approval' : restoredMs === undefined ? 'timeout' : 'restored',
    `detected: the controller's "detected" record; restored: the live object; records: ${records.map((r) => r.event).join(', ') || 'none'}`,
  );
}

interface ArgoApp {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    operationState?: { phase?: string };
  };
  operation?: { initiatedBy?: { automated?: boolean } };
}

async function argoSettled(ctx: Ctx, timeoutMs = 180_000): Promise<void> {
  const ok = await pollUntil(
    async () => {
      const app = await readLive(ctx.client, ctx.argoApp);
      const st = (app as ArgoApp | undefined)?.status;
      return (
        st?.sync?.status === 'Synced' &&
        st.health?.status === 'Healthy' &&
        st.operationState?.phase !== 'Running'
      );
    },
    Date.now() + timeoutMs,
    200,
  );
  if (!ok)
    throw new UsageError(
      `Argo CD Application ${ctx.argoApp.metadata.name} was not Synced and Healthy within ${timeoutMs / 1000} s; check Argo CD can read ${JSON.stringify((ctx.argoApp.spec as { source: { repoURL: string } }).source.repoURL)}`,
    );
}

async function startArgo(ctx: Ctx): Promise<void> {
  await apply(ctx.client, ctx.argoApp);
  await argoSettled(ctx);
}

/** A sync started by hand resets Argo CD's self-heal backoff, so each trial starts as a first drift. */
async function resetArgoBackoff(ctx: Ctx): Promise<void> {
  const app = (await readLive(ctx.client, ctx.argoApp)) as ArgoApp | undefined;
  const path = await ctx.client.path(
    'argoproj.io/v1alpha1',
    'Application',
    ctx.argoApp.metadata.namespace,
    ctx.argoApp.metadata.name,
  );
  await ctx.client.request(
    'PATCH',
    path,
    {
      operation: {
        initiatedBy: { username: 'converge-eval' },
        sync: { revision: app?.status?.sync?.revision, syncStrategy: { hook: {} } },
      },
    },
    'application/merge-patch+json',
  );
  await sleep(500);
  await argoSettled(ctx);
}

/** Argo CD: detection from a watch on the Application (OutOfSync, or its automated sync); restore from the live object. */
async function argoTrial(ctx: Ctx, s: Scenario, n: number): Promise<Trial> {
  await resetArgoBackoff(ctx);
  let detectedMs: number | undefined;
  let armed = false;
  const abort = await new Watch(ctx.kc).watch(
    `/apis/argoproj.io/v1alpha1/namespaces/${ctx.argoApp.metadata.namespace}/applications`,
    { fieldSelector: `metadata.name=${ctx.argoApp.metadata.name}` },
    (_type: string, obj: ArgoApp) => {
      if (!armed || detectedMs !== undefined) return;
      if (obj.status?.sync?.status === 'OutOfSync' || obj.operation?.initiatedBy?.automated === true)
        detectedMs = Date.now();
    },
    () => undefined,
  );
  try {
    armed = true;
    const timeoutSeconds = s.inGit
      ? ctx.o.timeoutSeconds
      : Math.min(ctx.o.timeoutSeconds, ARGOCD_OUTSIDE_GIT_TIMEOUT_SECONDS);
    const { onsetMs } = await drift(ctx, s);
    const back = await restoredBy(ctx, s, Date.now() + timeoutSeconds * 1000);
    if (detectedMs === undefined) await sleep(500);
    return trial(
      s,
      'argocd',
      n,
      onsetMs,
      detectedMs === undefined ? undefined : Math.max(detectedMs, onsetMs),
      back,
      back === undefined
        ? []
        : [
            {
              what: 'drift to the live object back (Argo CD self-heal)',
              seconds: seconds(back - onsetMs),
              modelled: false,
            },
          ],
      back === undefined ? 'timeout' : 'restored',
      `detected: the Application seen OutOfSync or with an automated sync (watch); restored: the live object; ${SCENARIO_TITLES[s.name]}${s.inGit ? '' : `; Argo CD does not restore what Git does not hold: waited ${timeoutSeconds} s`}`,
    );
  } finally {
    abort.abort();
  }
}
