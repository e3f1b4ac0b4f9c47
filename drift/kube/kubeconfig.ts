import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../../model/errors';

/** A kubeconfig from `--kubeconfig`/`--context`, $KUBECONFIG, ~/.kube/config or in-cluster. */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig))
      throw new UsageError(
        `--kubeconfig is ${JSON.stringify(options.kubeconfig)}; no such file. Pass an existing kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config`,
      );
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (err) {
      throw new UsageError(
        `--kubeconfig ${JSON.stringify(options.kubeconfig)} is not a valid kubeconfig (${(err as Error).message.split('\n')[0]}); pass a kubeconfig file`,
      );
    }
  } else {
    // With nothing to read, client-node falls back to http://localhost:8080, which it then refuses.
    const found =
      process.env.KUBECONFIG ||
      existsSync(join(homedir(), '.kube', 'config')) ||
      process.env.KUBERNETES_SERVICE_HOST;
    if (!found)
      throw new UsageError(
        'no kubeconfig: $KUBECONFIG is unset and ~/.kube/config does not exist; pass --kubeconfig <file>, set KUBECONFIG, or run in the cluster',
      );
    kc.loadFromDefault();
  }
  if (options.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(options.context))
      throw new UsageError(
        `--context is ${JSON.stringify(options.context)}; the kubeconfig has ${names.length ? names.join(', ') : 'no contexts'}. Pass one of them`,
      );
    kc.setCurrentContext(options.context);
  }
  return kc;
}

/** The pod's own ServiceAccount token and CA, where in-cluster clients read them. */
export function inClusterKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}
