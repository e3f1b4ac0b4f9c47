import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { KubeClient } from '../../drift/kube/client';
import { auditClient, recordsFor, WatchProcess, WebhookReceiver } from './drift-harness';
import {
  applyArgoCdConfig,
  clients,
  Clients,
  fileOnServer,
  GIT_URL,
  KUBECONFIG,
  PulumiWorkspace,
  RESULTS_DIR,
  ROOT,
  RUN_DIR,
  runArgoCdRedisSecretInit,
  waitFor,
} from '../../tools/cluster/harness';
import { CONVERGE_NAMESPACE, DRIFT_RECORD } from '../../model/constants';
import { settled } from '../../tools/cluster/self-heal';
import { release } from '../../tools/cluster/releases';

/*
 * The staging platform for the drift controller's end-to-end tests: deployed with `pulumi up`
 * (drift notifications to a loopback webhook, the in-cluster controller's RBAC), Argo CD settled,
 * and `converge watch` running as a process; plus the changes the tests make and wait for.
 */

// Measured times, for reports; outside the repo, so runs never dirty the tree.
const TIMINGS_FILE = join(RESULTS_DIR, 'drift-timings.json');
export const NS = 'staging-web';
export const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface StagingDrift {
  c: Clients;
  ws: PulumiWorkspace;
  hook: WebhookReceiver;
  controller: WatchProcess;
  readonly audit: KubeClient;
  /** Measured times, written to the results folder after the tests. */
  readonly timings: Record<string, Record<string, number>>;
}

/** The suite's shared state, filled in by the hooks useStagingDrift registers. */
export const s = { audit: auditClient(), timings: {} } as StagingDrift;

