import { ApiObject, App, Chart, IResolver, JsonPatch, ResolutionContext } from 'cdk8s';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig } from '../../config/stack-file';
import { ArgoCdInstall, ArgoCdManifests } from '../../constructs/argocd/argocd-install';
import { GitOpsPlatform } from '../../constructs/platform/gitops-platform';
import { ENVIRONMENTS } from '../../model/constants';
import { toYaml } from '../../model/yaml';
import { synthesizeCharts } from '../../render/synthesize';
import { loadArgoCdManifests, upstreamDir } from '../../render/upstream';
import {
  libraryVersions,
  renderCacheKey,
  RenderCacheInputs,
  renderedYaml,
  UpstreamRenderCache,
} from '../../render/upstream-render-cache';

/*
 * The upstream render cache is only a shortcut: with it, cold or warm, every environment's files
 * are the same bytes as without it, and any change to what shaped a cached object is a new key.
 */

jest.setTimeout(120_000);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'converge-render-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function manifestsWith(ha: boolean, cacheDir: string | undefined): ArgoCdManifests {
  const plain = loadArgoCdManifests({ ha, renderCache: false });
  const source = readFileSync(join(upstreamDir('argo-cd'), ha ? 'ha-install.json' : 'install.json'), 'utf8');
  return { ...plain, rendered: new UpstreamRenderCache(plain, source, cacheDir) };
}

/** An environment's files (no header), rendered with the given Argo CD manifests. */
function files(env: string, manifests: (ha: boolean) => ArgoCdManifests) {
  const { config } = loadStackConfig(env);
  const platform = new GitOpsPlatform(new App(), env, {
    config,
    argoCdManifests: manifests(config.argocd.ha),
  });
  return synthesizeCharts(platform.charts).map((f) => ({ name: f.name, content: f.content }));
}

describe.each(ENVIRONMENTS)('the %s environment', (env) => {
  it('synthesizes the same bytes from a cold cache, a warm cache and no cache', () => {
    // GIVEN the files without any cache
    const uncached = files(env, (ha) => loadArgoCdManifests({ ha, renderCache: false }));
    // WHEN the cache is empty, then filled by that first run
    const cold = files(env, (ha) => manifestsWith(ha, dir));
    expect(readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.json$/.test(f))).toHaveLength(1);
    const warm = files(env, (ha) => manifestsWith(ha, dir));
    // THEN all three are identical
    expect(cold).toEqual(uncached);
    expect(warm).toEqual(uncached);
  });

  it('takes the Argo CD objects installed unchanged from the cache', () => {
    const { config } = loadStackConfig(env);
    const platform = new GitOpsPlatform(new App(), env, {
      config,
      argoCdManifests: manifestsWith(config.argocd.ha, dir),
    });
    synthesizeCharts(platform.charts);
    expect(platform.argoCd.passThrough).toEqual(
      expect.arrayContaining(['CustomResourceDefinition/applications.argoproj.io', 'Service/argocd-server']),
    );
    // The objects the platform changes are always synthesized.
    expect(platform.argoCd.passThrough).not.toContain('ConfigMap/argocd-cm');
    expect(platform.argoCd.passThrough).not.toContain('Deployment/argocd-server');
  });

  it('keeps the text of the objects the platform changes by content, and it is what the writer writes', () => {
    const { config } = loadStackConfig(env);
    const synth = () =>
      synthesizeCharts(
        new GitOpsPlatform(new App(), env, { config, argoCdManifests: manifestsWith(config.argocd.ha, dir) })
          .charts,
      )[0].objects;
    synth();
    expect(readdirSync(dir)).toContain('by-content.json');
    // Warm: every upstream object comes with its text, the writer's own bytes for it.
    const objects = synth().filter((o) => o.kind !== 'Namespace');
    for (const o of objects) expect(renderedYaml(o)).toBe(toYaml(o));
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap']));
  });
});

