import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { firstLine, showValue, UsageError } from '../../model/errors';
import { redactCredentials } from '../../model/urls';

/** Which file each cluster and user of a loaded kubeconfig came from, for messages. */
const ORIGINS = new WeakMap<KubeConfig, { clusters: Map<string, string>; users: Map<string, string> }>();

/** The kubeconfig file that defines a cluster or user of `kc`, when loadKubeConfig read it. */
export function kubeconfigFileOf(kc: KubeConfig, kind: 'cluster' | 'user', name: string): string | undefined {
  return ORIGINS.get(kc)?.[kind === 'cluster' ? 'clusters' : 'users'].get(name);
}

/** A kubeconfig from `--kubeconfig`/`--context`, $KUBECONFIG, ~/.kube/config or in-cluster. */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string } = {}): KubeConfig {
  let kc: KubeConfig;
  // An empty flag (an unset variable in a script) would otherwise fall back to another kubeconfig silently.
  for (const [flag, value] of [
    ['--kubeconfig', options.kubeconfig],
    ['--context', options.context],
  ] as const) {
    if (value !== undefined && value.trim() === '')
      throw new UsageError(
        `${flag} is ${JSON.stringify(value)}; pass a ${flag === '--kubeconfig' ? 'kubeconfig file' : 'context name'}, or leave the flag out to use ${flag === '--kubeconfig' ? '$KUBECONFIG or ~/.kube/config' : "the kubeconfig's current context"}`,
      );
  }
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig))
      throw new UsageError(
        `--kubeconfig is ${JSON.stringify(options.kubeconfig)}; no such file. Pass an existing kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config`,
      );
    kc = mergeFiles([options.kubeconfig], (file) => `--kubeconfig ${JSON.stringify(file)}`);
  } else if (process.env.KUBECONFIG) {
    kc = fromEnvironment(process.env.KUBECONFIG);
  } else {
    const home = join(homedir(), '.kube', 'config');
    // With nothing to read, client-node falls back to http://localhost:8080, which it then refuses.
    if (existsSync(home)) kc = mergeFiles([home], (file) => `the kubeconfig ${JSON.stringify(file)}`);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc = inClusterKubeConfig();
    else
      throw new UsageError(
        'no kubeconfig: $KUBECONFIG is unset and ~/.kube/config does not exist; pass --kubeconfig <file>, set KUBECONFIG, or run in the cluster',
      );
  }
  if (options.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(options.context))
      throw new UsageError(
        `--context is ${JSON.stringify(options.context)}; the kubeconfig has ${names.length ? names.map(plainOrQuoted).join(', ') : 'no contexts'}. Pass one of them`,
      );
    kc.setCurrentContext(options.context);
  }
  return kc;
}

/**
 * $KUBECONFIG, a list of files as kubectl reads it: files that do not exist are skipped, and a
 * name (cluster, user, context) or the current context defined twice keeps the first file's.
 * client-node's own merge throws on the second definition instead.
 */
function fromEnvironment(list: string): KubeConfig {
  const files = list.split(delimiter).filter((f) => f !== '');
  const existing = files.filter((f) => existsSync(f));
  if (existing.length === 0)
    throw new UsageError(
      `$KUBECONFIG is ${showValue(list)}; ${files.length === 0 ? 'it names no file' : files.length > 1 ? 'none of its files exists' : 'no such file'}. Point it at your kubeconfig, or unset it to use ~/.kube/config`,
    );
  return mergeFiles(existing, (file) => `the kubeconfig ${JSON.stringify(file)} (from $KUBECONFIG)`);
}

/** Loads and merges kubeconfig files, first definition winning; `named` names a file in errors. */
function mergeFiles(files: readonly string[], named: (file: string) => string): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  const origins = { clusters: new Map<string, string>(), users: new Map<string, string>() };
  let currentContext: string | undefined;
  for (const file of files) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new UsageError(
        `${named(file)} is not a valid kubeconfig (${redactCredentials(firstLine((err as Error).message))}); pass a kubeconfig file`,
      );
    }
    for (const c of one.clusters) {
      if (clusters.has(c.name)) continue;
      clusters.set(c.name, c);
      origins.clusters.set(c.name, file);
    }
    for (const u of one.users) {
      if (users.has(u.name)) continue;
      users.set(u.name, u);
      origins.users.set(u.name, file);
    }
    for (const c of one.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    currentContext ||= one.currentContext || undefined;
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: currentContext ?? '',
  });
  ORIGINS.set(kc, origins);
  return kc;
}

/** A name as it is when it is printable ASCII without spaces, else quoted: a newline stays on one line. */
export function plainOrQuoted(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) ? name : JSON.stringify(name);
}

/** The pod's own ServiceAccount token and CA, where in-cluster clients read them. */
export function inClusterKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}
