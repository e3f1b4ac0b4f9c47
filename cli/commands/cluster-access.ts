import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { checkKubeConfig } from '../../drift/kube/client';
import { inClusterKubeConfig, loadKubeConfig } from '../../drift/kube/kubeconfig';
import { UsageError } from '../../model/errors';

/*
 * The one way the commands get a kubeconfig: loaded, checked before the first request (so a bad
 * context or server is one line naming it), with a warning line for a cluster that skips TLS.
 */

/** Where a pod's ServiceAccount token is mounted; client-node reads it from there. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface ClusterAccessOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
}

export function clusterAccess(options: ClusterAccessOptions): KubeConfig {
  const kc = options.inCluster ? inCluster() : loadKubeConfig(options);
  for (const warning of checkKubeConfig(kc)) console.error(`converge: warning: ${warning}`);
  return kc;
}

/** `--in-cluster` outside a pod would fail later on an empty server URL: say so first. */
function inCluster(): KubeConfig {
  const missing = [
    ...(process.env.KUBERNETES_SERVICE_HOST ? [] : ['$KUBERNETES_SERVICE_HOST is unset']),
    ...(existsSync(SERVICE_ACCOUNT_TOKEN) ? [] : [`${SERVICE_ACCOUNT_TOKEN} does not exist`]),
  ];
  if (missing.length)
    throw new UsageError(
      `--in-cluster needs a pod's service account, but ${missing.join(' and ')}; run it in the cluster (the drift controller's Deployment), or drop --in-cluster and pass --kubeconfig`,
    );
  return inClusterKubeConfig();
}
