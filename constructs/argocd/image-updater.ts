import { Construct } from 'constructs';
import { ARGOCD_NAMESPACE, LABELS, PART_OF } from '../../model/constants';
import { ValidationError } from '../../model/errors';
import {
  ImageUpdateStrategy,
  isImageUpdateStrategy,
  isSemverRange,
  isTagGlob,
  isTagRegexp,
  WRITE_BACK_KEYS,
} from '../../model/image-updates';
import {
  isDnsLabel,
  isDnsSubdomain,
  isGitRevision,
  isImageRepository,
  isImageTag,
  isRepoPath,
  validate,
} from '../../model/validators';
import {
  ImageUpdater as ImageUpdaterResource,
  ImageUpdaterSpecApplicationRefsImages,
} from '../imports/argocd-image-updater.argoproj.io';

/** One image an ImageUpdater moves, and by which policy. */
export interface ImageUpdaterImage {
  /** Name of the image within the Application, e.g. the service's name. */
  readonly alias: string;
  /** Image repository without tag, e.g. `ghcr.io/example-org/app-service`. */
  readonly repository: string;
  /** The tag the stack file pins: what `digest` follows. */
  readonly tag: string;
  readonly strategy: Exclude<ImageUpdateStrategy, 'none'>;
  /** Semver range (semver only). @default any version, stable only */
  readonly constraint?: string;
  /** Only tags matching this regexp are considered. @default every tag */
  readonly allowTags?: string;
  /** Tags matching any of these globs (Go's filepath.Match) never deploy. @default none */
  readonly ignoreTags?: readonly string[];
  /** Helm keys the new image is written to. @default `updatedImage.repository`, `updatedImage.tag` */
  readonly helmKeys?: { readonly repository: string; readonly tag: string };
}

export interface ImageUpdaterProps {
  /** Argo CD Application whose images move (an exact name). */
  readonly application: string;
  readonly images: readonly ImageUpdaterImage[];
  /** Branch the new tags are committed to: the one the Application follows. */
  readonly branch: string;
  /** Values file the tags are written to, from the repo's root, e.g. `charts/app-service/images/dev.yaml`. */
  readonly writeBackFile: string;
  /** @default the Application's name */
  readonly name?: string;
  /** Namespace of the ImageUpdater and of the Application (Argo CD's). @default "argocd" */
  readonly namespace?: string;
  /** Labels besides part-of. @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * An Argo CD Image Updater v1.x `ImageUpdater` for one Application: its images, each with a
 * strategy and tag filters, and Git write-back of new tags to a Helm values file the Application
 * reads. Git write-back, not the `argocd` method: an ApplicationSet regenerates its Applications and
 * would drop parameters written into them (Image Updater issues #400 and #1108); a file in Git
 * survives, and Git stays the one way in.
 */
export class ImageUpdater extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly resource: ImageUpdaterResource;

  constructor(scope: Construct, id: string, props: ImageUpdaterProps) {
    super(scope, id);
    this.name = validate('name', props.name ?? props.application, isDnsSubdomain);
    this.namespace = validate('namespace', props.namespace ?? ARGOCD_NAMESPACE, isDnsLabel);
    validate('application', props.application, isDnsSubdomain);
    validate('branch', props.branch, isGitRevision);
    validate('writeBackFile', props.writeBackFile, isRepoPath);
    if (!/\.ya?ml$/.test(props.writeBackFile))
      throw new ValidationError(
        'writeBackFile',
        props.writeBackFile,
        'Image Updater writes Helm values only to a .yaml or .yml file; name one',
      );
    if (props.images.length === 0) throw new ValidationError('images', [], 'list at least one image to move');
    const aliases = new Set<string>();
    const images = props.images.map((image, i) => {
      if (aliases.has(image.alias))
        throw new ValidationError(`images[${i}].alias`, image.alias, 'aliases must be unique; rename one');
      aliases.add(image.alias);
      return imageSpec(image, i);
    });
    this.resource = new ImageUpdaterResource(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { [LABELS.partOf]: PART_OF, ...(props.labels ?? {}) },
      },
      spec: {
        namespace: this.namespace,
        applicationRefs: [
          {
            namePattern: props.application,
            images,
            writeBackConfig: {
              method: 'git',
              gitConfig: { branch: props.branch, writeBackTarget: `helmvalues:/${props.writeBackFile}` },
            },
          },
        ],
      },
    });
  }
}

/** One image as Image Updater reads it: the constraint rides on the image name, as upstream asks. */
function imageSpec(image: ImageUpdaterImage, i: number): ImageUpdaterSpecApplicationRefsImages {
  const at = (key: string) => `images[${i}].${key}`;
  validate(at('alias'), image.alias, (v) =>
    /^[a-zA-Z0-9][a-zA-Z0-9-._]*$/.test(v) ? undefined : 'use letters, digits, "-", "." and "_"',
  );
  validate(at('repository'), image.repository, isImageRepository);
  validate(at('tag'), image.tag, isImageTag);
  validate(at('strategy'), image.strategy, isImageUpdateStrategy);
  if (image.constraint !== undefined) {
    validate(at('constraint'), image.constraint, isSemverRange);
    if (image.strategy !== 'semver')
      throw new ValidationError(
        at('constraint'),
        image.constraint,
        'only the semver strategy reads a constraint; drop it',
      );
  }
  if (image.allowTags !== undefined) validate(at('allowTags'), image.allowTags, isTagRegexp);
  image.ignoreTags?.forEach((g, j) => validate(`${at('ignoreTags')}[${j}]`, g, isTagGlob));
  const suffix =
    image.strategy === 'digest'
      ? `:${image.tag}`
      : image.constraint !== undefined
        ? `:${image.constraint}`
        : '';
  const keys = image.helmKeys ?? WRITE_BACK_KEYS;
  return {
    alias: image.alias,
    imageName: `${image.repository}${suffix}`,
    commonUpdateSettings: {
      updateStrategy: image.strategy,
      allowTags: image.allowTags !== undefined ? `regexp:${image.allowTags}` : undefined,
      ignoreTags: image.ignoreTags?.length ? [...image.ignoreTags] : undefined,
    },
    manifestTargets: { helm: { name: keys.repository, tag: keys.tag } },
  };
}
