import { App } from 'cdk8s';
import { ImageUpdater, ImageUpdaterProps } from '../../constructs/argocd/image-updater';
import { GitOpsPlatform } from '../../constructs/platform/gitops-platform';
import { loadStackConfig } from '../../config/stack-file';
import { KubeObject } from '../../model/objects';
import { MINI_ARGOCD } from '../fixtures/argocd-mini';
import { ofKind, only, synthObjects } from '../helpers';

const props: ImageUpdaterProps = {
  application: 'prod-app-service',
  branch: 'main',
  writeBackFile: 'charts/app-service/images/prod.yaml',
  images: [
    {
      alias: 'app-service',
      repository: 'ghcr.io/example-org/app-service',
      tag: '1.0.0',
      strategy: 'semver',
      constraint: '~1.0',
      ignoreTags: ['*-rc*'],
    },
  ],
};

const platformFor = (
  env: string,
  edit: (c: ReturnType<typeof loadStackConfig>['config']) => void = () => {},
) => {
  const config = structuredClone(loadStackConfig(env).config);
  // The committed stacks keep the updater off until it is installed; these tests switch it on.
  if (env !== 'prod') (config.imageUpdater as { enabled: boolean }).enabled = true;
  edit(config);
  const app = new App();
  const platform = new GitOpsPlatform(app, env, {
    config,
    argoCdManifests: { ...MINI_ARGOCD, ha: config.argocd.ha },
  });
  return { platform, objects: platform.platformChart.toJson() as KubeObject[] };
};

describe('ImageUpdater', () => {
  it('writes the policy as Image Updater v1 reads it, with Git write-back to a values file', () => {
    // GIVEN one image under prod's policy
    // WHEN synthesized
    const updater = only(
      synthObjects((chart) => new ImageUpdater(chart, 'u', props)),
      'ImageUpdater',
    );
    // THEN the constraint rides on the image name, and the tag goes to the write-back keys
    expect(updater).toEqual({
      apiVersion: 'argocd-image-updater.argoproj.io/v1alpha1',
      kind: 'ImageUpdater',
      metadata: {
        name: 'prod-app-service',
        namespace: 'argocd',
        labels: { 'app.kubernetes.io/part-of': 'converge' },
      },
      spec: {
        namespace: 'argocd',
        applicationRefs: [
          {
            namePattern: 'prod-app-service',
            images: [
              {
                alias: 'app-service',
                imageName: 'ghcr.io/example-org/app-service:~1.0',
                commonUpdateSettings: { updateStrategy: 'semver', ignoreTags: ['*-rc*'] },
                manifestTargets: { helm: { name: 'updatedImage.repository', tag: 'updatedImage.tag' } },
              },
            ],
            writeBackConfig: {
              method: 'git',
              gitConfig: {
                branch: 'main',
                writeBackTarget: 'helmvalues:/charts/app-service/images/prod.yaml',
              },
            },
          },
        ],
      },
    });
  });

  it.each([
    [
      'digest',
      { strategy: 'digest' as const, constraint: undefined, ignoreTags: undefined },
      'ghcr.io/example-org/app-service:1.0.0',
    ],
    [
      'newest-build',
      { strategy: 'newest-build' as const, constraint: undefined, allowTags: '^[0-9a-f]{7}$' },
      'ghcr.io/example-org/app-service',
    ],
  ])('names the image for %s', (_name, policy, imageName) => {
    const updater = only(
      synthObjects(
        (chart) => new ImageUpdater(chart, 'u', { ...props, images: [{ ...props.images[0], ...policy }] }),
      ),
      'ImageUpdater',
    );
    const image = (
      updater.spec as { applicationRefs: { images: { imageName: string; commonUpdateSettings: object }[] }[] }
    ).applicationRefs[0].images[0];
    expect(image.imageName).toBe(imageName);
    if ('allowTags' in policy)
      expect(image.commonUpdateSettings).toMatchObject({ allowTags: 'regexp:^[0-9a-f]{7}$' });
  });

  it.each<[string, Partial<ImageUpdaterProps>, RegExp]>([
    [
      'the write-back file is not YAML',
      { writeBackFile: 'charts/app-service/images/prod.json' },
      /writeBackFile.*\.yaml or \.yml/,
    ],
    ['the write-back file leaves the repo', { writeBackFile: '../prod.yaml' }, /a path inside the repo/],
    ['no image is listed', { images: [] }, /at least one image/],
    [
      'a constraint comes with newest-build',
      { images: [{ ...props.images[0], strategy: 'newest-build' }] },
      /only the semver strategy/,
    ],
    ['an alias repeats', { images: [props.images[0], props.images[0]] }, /aliases must be unique/],
    ['a glob is malformed', { images: [{ ...props.images[0], ignoreTags: ['[a-'] }] }, /ignoreTags\[0\]/],
  ])('fails when %s', (_name, change, message) => {
    expect(() => synthObjects((chart) => new ImageUpdater(chart, 'u', { ...props, ...change }))).toThrow(
      message,
    );
  });
});

