import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { KubeClient } from '../../drift/kube/client';
import { auditClient, recordsFor, WatchProcess, WebhookReceiver } from './drift-harness';
import {
  clients,
  Clients,
  fileOnServer,
  GIT_URL,
  KUBECONFIG,
  PulumiWorkspace,
  restartArgoCdController,
  ROOT,
  runArgoCdRedisSecretInit,
  waitFor,
  RESULTS_DIR,
} from '../../tools/cluster/harness';
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

/** Deploys the staging platform and starts the controller before the file's tests; removes both after. */
export function useStagingDrift(): void {
  beforeAll(async () => {
    s.c = clients();
    s.hook = new WebhookReceiver();
    const url = await s.hook.start();
    s.ws = new PulumiWorkspace('staging');
    // Staging as Git declares it for these tests, committed with its manifests: the root
    // Application applies them; Pulumi only bootstraps.
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
    s.ws.writeConfig(fileOnServer('stacks/Pulumi.staging.yaml'));
    await s.ws.init();
    expectOk(await s.ws.run(['up', '--yes', '--skip-preview']));
    runArgoCdRedisSecretInit();
    restartArgoCdController();
    for (const app of [
      'staging-root',
      'staging-app-service',
      'staging-app-service-guarded',
      'staging-model-service',
      'staging-model-service-guarded',
    ]) {
      await settled(s.c, app, 300_000);
    }
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
    if (s.ws) expectOk(await s.ws.run(['destroy', '--yes', '--skip-preview']));
    s.hook?.stop();
    s.ws?.remove();
  });
}
