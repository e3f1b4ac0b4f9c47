import { KubeObject, objectKey } from '../../model/objects';
import { KubeClient } from './client';

/*
 * The live state, read with one LIST per kind across all namespaces (never object by object).
 */

export interface KindRef {
  readonly apiVersion: string;
  readonly kind: string;
}

export interface LiveSnapshot {
  readonly objects: Map<string, KubeObject>;
  /** LIST calls made: one per kind served. */
  readonly requests: number;
  /** Kinds the cluster does not serve (for example a CRD that is not installed). */
  readonly missingKinds: readonly string[];
}

export function uniqueKinds(objects: readonly KindRef[], extra: readonly KindRef[] = []): KindRef[] {
  const seen = new Map<string, KindRef>();
  for (const k of [...objects, ...extra])
    seen.set(`${k.apiVersion}/${k.kind}`, { apiVersion: k.apiVersion, kind: k.kind });
  return [...seen.values()].sort((a, b) =>
    `${a.apiVersion}/${a.kind}`.localeCompare(`${b.apiVersion}/${b.kind}`),
  );
}

export async function readLiveState(client: KubeClient, kinds: readonly KindRef[]): Promise<LiveSnapshot> {
  const objects = new Map<string, KubeObject>();
  const missingKinds: string[] = [];
  let requests = 0;
  await Promise.all(
    kinds.map(async ({ apiVersion, kind }) => {
      if (!(await client.resource(apiVersion, kind))) {
        missingKinds.push(`${apiVersion} ${kind}`);
        return;
      }
      requests++;
      const list = await client.list<KubeObject>(apiVersion, kind);
      for (const item of list.items) {
        const obj = { ...item, apiVersion, kind };
        objects.set(objectKey(obj), obj);
      }
    }),
  );
  return { objects, requests, missingKinds: missingKinds.sort() };
}