describe('GitOpsPlatform with image updates', () => {
  it('moves the Application that renders the Deployment, and reads the write-back file after the stack values (staging)', () => {
    // GIVEN staging, whose services are split into a self-healing and a guarded Application
    const { platform, objects } = platformFor('staging');
    // THEN each service has an ImageUpdater aimed at its guarded part, committing to staging's branch
    const updaters = ofKind(objects, 'ImageUpdater');
    expect(updaters.map((u) => u.metadata.name)).toEqual(['staging-app-service', 'staging-model-service']);
    expect(updaters[0].spec).toMatchObject({
      applicationRefs: [
        {
          namePattern: 'staging-app-service-guarded',
          images: [{ imageName: 'ghcr.io/example-org/app-service:^1' }],
          writeBackConfig: {
            gitConfig: {
              branch: 'release-1.5',
              writeBackTarget: 'helmvalues:/charts/app-service/images/staging.yaml',
            },
          },
        },
      ],
    });
    // AND both parts list the write-back file, skipped while missing, and keep the pinned tag as the floor
    for (const app of platform.applicationSet.applications) {
      expect(app.spec).toMatchObject({
        source: {
          helm: {
            valueFiles: ['values-staging.yaml', 'images/staging.yaml'],
            ignoreMissingValueFiles: true,
            valuesObject: { image: { updates: 'semver' } },
          },
        },
      });
    }
    // AND the ApplicationSet's patch carries the same lists, so Argo CD generates what was predicted
    const set = only(objects, 'ApplicationSet');
    const elements = (set.spec as { generators: { list: { elements: Record<string, unknown>[] } }[] })
      .generators[0].list.elements;
    for (const e of elements)
      expect(e).toMatchObject({
        valueFiles: ['values-staging.yaml', 'images/staging.yaml'],
        ignoreMissingValueFiles: true,
      });
    expect((set.spec as { templatePatch: string }).templatePatch).toContain(
      'valueFiles: {{ toJson .valueFiles }}',
    );
  });

  it('leaves prod, whose updater is off, as before: no ImageUpdater, no write-back file', () => {
    const { platform, objects } = platformFor('prod');
    expect(ofKind(objects, 'ImageUpdater')).toEqual([]);
    for (const app of platform.applicationSet.applications) {
      const helm = (app.spec as { source: { helm: Record<string, unknown> } }).source.helm;
      expect(helm.valueFiles).toEqual(['values-prod.yaml']);
      expect(helm.ignoreMissingValueFiles).toBeUndefined();
      expect((helm.valuesObject as { image: object }).image).toEqual({
        repository: expect.any(String),
        tag: expect.any(String),
      });
    }
  });

  it('moves no service whose strategy is none', () => {
    const { platform, objects } = platformFor('dev', (c) => {
      c.services['model-service'].imageUpdates = { strategy: 'none' };
    });
    expect(ofKind(objects, 'ImageUpdater').map((u) => u.metadata.name)).toEqual(['dev-app-service']);
    const model = platform.applicationSet.applications.find((a) => a.metadata.name === 'dev-model-service')!;
    expect((model.spec as { source: { helm: { valueFiles: string[] } } }).source.helm.valueFiles).toEqual([
      'values-dev.yaml',
    ]);
  });

  it('refuses updatedImage among a service values: Image Updater owns it', () => {
    expect(() =>
      platformFor('dev', (c) => {
        c.services['app-service'].values = { updatedImage: { tag: '9.9.9' } };
      }),
    ).toThrow(/services.app-service.values.updatedImage/);
  });
});
