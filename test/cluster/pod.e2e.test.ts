import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PatchStrategy, setHeaderOptions, V1Deployment, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../drift/kube/kubeconfig';
import { CONVERGE_NAMESPACE, DRIFT_CONTROLLER_NAME } from '../../model/constants';
import { IMAGE_LAYOUT } from '../../model/image-layout';
import { toolPath } from '../../render/tools';
import { KUBECONFIG, kubectl, RESULTS_DIR, ROOT, waitFor } from '../../tools/cluster/harness';
import {
  exposeService,
  merge,
  ms,
  NEEDED_SECRET,
  NS,
  replicas,
  s,
  scale,
  serviceType,
  since,
  useStagingDrift,
  waitRecord,
} from './staging-drift';
import { recordsFor } from './drift-harness';

/*
 * The drift controller as its synthesized staging Deployment runs it: its command, args, env
 * (Secret values resolved), working directory and volumes, installed from `npm pack` into a root
 * laid out as the image is (model/image-layout.ts), read-only but for the declared volumes, as the
 * pod's user, with the ServiceAccount's token where in-cluster clients read it. Then Pod Security:
 * the API server admits the pod template in its restricted namespace and refuses one without the hardening.
 */

const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const work = mkdtempSync(join(tmpdir(), 'converge-pod-'));
const root = join(work, 'root');
let deployment: V1Deployment;
let pod: ChildProcess | undefined;
let output = '';
let podEnv: Record<string, string> = {};

// Before useStagingDrift's own: the pod stops before the platform is destroyed under it.
afterAll(async () => {
  if (pod && pod.exitCode === null) {
    const exited = new Promise((r) => pod!.once('exit', r));
    // The whole group: unshare itself ignores SIGTERM while it waits for its child.
    process.kill(-pod.pid!, 'SIGTERM');
    await exited;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'pod-controller.log'), output);
  rmSync(work, { recursive: true, force: true });
});

useStagingDrift();

const container = () => deployment.spec!.template.spec!.containers[0];

/** The container's env as the kubelet gives it: values, and optional secretKeyRefs read from their Secret. */
async function resolveEnv(env: V1EnvVar[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const secret = await s.c.core
        .readNamespacedSecret({ name: ref.name!, namespace: CONVERGE_NAMESPACE })
        .catch(() => undefined);
      const data = secret?.data?.[ref.key];
      if (data !== undefined) out[e.name] = Buffer.from(data, 'base64').toString('utf8');
      else if (!ref.optional)
        throw new Error(`${e.name}: Secret ${ref.name} has no key ${ref.key}, and it is not optional`);
    } else throw new Error(`${e.name}: the test resolves only values and secretKeyRefs`);
  }
  return out;
}

