import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { Environment, ENVIRONMENTS, isEnvironment, PLATFORM_CONFIG_KEY } from '../model/constants';
import { ConfigError } from '../model/errors';
import { packageRoot } from './package-root';
import { ConfigSource, parsePlatformConfig } from './parse';
import { PlatformConfig } from './schema';

/*
 * Reads `stacks/Pulumi.<env>.yaml`, the one place an environment is declared, into a validated
 * PlatformConfig. `converge synth` and `pulumi up` read the same file; errors name its line.
 */

export interface StackConfigOptions {
  /** Folder of the `Pulumi.<env>.yaml` files. @default "<package root>/stacks" */
  readonly dir?: string;
}

export interface LoadedStackConfig {
  readonly environment: Environment;
  /** Path of the file as shown in messages (relative to the working directory when inside it). */
  readonly file: string;
  readonly config: PlatformConfig;
  /** Line of a key path under `converge:platform` in the file, when it is there. */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
}

export function stacksDir(options: StackConfigOptions = {}): string {
  return options.dir ?? join(packageRoot(), 'stacks');
}

/** `<stacks dir>/Pulumi.<env>.yaml`. */
export function stackFilePath(env: string, dir?: string): string {
  return join(stacksDir({ dir }), `Pulumi.${env}.yaml`);
}

/**
 * The stack file as generated output names it, e.g. `stacks/Pulumi.prod.yaml`: the same bytes
 * whichever directory the file was read from or the command ran in. Messages show the real path.
 */
export function stackFileLabel(env: string): string {
  return `stacks/Pulumi.${env}.yaml`;
}

/** Shown path: relative to the working directory when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Line numbers of key paths in a YAML text, for error messages. */
export function yamlLineLocator(text: string, prefix: readonly (string | number)[]) {
  const counter = new LineCounter();
  return lineLocator(parseDocument(text, { lineCounter: counter }), counter, prefix);
}

/**
 * The line of the deepest key of a path that the file has: the key's own line, so a value that is
 * a map points at its key rather than its first child, and a missing or unknown key at its parent's.
 */
function lineLocator(doc: Document, counter: LineCounter, prefix: readonly (string | number)[]) {
  return (path: readonly (string | number)[]): number | undefined => {
    const full = [...prefix, ...path];
    for (let n = full.length; n >= Math.max(prefix.length, 1); n--) {
      const range = keyRange(doc, full.slice(0, n));
      if (range) return counter.linePos(range[0]).line;
    }
    return undefined;
  };
}

type Range = [number, number, number];

/** Where the key of a map entry (or a list item) at `path` starts. */
function keyRange(doc: Document, path: readonly (string | number)[]): Range | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
    return (pair?.key as { range?: Range } | undefined)?.range;
  }
  if (isSeq(parent) && typeof last === 'number') {
    return (parent.items[last] as { range?: Range } | undefined)?.range;
  }
  return undefined;
}

export function loadStackConfig(env: string, options: StackConfigOptions = {}): LoadedStackConfig {
  const dir = stacksDir(options);
  if (!isEnvironment(env)) {
    throw new ConfigError([
      `environment "${env}" is unknown; allowed: ${ENVIRONMENTS.join(', ')}; pass one of those, or add stacks/Pulumi.${env}.yaml and the name to ENVIRONMENTS`,
    ]);
  }
  const path = join(dir, `Pulumi.${env}.yaml`);
  const file = displayPath(path);
  if (!existsSync(path)) {
    throw new ConfigError([
      `${file}: file not found; create it (start from Pulumi.dev.yaml) or pass another --env`,
    ]);
  }
  return stackConfigFromText(env, readFileSync(path, 'utf8'), file);
}

/** A stack file's YAML document with its line counter; a syntax error is one line naming `file`. */
export function parseStackDocument(text: string, file: string): { doc: Document; counter: LineCounter } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = counter.linePos(err.pos[0]).line;
    throw new ConfigError([`${file}:${line}: not valid YAML: ${err.message.split('\n')[0]}; fix the syntax`]);
  }
  return { doc, counter };
}

/** Parses a stack file's text (read from disk, or from Git at a commit); `file` names it in errors. */
export function stackConfigFromText(env: string, text: string, file: string): LoadedStackConfig {
  const { doc, counter } = parseStackDocument(text, file);
  const raw = (doc.toJSON() as { config?: Record<string, unknown> } | null)?.config?.[PLATFORM_CONFIG_KEY];
  const lineOf = lineLocator(doc, counter, ['config', PLATFORM_CONFIG_KEY]);
  return parseStackConfig(raw, { file, lineOf, environment: env, declaredBy: 'file' });
}

export interface StackSource extends ConfigSource {
  /** The environment the caller deploys or renders. */
  readonly environment: string;
  /** What names that environment: the stack file's name, or the Pulumi stack being deployed. */
  readonly declaredBy: 'file' | 'stack';
}

/**
 * Parses a stack's platform config (read from its file, or handed over by Pulumi) and checks it
 * declares the environment it is used for: a config naming another one would deploy it there.
 */
export function parseStackConfig(raw: unknown, source: StackSource): LoadedStackConfig {
  const config = parsePlatformConfig(raw, source);
  const env = source.environment;
  if (config.environment !== env) {
    const line = source.lineOf?.(['environment']);
    const where = line === undefined ? source.file : `${source.file}:${line}`;
    const fix =
      source.declaredBy === 'file'
        ? `it must be "${env}" in Pulumi.${env}.yaml; fix the value or the file name`
        : `it must be "${env}", the name of the stack being deployed; fix the value, or select the stack named "${config.environment}"`;
    throw new ConfigError([
      `${where}: ${PLATFORM_CONFIG_KEY}.environment is "${config.environment}"; ${fix}`,
    ]);
  }
  return {
    environment: config.environment,
    file: source.file,
    config,
    lineOf: source.lineOf ?? (() => undefined),
  };
}
