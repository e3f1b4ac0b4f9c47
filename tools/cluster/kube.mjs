// The one Kubernetes client of the control plane: @kubernetes/client-node, configured from the
// kubeconfig `up` writes into the run dir (admin token and the API server's CA). Every request
// that carries the admin token goes through here; manifests are read with the `yaml` package.
import { readFileSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
// KubernetesObjectApi sends built-in kinds through client-node's models, whose names differ from
// the wire (`enum` is `_enum`, `x-kubernetes-*` are camelCase): a manifest as parsed would lose
// them (Argo CD's CRDs their pruning rules). Convert into the models first, as client-node's own
// loadYaml does; its index exports neither helper.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { parseAllDocuments } from 'yaml';
import { paths } from './config.mjs';

const FIELD_MANAGER = 'converge-cluster';

/** A Kubernetes API request that failed; the message names the request and the server's reason. */
export class KubeError extends Error {}

let clients = null;

/** The API clients, made on first use: the kubeconfig exists only once the API server is up. */
function kube() {
  if (!clients) {
    const kc = new KubeConfig();
    kc.loadFromFile(paths.kubeconfig);
    clients = {
      objects: KubernetesObjectApi.makeApiClient(kc),
      core: kc.makeApiClient(CoreV1Api),
      crds: kc.makeApiClient(ApiextensionsV1Api),
    };
  }
  return clients;
}

/** Runs one request, turning client-node's errors into one line that says what was asked. */
async function request(what, send) {
  try {
    return await send();
  } catch (err) {
    if (err instanceof ApiException) {
      let body = err.body;
      try {
        body = typeof body === 'string' ? JSON.parse(body) : body;
      } catch {
        /* not JSON: quote it as it is */
      }
      const reason = body?.message ?? String(body ?? '').slice(0, 300);
      throw new KubeError(`${what}: HTTP ${err.code}: ${reason}`, { cause: err });
    }
    throw new KubeError(`${what}: ${err.message}`, { cause: err });
  }
}

const describe = (obj) =>
  `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;

/** Server-side apply of one object as it is written in a manifest (wire form). */
export function apply(obj) {
  const model = ObjectSerializer.deserialize(obj, getSerializationType(obj.apiVersion, obj.kind));
  return request(`apply ${describe(obj)}`, () =>
    kube().objects.patch(
      model,
      undefined,
      undefined,
      FIELD_MANAGER,
      true, // force: this program owns what it applies
      PatchStrategy.ServerSideApply,
    ),
  );
}

/** A ConfigMap's data, or null when the ConfigMap does not exist. */
export async function readConfigMapData(namespace, name) {
  try {
    const cm = await request(`read ConfigMap ${namespace}/${name}`, () =>
      kube().core.readNamespacedConfigMap({ name, namespace }),
    );
    return cm.data ?? {};
  } catch (err) {
    if (err.cause instanceof ApiException && err.cause.code === 404) return null;
    throw err;
  }
}

/** A Secret's data, decoded from base64, or null when the Secret does not exist. */
export async function readSecretData(namespace, name) {
  try {
    const secret = await request(`read Secret ${namespace}/${name}`, () =>
      kube().core.readNamespacedSecret({ name, namespace }),
    );
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  } catch (err) {
    if (err.cause instanceof ApiException && err.cause.code === 404) return null;
    throw err;
  }
}

const isTrue = (conditions, type) => (conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** True once the CustomResourceDefinition is Established (its API is served). */
export async function crdEstablished(name) {
  const crd = await request(`read CustomResourceDefinition ${name}`, () =>
    kube().crds.readCustomResourceDefinition({ name }),
  );
  return isTrue(crd.status?.conditions, 'Established');
}

/** A namespace's phase (`Active`, `Terminating`), or null when it does not exist. */
export async function namespacePhase(name) {
  try {
    const ns = await request(`read Namespace ${name}`, () => kube().core.readNamespace({ name }));
    return ns.status?.phase ?? 'Active';
  } catch (err) {
    if (err.cause instanceof ApiException && err.cause.code === 404) return null;
    throw err;
  }
}

/** How many nodes matching the label selector are Ready. */
export async function readyNodeCount(labelSelector) {
  const list = await request(`list Nodes ${labelSelector}`, () => kube().core.listNode({ labelSelector }));
  return list.items.filter((n) => isTrue(n.status?.conditions, 'Ready')).length;
}

/** The objects of a (multi-document) YAML file, in order; empty documents are skipped. */
export function readManifests(file) {
  const objects = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== 'object' || !obj.kind || !obj.metadata?.name)
      throw new Error(`${file}: a document without kind and metadata.name`);
    objects.push(obj);
  }
  return objects;
}
