// One `converge drift`-style comparison in a fresh process, for bench/drift-bench: reads the
// desired objects from a JSON file, lists the live ones (one LIST per kind) and prints the drift.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { defaultDriftPolicy } from '../model/drift-policy';
import { KubeObject } from '../model/objects';
import { findDrift } from '../drift/engine/find-drift';
import { KubeClient } from '../drift/kube/client';
import { loadKubeConfig } from '../drift/kube/kubeconfig';
import { readLiveState, uniqueKinds } from '../drift/kube/live-state';

async function main() {
  const [file, kubeconfig] = process.argv.slice(2);
  const started = performance.now();
  const desired = JSON.parse(readFileSync(file, 'utf8')) as KubeObject[];
  const client = new KubeClient(loadKubeConfig({ kubeconfig }));
  const live = await readLiveState(client, uniqueKinds(desired));
  const findings = findDrift(
    desired.map((object) => ({ object })),
    live.objects,
    defaultDriftPolicy(),
  );
  console.log(
    JSON.stringify({
      drifted: findings.length,
      requests: client.requests,
      checkMs: performance.now() - started,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
