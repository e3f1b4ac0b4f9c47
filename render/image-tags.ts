import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { imageUpdatePolicy } from '../config/image-updates';
import { imageWriteBackFile } from '../model/image-updates';
import { DesiredObject } from '../model/objects';
import type { DesiredState } from './desired-state';

/*
 * Which tag each service runs, and where it came from: the stack file pins the floor, and Image
 * Updater's write-back file (`<chart>/images/<env>.yaml`) what runs once it has moved. The chart
 * decides (service-base.imageTag); this reads its answer off the rendered Deployment, so the
 * report never disagrees with what Argo CD renders.
 */

export interface EffectiveImage {
  readonly service: string;
  readonly image: string;
  readonly tag: string;
  /** `stack file` (the pinned tag) or `write-back file`. */
  readonly source: 'stack file' | 'write-back file';
  /** The stack file's tag: what runs with no write-back, and the floor under semver. */
  readonly pinned: string;
  /** The write-back file, from the repo's root, when the service moves by policy. */
  readonly writeBackFile?: string;
  /** The tag in the write-back file, when it has one. */
  readonly written?: string;
  /** The service's strategy, when its image moves. */
  readonly strategy?: string;
}

/** The tag Image Updater wrote to a write-back file, or undefined when it has written none. */
export function writtenTag(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const values = parse(readFileSync(file, 'utf8')) as { updatedImage?: { tag?: unknown } } | null;
  const tag = values?.updatedImage?.tag;
  return tag === undefined || tag === null || tag === '' ? undefined : String(tag);
}

/** Each service's stable image in the desired state, and whether the stack file or the write-back file set it. */
export function effectiveImages(desired: DesiredState): EffectiveImage[] {
  const config = desired.environment.loaded.config;
  return Object.keys(config.services)
    .sort()
    .map((service) => {
      const declared = config.services[service];
      const policy = imageUpdatePolicy(config, service);
      const writeBackFile = policy
        ? `${declared.chart ?? `charts/${service}`}/${imageWriteBackFile(config.environment)}`
        : undefined;
      // From Git the snapshot holds the repo's charts/; a --charts-dir folder is charts/ itself.
      const local = desired.charts.commit === undefined;
      const path =
        writeBackFile &&
        join(desired.charts.dir, local ? writeBackFile.replace(/^charts\//, '') : writeBackFile);
      const written = path ? writtenTag(path) : undefined;
      const image =
        stableImage(desired.objects, declared.namespace, service) ??
        `${declared.image.repository}:${declared.image.tag}`;
      const tag = image.slice(declared.image.repository.length + 1);
      return {
        service,
        image,
        tag,
        source:
          written !== undefined && tag === written ? ('write-back file' as const) : ('stack file' as const),
        pinned: declared.image.tag,
        writeBackFile,
        written,
        strategy: policy?.strategy,
      };
    });
}

function stableImage(
  objects: readonly DesiredObject[],
  namespace: string,
  service: string,
): string | undefined {
  const deployment = objects.find(
    (o) =>
      o.object.kind === 'Deployment' &&
      o.object.metadata.namespace === namespace &&
      o.object.metadata.name === service,
  );
  const spec = deployment?.object.spec as
    { template?: { spec?: { containers?: { image?: string }[] } } } | undefined;
  return spec?.template?.spec?.containers?.[0]?.image;
}

/** One line for a report: the tag a service runs and where it came from. */
export function describeImage(image: EffectiveImage): string {
  const policy = image.strategy ? `${image.strategy}, pinned ${image.pinned}` : 'does not move';
  if (image.source === 'write-back file')
    return `${image.service} runs ${image.tag} from ${image.writeBackFile} (written by Image Updater; ${policy})`;
  const why =
    image.written !== undefined
      ? `; ${image.writeBackFile} holds ${image.written}, below the pin`
      : image.writeBackFile
        ? '; nothing written yet'
        : '';
  return `${image.service} runs ${image.tag} from the stack file (${policy}${why})`;
}
