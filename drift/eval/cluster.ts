import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeObject } from '../../model/objects';
import { toolPath } from '../../render/tools';
import { helmTemplateArgs, HelmSource } from '../../render/helm';
import { KubeApiError, KubeClient } from '../kube/client';
import { Mutation } from './scenarios';

/* The experiment's hands on the cluster: read, change and apply objects, and run helm as an operator would. */

const run = promisify(execFile);

export async function readLive(client: KubeClient, o: KubeObject): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>(
      'GET',
      await client.path(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name),
    );
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

export async function mutate(client: KubeClient, o: KubeObject, m: Mutation): Promise<void> {
  const path = await client.path(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
  await client.request(m.method, `${path}${m.subresource ?? ''}`, m.body, m.contentType);
}

/** Server-side apply as `converge-eval`: the sandbox objects the experiment needs (namespaces, the CRD). */
export async function apply(client: KubeClient, o: KubeObject): Promise<void> {
  const path = await client.path(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
  await client.request(
    'PATCH',
    `${path}?fieldManager=converge-eval&force=true`,
    o,
    'application/apply-patch+yaml',
  );
}

export async function remove(client: KubeClient, o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>) {
  try {
    await client.request(
      'DELETE',
      await client.path(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name),
    );
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  }
}

/** Where helm talks to: the same kubeconfig and context as the command. */
export interface HelmTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** One service as its Application renders it, for `helm install` and `helm upgrade`. */
export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  readonly valuesFile: string;
  readonly source: HelmSource;
}

export function helmRelease(app: KubeObject, chartsDir: string, workDir: string): HelmRelease {
  const spec = app.spec as { source: HelmSource; destination: { namespace: string } };
  const valuesFile = join(workDir, `${app.metadata.name}.values.json`);
  writeFileSync(valuesFile, JSON.stringify(spec.source.helm?.valuesObject ?? {}));
  return {
    name: spec.source.helm?.releaseName ?? app.metadata.name,
    namespace: spec.destination.namespace,
    chart: join(chartsDir, spec.source.path),
    valuesFile,
    source: spec.source,
  };
}

/**
 * `helm install` or `helm upgrade` of a release with the values its Application passes (the same
 * arguments `helm template` gets for the desired state), server-side so a field another manager
 * changed is taken back, as the operator's fix must.
 */
export async function helm(
  verb: 'install' | 'upgrade',
  r: HelmRelease,
  target: HelmTarget,
): Promise<{ ok: boolean; ms: number; line: string }> {
  const args = helmTemplateArgs(r.name, r.source, r.namespace, r.chart, r.valuesFile).slice(1);
  args.unshift(verb);
  args.push('--server-side=true', '--force-conflicts');
  if (target.kubeconfig) args.push('--kubeconfig', target.kubeconfig);
  if (target.context) args.push('--kube-context', target.context);
  const started = performance.now();
  try {
    await run(toolPath('helm'), args, { maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, ms: performance.now() - started, line: `helm ${verb} ${r.name} -n ${r.namespace}` };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr || e.message).trim().split('\n').pop() ?? '';
    return { ok: false, ms: performance.now() - started, line: `helm ${verb} ${r.name} failed: ${why}` };
  }
}

/**
 * `kubectl apply -f` of a manifest an operator keeps in their own store (the Secret Git does not
 * hold): how a person puts back what no reconciler can. Its output is dropped: it names only the object.
 */
export async function kubectlApply(
  file: string,
  what: string,
  target: HelmTarget,
): Promise<{ ok: boolean; ms: number; line: string }> {
  // Server-side: a client-side apply would copy the Secret's data into its last-applied annotation.
  const args = ['apply', '--server-side', '-f', file];
  if (target.kubeconfig) args.push('--kubeconfig', target.kubeconfig);
  if (target.context) args.push('--context', target.context);
  const started = performance.now();
  try {
    await run(toolPath('kubectl'), args);
    return {
      ok: true,
      ms: performance.now() - started,
      line: `kubectl apply --server-side -f <${what}, kept by the operator>`,
    };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr || e.message).trim().split('\n').pop() ?? '';
    return { ok: false, ms: performance.now() - started, line: `kubectl apply of ${what} failed: ${why}` };
  }
}

export async function helmUninstall(r: HelmRelease, target: HelmTarget): Promise<void> {
  const args = ['uninstall', r.name, '--namespace', r.namespace, '--ignore-not-found'];
  if (target.kubeconfig) args.push('--kubeconfig', target.kubeconfig);
  if (target.context) args.push('--kube-context', target.context);
  await run(toolPath('helm'), args).catch(() => undefined);
}

/** Polls until `check` holds or the deadline passes; the moment it held, or undefined. */
export async function pollUntil(
  check: () => Promise<boolean>,
  deadlineMs: number,
  intervalMs = 25,
): Promise<number | undefined> {
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() >= deadlineMs) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