/** The root as the image lays it out: the packed package installed at the prefix, helm beside its bin. */
function layRoot(): void {
  for (const dir of [
    'usr',
    'etc',
    'dev',
    'proc',
    SA_PATH.slice(1),
    ...IMAGE_LAYOUT.volumes.map((v) => v.path.slice(1)),
  ])
    mkdirSync(join(root, dir), { recursive: true });
  // Debian's merged /usr, as in the image's base.
  for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, join(root, link));
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop()!;
  // As the image's Dockerfile installs it; offline, from the npm cache (no network in the suite).
  execFileSync(
    'npm',
    [
      'install',
      '--global',
      '--offline',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--prefix',
      join(root, IMAGE_LAYOUT.prefix),
      join(work, packed),
    ],
    { stdio: 'ignore' },
  );
  copyFileSync(realpathSync(toolPath('helm')), join(root, IMAGE_LAYOUT.binDir, 'helm'));
  execFileSync('chmod', ['-R', 'a+rX', root]);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('pod.e2e needs root (unshare --mount, chroot, setpriv); run the cluster suite as root');
  // One controller: the one in the pod.
  await s.controller.stop();
  deployment = await s.c.apps.readNamespacedDeployment({
    name: DRIFT_CONTROLLER_NAME,
    namespace: CONVERGE_NAMESPACE,
  });
  layRoot();
  // The notifications Secret the Deployment's secretKeyRefs name, with a value for each key.
  const keys = (container().env ?? []).flatMap((e) =>
    e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : [],
  );
  for (const name of new Set(keys.map((k) => k.name!))) {
    await s.c.core.deleteNamespacedSecret({ name, namespace: CONVERGE_NAMESPACE }).catch(() => undefined);
    await s.c.core.createNamespacedSecret({
      namespace: CONVERGE_NAMESPACE,
      body: {
        metadata: { name },
        stringData: Object.fromEntries(
          keys.filter((k) => k.name === name).map((k) => [k.key, `test-${k.key}`]),
        ),
      },
    });
  }
  const secrets = join(work, 'serviceaccount');
  mkdirSync(secrets);
  writeFileSync(
    join(secrets, 'token'),
    kubectl(['create', 'token', DRIFT_CONTROLLER_NAME, '-n', CONVERGE_NAMESPACE]).trim(),
  );
  const cluster = loadKubeConfig({ kubeconfig: KUBECONFIG }).getCurrentCluster()!;
  writeFileSync(
    join(secrets, 'ca.crt'),
    cluster.caFile ? readFileSync(cluster.caFile) : Buffer.from(cluster.caData!, 'base64'),
  );
  writeFileSync(join(secrets, 'namespace'), CONVERGE_NAMESPACE);
  execFileSync('chmod', ['-R', 'a+rX', secrets]);
  const server = new URL(cluster.server);
  const env = {
    ...(await resolveEnv(container().env ?? [])),
    KUBERNETES_SERVICE_HOST: server.hostname,
    KUBERNETES_SERVICE_PORT: server.port || '443',
  };
  podEnv = env;
  const spec = {
    root,
    user: deployment.spec!.template.spec!.securityContext!.runAsUser,
    group: deployment.spec!.template.spec!.securityContext!.runAsGroup,
    workdir: container().workingDir,
    env,
    command: [...(container().command ?? []), ...(container().args ?? [])],
    volumes: (container().volumeMounts ?? []).map((m) => m.mountPath),
    secrets,
    secretsPath: SA_PATH,
  };
  pod = spawn(
    'unshare',
    [
      '--mount',
      '--fork',
      '--kill-child=SIGTERM',
      '--',
      process.execPath,
      join(__dirname, 'pod-root.js'),
      JSON.stringify(spec),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const take = (d: Buffer) => (output += d);
  pod.stdout!.on('data', take);
  pod.stderr!.on('data', take);
  await waitFor(
    'the pod controller ready',
    async () =>
      output.includes('initial check done') ||
      (pod!.exitCode !== null ? Promise.reject(new Error(output.slice(-4000))) : false),
    { timeoutMs: 180_000 },
  );
});

