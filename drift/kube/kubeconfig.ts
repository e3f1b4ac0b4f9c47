import { existsSync } from 'node:fs';
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
  } else kc.loadFromDefault();
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