describe('a cached upstream object', () => {
  const key = 'CustomResourceDefinition/applications.argoproj.io';
  const yamlOf = (chart: Chart) => synthesizeCharts([chart])[0].content;

  /** The install's file, with `change` applied to the object at `key`, cached and uncached. */
  function both(change: (obj: ApiObject, chart: Chart) => void, props: { namespace?: string } = {}) {
    return [manifestsWith(false, dir), loadArgoCdManifests({ renderCache: false })].map((manifests) => {
      const chart = new Chart(new App(), 'argocd', props);
      const install = new ArgoCdInstall(chart, 'ArgoCd', { manifests });
      change(install.objects.get(key)!, chart);
      return yamlOf(chart);
    });
  }

  it.each<[string, (obj: ApiObject) => void]>([
    ['a label added after it was made', (obj) => obj.metadata.addLabel('team', 'platform')],
    ['an annotation', (obj) => obj.metadata.addAnnotation('note', 'x')],
    ['a JSON patch', (obj) => obj.addJsonPatch(JsonPatch.add('/spec/preserveUnknownFields', false))],
  ])('is synthesized again after %s', (_, change) => {
    const [cached, uncached] = both(change);
    expect(cached).toEqual(uncached);
    expect(cached).toContain(key.split('/')[1]);
    const [untouched] = both(() => undefined);
    expect(cached).not.toEqual(untouched);
  });

  it('is synthesized again in a chart with labels of its own', () => {
    const [cached, uncached] = [manifestsWith(false, dir), loadArgoCdManifests({ renderCache: false })].map(
      (manifests) => {
        const chart = new Chart(new App(), 'argocd', { labels: { tier: 'control-plane' } });
        new ArgoCdInstall(chart, 'ArgoCd', { manifests });
        return yamlOf(chart);
      },
    );
    expect(cached).toEqual(uncached);
    expect(cached).toContain('tier: control-plane');
  });

  it('is synthesized again when the app has a resolver of its own', () => {
    class Upper implements IResolver {
      public resolve(context: ResolutionContext): void {
        if (context.value === 'argoproj.io') context.replaceValue('ARGOPROJ.IO');
      }
    }
    const [cached, uncached] = [manifestsWith(false, dir), loadArgoCdManifests({ renderCache: false })].map(
      (manifests) => {
        const chart = new Chart(new App({ resolvers: [new Upper()] }), 'argocd');
        new ArgoCdInstall(chart, 'ArgoCd', { manifests });
        return yamlOf(chart);
      },
    );
    expect(cached).toEqual(uncached);
    expect(cached).toContain('group: ARGOPROJ.IO');
  });

  it('is cached per namespace', () => {
    const [cached, uncached] = [manifestsWith(false, dir), loadArgoCdManifests({ renderCache: false })].map(
      (manifests) => {
        const chart = new Chart(new App(), 'argocd');
        new ArgoCdInstall(chart, 'ArgoCd', { manifests, namespace: 'gitops' });
        return yamlOf(chart);
      },
    );
    expect(cached).toEqual(uncached);
    expect(cached).toContain('namespace: gitops');
    expect(cached).not.toContain('namespace: argocd');
  });
});

describe('the cache folder', () => {
  const render = () => {
    const chart = new Chart(new App(), 'argocd');
    new ArgoCdInstall(chart, 'ArgoCd', { manifests: manifestsWith(false, dir) });
    return synthesizeCharts([chart])[0].content;
  };
  const uncached = () => {
    const chart = new Chart(new App(), 'argocd');
    new ArgoCdInstall(chart, 'ArgoCd', { manifests: loadArgoCdManifests({ renderCache: false }) });
    return synthesizeCharts([chart])[0].content;
  };

  it('may be unwritable: nothing is written, the output is the same', () => {
    // A file where the folder should be: root ignores permission bits, not that.
    const blocked = join(dir, 'not-a-folder');
    writeFileSync(blocked, '');
    const chart = new Chart(new App(), 'argocd');
    new ArgoCdInstall(chart, 'ArgoCd', { manifests: manifestsWith(false, join(blocked, 'rendered')) });
    expect(synthesizeCharts([chart])[0].content).toEqual(uncached());
    expect(readdirSync(dir)).toEqual(['not-a-folder']);
  });

  it('replaces a damaged cache file', () => {
    render();
    const file = readdirSync(dir).find((f) => /^[0-9a-f]{64}\.json$/.test(f))!;
    writeFileSync(join(dir, file), '{"format": "converge-upstream-render/1", "entr');
    expect(render()).toEqual(uncached());
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8')).format).toBe('converge-upstream-render/1');
  });
});

describe('renderCacheKey', () => {
  const base: RenderCacheInputs = {
    source: '[{"kind":"CustomResourceDefinition"}]',
    namespace: 'argocd',
    versions: { cdk8s: '2.70.106', constructs: '10.8.1', yaml: '2.9.1' },
    code: ['class ArgoCdInstall {}', 'function toYaml() {}'],
  };

  it('is the same for the same inputs', () => {
    expect(renderCacheKey({ ...base, versions: { ...base.versions } })).toBe(renderCacheKey(base));
  });

  it.each<[string, Partial<RenderCacheInputs>]>([
    ['one byte of the upstream file', { source: base.source.replace('Custom', 'Cust0m') }],
    ['the namespace', { namespace: 'gitops' }],
    ['the cdk8s version', { versions: { ...base.versions, cdk8s: '2.70.107' } }],
    ['the yaml version', { versions: { ...base.versions, yaml: '2.9.2' } }],
    ['the constructs version', { versions: { ...base.versions, constructs: '10.8.2' } }],
    ['the construct or writer code', { code: ['class ArgoCdInstall { }', 'function toYaml() {}'] }],
    ['where one part ends and the next begins', { source: `${base.source}a`, namespace: 'rgocd' }],
  ])('changes with %s', (_, change) => {
    expect(renderCacheKey({ ...base, ...change })).not.toBe(renderCacheKey(base));
  });

  it('reads the installed library versions', () => {
    const version = (pkg: string) =>
      (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string })
        .version;
    expect(libraryVersions()).toEqual({
      cdk8s: version('cdk8s'),
      constructs: version('constructs'),
      yaml: version('yaml'),
    });
  });
});
