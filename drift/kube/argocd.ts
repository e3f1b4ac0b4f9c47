import { LABELS } from '../../model/constants';
import { ArgoApplication } from '../../model/argo-application';
import { KubeClient } from './client';

/* What Argo CD says about an environment's Applications, read in Argo CD's namespace only. */

const APPLICATION = ['argoproj.io/v1alpha1', 'Application'] as const;

interface Application {
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly spec?: {
    syncPolicy?: { automated?: { selfHeal?: boolean } };
    source?: { repoURL?: string };
    sources?: { repoURL?: string }[];
  };
  readonly status?: { sync?: { status?: string }; health?: { status?: string } };
}

export interface ArgoStatus {
  readonly sync?: string;
  readonly health?: string;
}

/** The environment's Applications, or none when the cluster does not serve Argo CD's kinds. */
async function applications(client: KubeClient, namespace: string, environment: string) {
  if (!(await client.resource(...APPLICATION))) return [];
  // Listed in Argo CD's namespace only: the in-cluster controller may read nothing wider.
  const { items } = await client.list<Application>(...APPLICATION, '', namespace);
  // One cluster may hold several environments: only this one's Applications.
  return items.filter((a) => a.metadata.labels?.[LABELS.environment] === environment);
}

/** Sync and health of each of the environment's Applications, by name. */
export async function argoStatuses(
  client: KubeClient,
  namespace: string,
  environment: string,
): Promise<Map<string, ArgoStatus>> {
  return new Map(
    (await applications(client, namespace, environment)).map((a) => [
      a.metadata.name,
      { sync: a.status?.sync?.status, health: a.status?.health?.status },
    ]),
  );
}

/** The environment's Applications that Argo CD runs with self-heal on. */
export async function selfHealingApplications(
  client: KubeClient,
  namespace: string,
  environment: string,
): Promise<Set<string>> {
  return new Set(
    (await applications(client, namespace, environment))
      .filter((a) => a.spec?.syncPolicy?.automated?.selfHeal)
      .map((a) => a.metadata.name),
  );
}

/** The environment's Applications with their whole status, for `converge status`. */
export async function environmentApplications(
  client: KubeClient,
  namespace: string,
  environment: string,
): Promise<ArgoApplication[]> {
  // Each listed object is whole, as the API server stores it; only its type here names fewer fields.
  return applications(client, namespace, environment);
}
