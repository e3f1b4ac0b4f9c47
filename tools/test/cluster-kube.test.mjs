// tools/cluster/kube.mjs against a fake API server on loopback: manifests are read with the
// `yaml` package into objects, and applied server-side through @kubernetes/client-node with every
// field as written. Run: node --test tools/test/
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

const scratch = mkdtempSync(join(tmpdir(), 'converge-kube-test-'));
const run = join(scratch, 'run');
mkdirSync(run, { recursive: true });
// config.mjs reads the run dir when first imported: point it here before loading kube.mjs.
process.env.CONVERGE_RUN_DIR = run;
const { apply, KubeError, readConfigMapData, readManifests } = await import('../cluster/kube.mjs');

const DISCOVERY = {
  '/api/v1': [
    { name: 'configmaps', namespaced: true, kind: 'ConfigMap' },
    { name: 'secrets', namespaced: true, kind: 'Secret' },
  ],
  '/apis/apiextensions.k8s.io/v1': [
    { name: 'customresourcedefinitions', namespaced: false, kind: 'CustomResourceDefinition' },
  ],
};

const requests = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    const path = req.url.split('?')[0];
    const send = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'GET' && DISCOVERY[path])
      return send(200, { kind: 'APIResourceList', groupVersion: path.slice(5), resources: DISCOVERY[path] });
    if (req.method === 'PATCH' && path.includes('/secrets/'))
      return send(422, { kind: 'Status', code: 422, message: 'Secret "s" is invalid: data: Forbidden' });
    if (req.method === 'PATCH') return send(200, JSON.parse(body));
    if (path === '/api/v1/namespaces/argocd/configmaps/argocd-cm')
      return send(200, { apiVersion: 'v1', kind: 'ConfigMap', data: { 'timeout.reconciliation': '30s' } });
    send(404, { kind: 'Status', status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
  });
});

before(async () => {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  writeFileSync(
    join(run, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          // client-node takes plain HTTP only with this set; the real kubeconfig has the CA.
          cluster: { server: `http://127.0.0.1:${server.address().port}`, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'admin', user: { token: 'test-token' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'admin' } }],
      'current-context': 'c',
    }),
  );
});
after(() => {
  server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const MANIFESTS = `# two objects, an empty document between them
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  namespace: argocd
data:
  answer: "42"
---
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example.com
  names: { kind: Thing, plural: things }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
            phase:
              type: string
              enum: [Pending, Done]
              default: Pending
`;

test('readManifests parses every document of a multi-document file into objects', () => {
  const file = join(scratch, 'objects.yaml');
  writeFileSync(file, MANIFESTS);
  const objects = readManifests(file);
  assert.deepEqual(
    objects.map((o) => [o.kind, o.metadata.name]),
    [
      ['ConfigMap', 'first'],
      ['CustomResourceDefinition', 'things.example.com'],
    ],
  );
  assert.equal(objects[0].data.answer, '42');
});

test('readManifests fails when a document is not valid YAML, naming the file', () => {
  const file = join(scratch, 'broken.yaml');
  writeFileSync(file, 'kind: ConfigMap\nmetadata: {name: x\n');
  assert.throws(() => readManifests(file), new RegExp(`^Error: ${file}: `));
});

test('apply is a forced server-side apply that sends a CRD with every field as written', async () => {
  const file = join(scratch, 'crd.yaml');
  writeFileSync(file, MANIFESTS);
  const crd = readManifests(file)[1];
  requests.length = 0;
  await apply(crd);
  const patch = requests.find((r) => r.method === 'PATCH');
  assert.ok(patch, 'no PATCH sent');
  const url = new URL(patch.url, 'http://x');
  assert.equal(url.pathname, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.com');
  assert.equal(url.searchParams.get('fieldManager'), 'converge-cluster');
  assert.equal(url.searchParams.get('force'), 'true');
  assert.equal(patch.headers['content-type'], 'application/apply-patch+yaml');
  assert.equal(patch.headers.authorization, 'Bearer test-token');
  // client-node's models name these `xKubernetesPreserveUnknownFields`, `_enum`, `_default`.
  assert.deepEqual(JSON.parse(patch.body), crd);
});

test('readConfigMapData: the data, or null when the ConfigMap does not exist', async () => {
  assert.deepEqual(await readConfigMapData('argocd', 'argocd-cm'), { 'timeout.reconciliation': '30s' });
  assert.equal(await readConfigMapData('argocd', 'argocd-cmd-params-cm'), null);
});

test('fails when the API server refuses: one line with the object and the reason', async () => {
  await assert.rejects(
    apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'argocd' } }),
    (err) => {
      assert.ok(err instanceof KubeError);
      assert.equal(err.message, 'apply Secret argocd/s: HTTP 422: Secret "s" is invalid: data: Forbidden');
      return true;
    },
  );
});
