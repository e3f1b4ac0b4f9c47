import { ApiObject, App, Chart } from 'cdk8s';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ArgoCdInstall,
  ArgoCdManifests,
  PassThroughRendering,
  RenderedObject,
} from '../constructs/argocd/argocd-install';
import { toYaml } from '../model/yaml';

/*
 * Argo CD's upstream objects that pass through unchanged (its CRDs are megabytes) are synthesized
 * once per namespace and kept in `<upstream dir>/rendered/<key>.json`: cdk8s JSON and the YAML
 * writer's text. The key covers every input, so any change makes a new entry. The few objects the
 * platform changes (its ConfigMaps, the workloads' checksum) are synthesized every time, and their
 * YAML text is kept by content in `rendered/by-content.json`. A missing, unreadable or unwritable
 * cache only means synthesizing as usual.
 */

/** Bump when the cache file's layout changes. */
const FORMAT = 'converge-upstream-render/1';

/** Everything the cached output depends on. */
export interface RenderCacheInputs {
  /** The upstream file's bytes, as read. */
  readonly source: string;
  readonly namespace: string;
  /** Versions of the libraries that shape the output, by package name. */
  readonly versions: Readonly<Record<string, string>>;
  /** Source text of the code that shapes the output (the construct, the YAML writer). */
  readonly code: readonly string[];
}

export function renderCacheKey(inputs: RenderCacheInputs): string {
  const hash = createHash('sha256').update(FORMAT);
  // Length-prefixed parts, so no two different inputs run together into the same bytes.
  const part = (s: string) => hash.update(`${Buffer.byteLength(s)}:`).update(s);
  part(inputs.source);
  part(inputs.namespace);
  for (const name of Object.keys(inputs.versions).sort()) part(`${name}@${inputs.versions[name]}`);
  for (const code of inputs.code) part(code);
  return hash.digest('hex');
}

/** The installed versions of the libraries whose output is cached. */
export function libraryVersions(): Record<string, string> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    cdk8s: (require('cdk8s/package.json') as { version: string }).version,
    constructs: (require('constructs/package.json') as { version: string }).version,
    yaml: (require('yaml/package.json') as { version: string }).version,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

interface Entry {
  readonly metadata: string;
  readonly json: string;
  readonly yaml: string;
}

/** YAML text of objects handed out by a cache, so the writer need not render them again. */
const RENDERED_YAML = Symbol('converge.renderedYaml');

/** The cached YAML text of an object a render cache returned, if it is one. */
export function renderedYaml(obj: unknown): string | undefined {
  return (obj as { [RENDERED_YAML]?: string } | null)?.[RENDERED_YAML];
}

/** How many texts the by-content file keeps, newest last: a few configs' worth of changed objects. */
const TEXTS_KEPT = 64;

export class UpstreamRenderCache implements PassThroughRendering {
  private readonly byNamespace = new Map<string, Map<string, Entry>>();
  private texts?: Map<string, string>;

  /**
   * @param manifests the upstream objects, parsed from `source`
   * @param source the upstream file's text, part of the key
   * @param dir folder of the cache files; none to keep the renderings in memory only
   */
  constructor(
    private readonly manifests: ArgoCdManifests,
    private readonly source: string,
    private readonly dir?: string,
  ) {}

  public key(namespace: string): string {
    return renderCacheKey({
      source: this.source,
      namespace,
      versions: libraryVersions(),
      code: [ArgoCdInstall.toString(), ApiObject.prototype.toJson.toString(), toYaml.toString()],
    });
  }

  public lookup(namespace: string, key: string): RenderedObject | undefined {
    const entry = this.entries(namespace).get(key);
    if (!entry) return undefined;
    return {
      metadata: entry.metadata,
      json: () => {
        const obj = JSON.parse(entry.json) as object;
        Object.defineProperty(obj, RENDERED_YAML, { value: entry.yaml, enumerable: false });
        return obj;
      },
    };
  }

  public withText(json: unknown): unknown {
    const writer = {
      source: '',
      namespace: '',
      versions: { yaml: libraryVersions().yaml },
      code: [toYaml.toString()],
    };
    // The writer's inputs, then the object: the same JSON always gives the same text.
    const key = createHash('sha256')
      .update(renderCacheKey(writer))
      .update(JSON.stringify(json))
      .digest('hex');
    const file = this.dir ? join(this.dir, 'by-content.json') : undefined;
    this.texts ??= (file && readTexts(file)) || new Map();
    let text = this.texts.get(key);
    if (text === undefined) {
      text = toYaml(json);
      this.texts.set(key, text);
      for (const old of [...this.texts.keys()].slice(0, Math.max(0, this.texts.size - TEXTS_KEPT)))
        this.texts.delete(old);
      if (file) writeAtomically(file, { format: FORMAT, texts: Object.fromEntries(this.texts) });
    }
    Object.defineProperty(json, RENDERED_YAML, { value: text, enumerable: false });
    return json;
  }

  private entries(namespace: string): Map<string, Entry> {
    let entries = this.byNamespace.get(namespace);
    if (!entries) {
      const file = this.dir ? join(this.dir, `${this.key(namespace)}.json`) : undefined;
      entries = (file && read(file)) || this.render(namespace, file);
      this.byNamespace.set(namespace, entries);
    }
    return entries;
  }

  /** Synthesizes the pass-through objects the usual way (no cache), and saves them when it can. */
  private render(namespace: string, file?: string): Map<string, Entry> {
    const install = new ArgoCdInstall(new Chart(new App(), 'argocd'), 'ArgoCd', {
      manifests: { ...this.manifests, rendered: undefined },
      namespace,
    });
    const entries = new Map<string, Entry>();
    for (const key of install.passThrough) {
      const obj = install.objects.get(key)!;
      const json = obj.toJson() as unknown;
      entries.set(key, {
        metadata: JSON.stringify(obj.metadata.toJson()),
        json: JSON.stringify(json),
        yaml: toYaml(json),
      });
    }
    if (file) write(file, entries);
    return entries;
  }
}

function read(file: string): Map<string, Entry> | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format: string; entries: Record<string, Entry> };
    return data.format === FORMAT ? new Map(Object.entries(data.entries)) : undefined;
  } catch {
    // Missing or damaged: render again and replace it.
    return undefined;
  }
}

function readTexts(file: string): Map<string, string> | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format: string; texts: Record<string, string> };
    return data.format === FORMAT ? new Map(Object.entries(data.texts)) : undefined;
  } catch {
    return undefined;
  }
}

/** How many renderings the folder keeps (one per namespace and build); older ones are removed. */
const RENDERINGS_KEPT = 8;

function write(file: string, entries: Map<string, Entry>): void {
  writeAtomically(file, { format: FORMAT, entries: Object.fromEntries(entries) });
  try {
    const dir = dirname(file);
    const old = readdirSync(dir)
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)
      .slice(RENDERINGS_KEPT);
    for (const f of old) rmSync(f.path, { force: true });
  } catch {
    // Another process pruned first, or the folder is not ours to tidy: either way, harmless.
  }
}

function writeAtomically(file: string, data: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, file);
  } catch {
    // An unwritable cache only costs speed.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Its folder could not be made: there is no temporary file.
    }
  }
}
