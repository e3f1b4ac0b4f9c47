import { HEAL_FIELD_MANAGER } from '../model/constants';
import { KubeObject } from '../model/objects';
import { pointerSegments } from '../model/pointer';
import { DriftFinding } from './engine/find-drift';
import { KubeClient } from './kube/client';

/*
 * Heals a drift by putting Git's values back. A modification is healed with a server-side apply
 * of just the drifted fields (taken from the desired object), so Converge owns no more fields
 * than it restores; a deletion by applying the whole desired object; an addition by deleting it.
 */

/** The desired object cut down to the fields on the given paths (list items whole, by name). */
export function partialObject(desired: KubeObject, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    apiVersion: desired.apiVersion,
    kind: desired.kind,
    metadata: {
      name: desired.metadata.name,
      ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {}),
    },
  };
  for (const path of paths) {
    const segments = pointerSegments(path);
    let src: unknown = desired;
    let dst: Record<string, unknown> = out;
    for (let i = 0; i < segments.length; i++) {
      const key = segments[i];
      const value = (src as Record<string, unknown> | undefined)?.[key];
      if (Array.isArray(value)) {
        // Lists are set whole: keyed lists merge by their keys, others are atomic anyway.
        dst[key] = value;
        break;
      }
      if (i === segments.length - 1 || value === null || typeof value !== 'object') {
        if (value !== undefined) dst[key] = value;
        break;
      }
      dst[key] = (dst[key] as Record<string, unknown> | undefined) ?? {};
      dst = dst[key] as Record<string, unknown>;
      src = value;
    }
  }
  return out;
}

export class Remediator {
  constructor(
    private readonly client: KubeClient,
    private readonly fieldManager = HEAL_FIELD_MANAGER,
  ) {}

  public async heal(finding: DriftFinding, desired: KubeObject | undefined): Promise<void> {
    const { apiVersion, kind, namespace, name } = finding.object;
    const path = await this.client.path(apiVersion, kind, namespace, name);
    if (finding.change === 'added') {
      await this.client.request('DELETE', path);
      return;
    }
    if (!desired) throw new Error(`no desired state for ${kind}/${name}`);
    const body =
      finding.change === 'deleted'
        ? desired
        : partialObject(
            desired,
            finding.fields.map((f) => f.path.replace(/\/-$/, '')),
          );
    await this.client.request(
      'PATCH',
      `${path}?fieldManager=${this.fieldManager}&force=true`,
      body,
      'application/apply-patch+yaml',
    );
  }
}
