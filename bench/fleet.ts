import { App, Chart } from 'cdk8s';
import { HelmApplication } from '../constructs/argocd/helm-application';
import { PlatformConfig, platformConfigSchema } from '../config/schema';
import { Environment, ENVIRONMENTS } from '../model/constants';
import { IstioCanary } from '../constructs/istio/istio-canary';
import { GitOpsPlatform } from '../constructs/platform/gitops-platform';
import { ManifestFile, synthesizeCharts } from '../render/synthesize';
import { ArgoCdManifests } from '../constructs/argocd/argocd-install';
import { loadArgoCdManifests } from '../render/upstream';

/**
 * A generated fleet: per environment, a GitOpsPlatform with `size` services (one namespace each),
 * and for every service the cdk8s path too (a HelmApplication plus IstioCanary routing).
 */
export function fleetConfig(env: Environment, size: number): PlatformConfig {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    services[name] = {
      chart: 'charts/app-service',
      namespace: `${env}-${name}`,
      image: { repository: `ghcr.io/example-org/${name}`, tag: `1.${i % 10}.0` },
      replicas: 1 + (i % 3),
      canary: { weight: i % 50, tag: `1.${i % 10}.1`, weightsManagedExternally: i % 2 === 0 },
    };
  }
  return platformConfigSchema.parse({
    environment: env,
    git: { repoURL: 'https://github.com/example-org/fleet.git', revision: 'main' },
    services,
  });
}

export function synthesizeFleet(
  size: number,
  manifests: ArgoCdManifests = loadArgoCdManifests(),
): ManifestFile[] {
  const app = new App();
  const files: ManifestFile[] = [];
  for (const env of ENVIRONMENTS) {
    const config = fleetConfig(env, size);
    const platform = new GitOpsPlatform(app, env, { config, argoCdManifests: manifests });
    const services = new Chart(app, `${env}-services`);
    for (const [name, service] of Object.entries(config.services)) {
      new HelmApplication(services, `${env}-${name}`, {
        project: env,
        repoURL: config.git.repoURL,
        chartPath: service.chart!,
        targetRevision: config.git.revision,
        destinationNamespace: service.namespace,
        values: { replicaCount: service.replicas },
      });
      new IstioCanary(services, `${name}-routing`, {
        host: name,
        namespace: service.namespace,
        weight: service.canary!.weight,
      });
    }
    files.push(...synthesizeCharts([...platform.charts, services]));
  }
  return files;
}
