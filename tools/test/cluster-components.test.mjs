// The component list of tools/cluster/ is the only place that orders the cluster: the names the
// tests and `up` use, the ports checked, and the programs checked all come from it.
// Run: node --test tools/test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPONENTS, stepsFor, STEPS, stopOrder } from '../cluster/components.mjs';
import { PORT_VARS } from '../cluster/config.mjs';
import { TOOL_FAMILY } from '../paths.mjs';

const processes = STEPS.filter((s) => s.kind === 'process');

test('COMPONENTS.core and .full are the processes of the list, in list order', () => {
  assert.deepEqual(
    COMPONENTS.core,
    processes.filter((s) => s.core).map((s) => s.name),
  );
  assert.deepEqual(
    COMPONENTS.full,
    processes.map((s) => s.name),
  );
  assert.deepEqual(COMPONENTS.core, [
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
  ]);
  // `up --core` is a prefix of `up`: the core part of the list comes first.
  assert.deepEqual(COMPONENTS.full.slice(0, COMPONENTS.core.length), COMPONENTS.core);
});

test('every entry has a unique name, start and ready; processes have a stop', () => {
  assert.equal(new Set(STEPS.map((s) => s.name)).size, STEPS.length);
  for (const s of STEPS) {
    assert.equal(typeof s.start, 'function', s.name);
    assert.ok(s.ready === null || typeof s.ready === 'function', s.name);
    if (s.kind === 'process') {
      assert.equal(typeof s.ready, 'function', `${s.name} has no readiness probe`);
      assert.equal(typeof s.stop, 'function', s.name);
    }
  }
});

test('the programs the list names are ones tools/build.mjs builds', () => {
  for (const s of STEPS) if (s.program) assert.ok(TOOL_FAMILY[s.program], `${s.name}: ${s.program}`);
  const core = new Set(stepsFor(true).map((s) => s.program));
  assert.equal(core.has('argocd'), false, '`up --core` needs no Argo CD');
});

test('each port is claimed by exactly one process', () => {
  const claimed = processes.flatMap((s) => s.ports);
  assert.deepEqual([...claimed].sort(), Object.keys(PORT_VARS).sort());
});

test('bootstrap steps sit where they are needed: kubeconfig after the API server, CRDs before Argo CD', () => {
  const at = (name) => STEPS.findIndex((s) => s.name === name);
  assert.ok(at('pki') < at('kube-apiserver'));
  assert.ok(at('kube-apiserver') < at('kubeconfig') && at('kubeconfig') < at('kube-controller-manager'));
  assert.ok(at('kwok') < at('kwok-nodes'));
  // kwok reads its stages from the API: the Stage CRD and the default stages exist before it starts.
  assert.ok(at('kubeconfig') < at('kwok-stage-crd'));
  assert.ok(at('kwok-stage-crd') < at('kwok-stages') && at('kwok-stages') < at('kwok'));
  assert.ok(at('argocd-crds') < at('argocd-config') && at('argocd-config') < at('repo-server'));
  // argocd-server makes server.secretkey before the controllers start, and needs redis and
  // repo-server; its admin password is read once it runs.
  assert.ok(at('redis') < at('argocd-server') && at('repo-server') < at('argocd-server'));
  assert.ok(at('argocd-config') < at('argocd-server'), 'the webhook secret is set before it starts');
  for (const c of ['application-controller', 'applicationset-controller', 'notifications'])
    assert.ok(at('argocd-server') < at(c), c);
  assert.equal(at('argocd-admin-password'), at('argocd-server') + 1);
});

test('stopOrder is the reverse of the list; names it does not know stop first', () => {
  assert.deepEqual(stopOrder(['etcd', 'notifications', 'kwok', 'from-an-older-run']), [
    'from-an-older-run',
    'notifications',
    'kwok',
    'etcd',
  ]);
  assert.deepEqual(stopOrder([...COMPONENTS.full]), [...COMPONENTS.full].reverse());
});
