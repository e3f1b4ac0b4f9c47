import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';

/**
 * The cluster to deploy to, from the stack's `kubernetes:kubeconfig` and `kubernetes:context`
 * settings (the provider's usual keys); without them, the default kubeconfig and context.
 */
export function clusterProvider(): k8s.Provider {
  const kubernetes = new pulumi.Config('kubernetes');
  return new k8s.Provider('cluster', {
    kubeconfig: kubernetes.get('kubeconfig'),
    context: kubernetes.get('context'),
    enableServerSideApply: true,
  });
}