describe('the Deployment and the image layout', () => {
  it('agree: the command and workdir exist in the root, the user and writable paths are the layout', () => {
    const c = container();
    expect(c.command).toEqual([IMAGE_LAYOUT.command]);
    accessSync(join(root, c.command![0]), constants.X_OK);
    expect(statSync(join(root, c.workingDir!)).isDirectory()).toBe(true);
    expect((c.volumeMounts ?? []).map((m) => m.mountPath)).toEqual(IMAGE_LAYOUT.volumes.map((v) => v.path));
    expect(deployment.spec!.template.spec!.securityContext).toMatchObject({
      runAsUser: IMAGE_LAYOUT.user,
      runAsGroup: IMAGE_LAYOUT.group,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // Each token the Deployment maps from the notifications Secret reached the process (staging: Slack's).
    expect(Object.keys(podEnv)).toContain('CONVERGE_SLACK_TOKEN');
    // It runs, and never reached for a local stack file or the upstream cache.
    expect(output).not.toMatch(/forbidden|403|EROFS|read-only file system|npm run setup/i);
  });
});

describe('the controller in the pod', () => {
  it('heals a scaled Deployment in staging', async () => {
    const from = since();
    const at = new Date().toISOString();
    await scale(5);
    const { ms: restoreMs } = await waitFor('replicas back to 2', async () => (await replicas()) === 2, {
      intervalMs: 20,
    });
    const detected = await waitRecord('Deployment', 'app-service', 'detected', from);
    const healed = await waitRecord('Deployment', 'app-service', 'healed', from);
    expect(detected).toMatchObject({ severity: 'low', action: 'heal' });
    expect(healed.actor).toBe('converge');
    const detectMs = ms(detected.at, at);
    console.log(`pod: scaled Deployment detected in ${detectMs} ms, restored in ${Math.round(restoreMs)} ms`);
    s.timings.podScale = { detectMs, restoreMs };
  });

  it('holds a Service type change', async () => {
    const from = since();
    const at = new Date().toISOString();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    expect(held).toMatchObject({ severity: 'medium', action: 'hold-for-approval' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await serviceType()).toBe('NodePort');
    const detectMs = ms(held.at, at);
    console.log(`pod: Service type change held after ${detectMs} ms`);
    s.timings.podServiceHeld = { detectMs };
    await s.c.core.patchNamespacedService(
      { name: 'app-service', namespace: NS, body: { spec: { type: 'ClusterIP' } } },
      merge,
    );
  });

  it('pages at once on a deleted Secret that model-service needs and Git does not hold, and restores it (high)', async () => {
    const w = { name: NEEDED_SECRET.name, namespace: NEEDED_SECRET.namespace };
    const from = since();
    const t0 = performance.now();
    const before = s.hook.received.length;
    await s.c.core.deleteNamespacedSecret(w);
    const page = await waitFor(
      'page',
      async () =>
        s.hook.received
          .slice(before)
          .find((r) => r.body.type === 'drift' && r.body.drift.object.name === w.name),
      { intervalMs: 10 },
    );
    expect(page.value.body.drift).toMatchObject({ severity: 'high', object: { kind: 'Secret' } });
    await waitFor(
      'Secret back',
      async () => (await s.c.core.readNamespacedSecret(w).catch(() => undefined))?.data?.['api-key'],
      { intervalMs: 20 },
    );
    // From the deletion, not from the page's arrival.
    const restoreMs = performance.now() - t0;
    const restored = await s.c.core.readNamespacedSecret(w);
    expect(Buffer.from(restored.data!['api-key'], 'base64').toString()).toBe(NEEDED_SECRET.value);
    const paged = await waitRecord('Secret', w.name, 'paged', from);
    expect(paged.outcome).toContain('webhook:drift-test: sent');
    await waitRecord('Secret', w.name, 'restored', from);
    // The value is in no record, no notification and no line the controller printed.
    const records = JSON.stringify(await recordsFor(s.audit, 'Secret', w.name, from));
    for (const text of [records, JSON.stringify(s.hook.received.slice(before)), output])
      expect(text).not.toContain(NEEDED_SECRET.value);
    const notifyMs = page.value.at - t0;
    console.log(
      `pod: deleted Secret paged after ${Math.round(notifyMs)} ms, restored in ${Math.round(restoreMs)} ms`,
    );
    s.timings.podSecretPaged = { restoreMs, notifyMs };
  });

  it('heals at once and pages on an image from an unknown registry (high)', async () => {
    const w = { name: 'model-service', namespace: 'staging-ml' };
    const image = async () =>
      (await s.c.apps.readNamespacedDeployment(w)).spec!.template.spec!.containers[0].image;
    const declared = await image();
    const from = since();
    const t0 = performance.now();
    const before = s.hook.received.length;
    await s.c.apps.patchNamespacedDeployment(
      {
        ...w,
        body: [
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'evil.example.com/x:1' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const { ms: restoreMs } = await waitFor('image back', async () => (await image()) === declared, {
      intervalMs: 20,
    });
    const page = await waitFor(
      'page',
      async () =>
        s.hook.received
          .slice(before)
          .find((r) => r.body.type === 'drift' && r.body.drift.object.name === w.name),
      { intervalMs: 10 },
    );
    expect(page.value.body.drift.severity).toBe('high');
    const paged = await waitRecord('Deployment', w.name, 'paged', from);
    expect(paged.outcome).toContain('webhook:drift-test: sent');
    const notifyMs = page.value.at - t0;
    console.log(
      `pod: unknown-registry image restored in ${Math.round(restoreMs)} ms, paged after ${Math.round(notifyMs)} ms`,
    );
    s.timings.podImagePaged = { restoreMs, notifyMs };
  });
});

describe('Pod Security in the controller namespace', () => {
  const podOf = (spec: object): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'converge-drift-admission', namespace: CONVERGE_NAMESPACE },
    spec: spec as V1Pod['spec'],
  });
  const dryRun = (p: V1Pod) =>
    spawnSync(
      join(realpathSync(toolPath('kubectl'))),
      ['--kubeconfig', KUBECONFIG, 'create', '--dry-run=server', '-f', '-'],
      {
        input: JSON.stringify(p),
        encoding: 'utf8',
      },
    );

  it('enforces "restricted": admits the synthesized pod template', () => {
    const r = dryRun(podOf(deployment.spec!.template.spec!));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses a copy without the hardening, naming what PodSecurity forbids', () => {
    const spec = structuredClone(deployment.spec!.template.spec!);
    delete spec.securityContext!.seccompProfile;
    delete spec.containers[0].securityContext!.capabilities;
    const r = dryRun(podOf(spec));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('violates PodSecurity "restricted:');
    expect(r.stderr).toMatch(/unrestricted capabilities/);
    expect(r.stderr).toMatch(/seccompProfile/);
  });
});
