// `npm run bench:drift`: `converge`'s drift comparison against `kubectl diff --server-side` on the
// same 500 objects, both as whole processes, in one run on the local control plane. Figures only.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KubeObject } from '../model/objects';
import { toolPath } from '../render/tools';
import { KUBECONFIG, kubectl, ROOT } from '../tools/cluster/harness';
import { median } from '../model/statistics';
import { alternate } from './paired';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// The drift case as the CLI ships: bundled and started from a V8 code cache when built so.
const BUNDLED = join(__dirname, '..', 'bundle', 'drift-case.js');
const DRIFT_CASE = existsSync(BUNDLED) ? BUNDLED : join(__dirname, 'drift-case.js');
const DRIFT_CASE_LABEL = existsSync(BUNDLED) ? 'converge bundled, as the bin runs' : 'converge from dist/';
const NS = 'converge-bench';

function objects(): KubeObject[] {
  const labels = { app: 'bench' };
  const out: KubeObject[] = [];
  for (let i = 0; i < 300; i++)
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: NS, labels },
      data: { index: String(i), mode: 'steady' },
    });
  for (let i = 0; i < 100; i++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: NS, labels },
      spec: {
        type: 'ClusterIP',
        selector: { app: `svc-${i}` },
        ports: [{ name: 'http', port: 8080, targetPort: 8080 }],
      },
    });
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `deploy-${i}`, namespace: NS, labels },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: `deploy-${i}` } },
        template: {
          metadata: { labels: { app: `deploy-${i}` } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'ghcr.io/example-org/web:1.0.0',
                resources: { limits: { cpu: '500m', memory: '256Mi' } },
              },
            ],
          },
        },
      },
    });
  }
  return out;
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function main() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require(join(ROOT, 'test', 'cluster', 'global-setup.js'))();
  const work = mkdtempSync(join(tmpdir(), 'converge-drift-bench-'));
  try {
    const desired = objects();
    const file = join(work, 'desired.json');
    writeFileSync(file, JSON.stringify(desired));
    writeFileSync(
      join(work, 'desired.list.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: desired }),
    );
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }),
    );
    kubectl(['apply', '--server-side', '--field-manager', 'converge', '-f', join(work, 'desired.list.json')]);
    // Drift 50 of them by hand: scale, retype, edit.
    for (let i = 0; i < 20; i++)
      kubectl(['patch', 'configmap', `cm-${i}`, '-n', NS, '-p', '{"data":{"mode":"edited"}}']);
    for (let i = 0; i < 15; i++)
      kubectl(['patch', 'service', `svc-${i}`, '-n', NS, '-p', '{"spec":{"type":"NodePort"}}']);
    for (let i = 0; i < 15; i++) kubectl(['scale', 'deployment', `deploy-${i}`, '-n', NS, '--replicas=2']);

    let kubectlDrifted = 0;
    let converge = { drifted: 0, requests: 0, checkMs: 0 };
    const checkTimes: number[] = [];
    const kubectlDiff = () =>
      time(() => {
        const r = spawnSync(
          toolPath('kubectl'),
          [
            '--kubeconfig',
            KUBECONFIG,
            'diff',
            '--server-side',
            '--force-conflicts',
            '--field-manager',
            'converge',
            '-f',
            join(work, 'desired.list.json'),
          ],
          {
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
            env: { ...process.env, KUBECTL_EXTERNAL_DIFF: 'diff -u -N' },
          },
        );
        kubectlDrifted = (r.stdout.match(/^diff -u -N /gm) ?? []).length;
      });
    const convergeDrift = () =>
      time(() => {
        converge = JSON.parse(execFileSync('node', [DRIFT_CASE, file, KUBECONFIG], { encoding: 'utf8' }));
        checkTimes.push(converge.checkMs);
      });
    // Paired: converge, then its yardstick, RUNS times; the ratio is kubectl / converge per pair.
    const [convergeTimes, kubectlTimes] = alternate(RUNS, [convergeDrift, kubectlDiff]);
    checkTimes.splice(0, 1); // the warm-up round's
    const k = median(kubectlTimes);
    const c = median(convergeTimes);
    const faster = kubectlTimes.map((t, i) => t / convergeTimes[i]);
    const fasterInProcess = kubectlTimes.map((t, i) => t / checkTimes[i]);
    const range = (r: number[]) =>
      `median of ${r.length} pairs; min ${Math.min(...r).toFixed(1)}, max ${Math.max(...r).toFixed(1)}`;
    console.log(
      `\nDrift check of the same 500 objects (50 drifted), whole processes, paired runs (${DRIFT_CASE_LABEL}):`,
    );
    console.log(
      `  kubectl diff --server-side: median ${(k / 1000).toFixed(3)} s (${kubectlDrifted} objects differ)`,
    );
    console.log(
      `  converge (list per kind + compare): median ${(c / 1000).toFixed(3)} s (${converge.drifted} drifted, ${converge.requests} API requests)`,
    );
    // Both must have found the same 50 drifted objects, or the figures compare different work.
    if (kubectlDrifted !== 50 || converge.drifted !== 50)
      console.log(
        `  WARNING: expected 50 drifted objects from each; kubectl found ${kubectlDrifted}, converge ${converge.drifted}`,
      );
    console.log(
      `  ratio kubectl / converge, whole processes: ${median(faster).toFixed(1)}x faster (${range(faster)}; goal: at least 10x)`,
    );
    console.log(
      `  converge's check alone, once its modules are loaded (as in \`converge watch\`): median ${median(checkTimes).toFixed(0)} ms, ${median(fasterInProcess).toFixed(1)}x faster (${range(fasterInProcess)})`,
    );
    console.log(
      '  kubectl makes about two requests per object; converge one LIST per kind, so the gap grows with API latency.',
    );
    kubectl(['delete', 'namespace', NS, '--wait=false']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench:drift: ${(err as Error).message}`);
  process.exitCode = 1;
});