export const expectOk = (r: { code: number; stdout: string; stderr: string }) => {
  if (r.code !== 0)
    throw new Error(`pulumi exited ${r.code}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
};
export const since = () => new Date(Date.now() - 1000).toISOString();
export const ms = (iso: string, t0Iso: string) => Date.parse(iso) - Date.parse(t0Iso);
/** A Deployment of the staging services, by name and namespace. */
export interface Workload {
  readonly name: string;
  readonly namespace: string;
  /** Its replicas in Git. */
  readonly replicas: number;
}
/** The Secret staging's model-service reads (`envFromSecrets`), made outside Git. */
export const NEEDED_SECRET = {
  name: 'model-service-api-key',
  namespace: 'staging-ml',
  value: 'e2e-api-key-c0ffee',
};

export const APP: Workload = { name: 'app-service', namespace: NS, replicas: 2 };
export const replicas = async (w: Workload = APP) =>
  (await s.c.apps.readNamespacedDeployment({ name: w.name, namespace: w.namespace })).spec?.replicas;
export const scale = (n: number, w: Workload = APP) =>
  s.c.apps.patchNamespacedDeploymentScale(
    { name: w.name, namespace: w.namespace, body: { spec: { replicas: n } } },
    merge,
  );
export const serviceType = async () =>
  (await s.c.core.readNamespacedService({ name: 'app-service', namespace: NS })).spec?.type;
export const exposeService = () =>
  s.c.core.patchNamespacedService(
    { name: 'app-service', namespace: NS, body: { spec: { type: 'NodePort' } } },
    merge,
  );
export const converge = (...args: string[]) =>
  execFileSync(
    'node',
    [
      join(ROOT, 'dist', 'cli', 'main.js'),
      ...args,
      '--env',
      'staging',
      '--stacks-dir',
      s.ws.dir,
      '--kubeconfig',
      KUBECONFIG,
    ],
    { encoding: 'utf8' },
  );

export async function waitRecord(kind: string, name: string, event: string, from: string) {
  return (
    await waitFor(
      `${kind}/${name} ${event} record`,
      async () => (await recordsFor(s.audit, kind, name, from)).find((r) => r.event === event),
      {
        timeoutMs: 120_000,
        intervalMs: 100,
      },
    )
  ).value;
}

/**
 * The files that use the staging platform. They share one: the first deploys it, the last in the
 * run removes it, and each in between starts from a platform with no drift and no records.
 */
export const STAGING_FILES = [
  'drift.e2e',
  'approvals-page.e2e',
  'metrics.e2e',
  'pod.e2e',
  'observability.e2e',
] as const;

/** Fixed, so the URL the platform in Git posts to stays the same for the next file. */
const HOOK_PORT = 29469;
/** The platform kept for the next file: in the run dir, so a new control plane forgets it. */
const KEPT_FILE = join(RUN_DIR, 'staging-drift-kept.json');

const thisFile = () => expect.getState().testPath ?? '';
const isStagingFile = (path: string) => STAGING_FILES.some((name) => path.includes(`${name}.test.`));

/** Whether a later file of this run (the order the sequencer passed on) uses the staging platform. */
function stagingNeededLater(): boolean {
  const order = JSON.parse(process.env.CONVERGE_E2E_ORDER ?? '[]') as string[];
  const i = order.indexOf(thisFile());
  return i >= 0 && order.slice(i + 1).some(isStagingFile);
}

/** The live staging against Git, as `converge drift` compares them: the findings. */
function liveDrift(stacksDir: string): unknown[] {
  const r = spawnSync(
    'node',
    [
      join(ROOT, 'dist', 'cli', 'main.js'),
      'drift',
      '--env',
      'staging',
      '--output',
      'json',
      '--stacks-dir',
      stacksDir,
      '--kubeconfig',
      KUBECONFIG,
    ],
    { encoding: 'utf8' },
  );
  try {
    return (JSON.parse(r.stdout) as { findings: unknown[] }).findings;
  } catch {
    return [`converge drift exited ${r.status}: ${r.stderr.trim()}`];
  }
}

const STAGING_APPS = [
  'staging-root',
  'staging-app-service',
  'staging-app-service-guarded',
  'staging-model-service',
  'staging-model-service-guarded',
];

/**
 * The platform an earlier file kept, when it is as Git says (no drift, every Application settled):
 * its audit trail is emptied, so the controller starts with no history, as on a new platform.
 * A kept one that is not is destroyed, and undefined returned.
 */
async function reuseKept(): Promise<PulumiWorkspace | undefined> {
  if (!existsSync(KEPT_FILE)) return undefined;
  const { dir } = JSON.parse(readFileSync(KEPT_FILE, 'utf8')) as { dir: string };
  rmSync(KEPT_FILE);
  if (!existsSync(dir)) return undefined;
  // Set at once: if anything below fails, the file's afterAll destroys it.
  const ws = (s.ws = new PulumiWorkspace('staging', dir));
  const drift = liveDrift(dir);
  if (drift.length === 0) {
    for (const app of STAGING_APPS) await settled(s.c, app, 120_000);
    // One request for the thousands the burst test leaves (they carry no finalizers: gone at once).
    await s.c.custom.deleteCollectionNamespacedCustomObject({
      group: DRIFT_RECORD.group,
      version: DRIFT_RECORD.version,
      plural: DRIFT_RECORD.plural,
      namespace: CONVERGE_NAMESPACE,
    });
    console.log('staging: the platform an earlier file kept has no drift; using it, its audit trail emptied');
    return ws;
  }
  console.log(
    `staging kept by an earlier file has drifted (${JSON.stringify(drift).slice(0, 500)}): deploying it again`,
  );
  expectOk(await ws.run(['destroy', '--yes', '--skip-preview']));
  ws.remove(); // deploy() sets s.ws to the new one next
  return undefined;
}

/** Deploys staging as Git declares it for these tests: the root Application applies the manifests; Pulumi only bootstraps. */
async function deploy(url: string): Promise<PulumiWorkspace> {
  // Set at once: if `up` fails half-way, the file's afterAll destroys what it made.
  const ws = (s.ws = new PulumiWorkspace('staging'));
  release(
    'staging',
    {
      'git.repoURL': GIT_URL,
      'git.revision': 'main',
      'notifications.webhooks': { 'drift-test': { url } },
      'drift.notify': { low: [], medium: ['webhook:drift-test'], high: ['webhook:drift-test'] },
      // The in-cluster controller's ServiceAccount and RBAC are deployed too (kwok runs no container);
      // the last test runs `converge watch` with that account's token to prove the RBAC suffices.
      'drift.controller': { enabled: true, image: 'ghcr.io/example-org/converge:0.1.0' },
      // A Secret model-service needs that Git does not hold, made by hand below.
      'services.model-service.envFromSecrets': [NEEDED_SECRET.name],
    },
    'staging: served locally, drift notifications to the test webhook',
  );
  ws.writeConfig(fileOnServer('stacks/Pulumi.staging.yaml'));
  await ws.init();
  expectOk(await ws.run(['up', '--yes', '--skip-preview']));
  runArgoCdRedisSecretInit();
  applyArgoCdConfig();
  for (const app of STAGING_APPS) await settled(s.c, app, 300_000);
  return ws;
}

/**
 * The staging platform and a running controller before the file's tests. After them the controller
 * stops, and the platform is removed unless a later file of the run uses it.
 */
export function useStagingDrift(): void {
  beforeAll(async () => {
    if (!isStagingFile(thisFile()))
      throw new Error(`${thisFile()} uses the staging platform: add it to STAGING_FILES in staging-drift.ts`);
    s.c = clients();
    s.hook = new WebhookReceiver();
    const url = await s.hook.start(HOOK_PORT);
    s.ws = (await reuseKept()) ?? (await deploy(url));
    const secret = { name: NEEDED_SECRET.name, namespace: NEEDED_SECRET.namespace };
    if (!(await s.c.core.readNamespacedSecret(secret).catch(() => undefined)))
      await s.c.core.createNamespacedSecret({
        namespace: NEEDED_SECRET.namespace,
        body: { metadata: { name: NEEDED_SECRET.name }, stringData: { 'api-key': NEEDED_SECRET.value } },
      });
    s.controller = new WatchProcess(s.ws.dir, 'staging', 29465);
    s.controller.start();
    await s.controller.ready();
  });

  afterAll(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(TIMINGS_FILE, JSON.stringify(s.timings, null, 2));
    await s.controller?.stop();
    s.hook?.stop();
    if (!s.ws) return;
    if (stagingNeededLater()) {
      writeFileSync(KEPT_FILE, JSON.stringify({ dir: s.ws.dir }));
      return;
    }
    expectOk(await s.ws.run(['destroy', '--yes', '--skip-preview']));
    s.ws.remove();
  });
}
