import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, YAMLError } from 'yaml';
import { Environment, ENVIRONMENTS, isEnvironment, PLATFORM_CONFIG_KEY } from '../model/constants';
import {
  ConfigError,
  firstLine,
  isSystemError,
  showValue,
  systemErrorLine,
  UsageError,
} from '../model/errors';
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

/**
 * Shown path: relative to the working directory when the file is inside it, else absolute. From
 * `/` (a container's usual cwd) every path is "inside", and `tmp/x` would read as a relative path.
 */
export function displayPath(path: string): string {
  const cwd = process.cwd();
  const rel = relative(cwd, path);
  const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  return inside && parse(cwd).root !== cwd ? rel : resolve(path);
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
    // Quoted, so a value with a newline or spaces stays one visible line; a file is suggested only for a name.
    const name = /^[a-z0-9][a-z0-9-]{0,62}$/.test(env) ? env : '<env>';
    throw new ConfigError([
      `environment ${showValue(env)} is unknown; allowed: ${ENVIRONMENTS.join(', ')}; pass one of those, or add stacks/Pulumi.${name}.yaml and the name to ENVIRONMENTS`,
    ]);
  }
  if (options.dir !== undefined) checkStacksDir(options.dir);
  const path = join(dir, `Pulumi.${env}.yaml`);
  const file = displayPath(path);
  return stackConfigFromText(env, readStackFile(path, file, '--env'), file);
}

/** `--stacks-dir` must be a folder: a missing one or a file would only show as "file not found". */
export function checkStacksDir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    if (isSystemError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR'))
      throw new UsageError(
        `--stacks-dir is ${JSON.stringify(dir)}; no such folder. Pass the folder that holds the Pulumi.<env>.yaml files (this repo's stacks/)`,
      );
    throw err;
  }
  if (!isDir)
    throw new UsageError(
      `--stacks-dir is ${JSON.stringify(dir)}; it is a file, not a folder. Pass the folder that holds the Pulumi.<env>.yaml files, e.g. the one this file is in (${displayPath(join(dir, '..'))})`,
    );
}

/**
 * A stack file's text, strictly UTF-8 (a BOM is fine); anything else is one line naming the file
 * and how to fix it. `other` is what to pass instead when the file is missing (`--env`).
 */
export function readStackFile(path: string, file: string, other = '--env'): string {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory())
      throw new ConfigError([
        `${file}: is a folder, not a stack file; remove or rename the folder and put the stack file there (start from Pulumi.dev.yaml)`,
      ]);
    bytes = readFileSync(path);
  } catch (err) {
    if (isSystemError(err) && err.code === 'ENOENT') {
      const near = misnamedSibling(path);
      throw new ConfigError([
        near
          ? `${file}: file not found, but ${JSON.stringify(near)} is beside it; rename that to ${basename(path)} (Pulumi and converge read only that name)`
          : `${file}: file not found; create it (start from Pulumi.dev.yaml) or pass another ${other}`,
      ]);
    }
    if (isSystemError(err)) throw new ConfigError([systemErrorLine(err, file)]);
    throw err;
  }
  return decodeUtf8(bytes, file);
}

/** A file beside `path` that differs only in case or in `.yml` for `.yaml`: a likely typo. */
function misnamedSibling(path: string): string | undefined {
  const want = basename(path).toLowerCase();
  const alike = new Set([want, want.replace(/\.yaml$/, '.yml')]);
  try {
    return readdirSync(dirname(path)).find((e) => e !== basename(path) && alike.has(e.toLowerCase()));
  } catch {
    return undefined;
  }
}

/** Strict UTF-8: a replacement character would end up in names and manifests unnoticed. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Find the line for the message: decode line by line until one fails.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw new ConfigError([
      `${file}:${line}: is not valid UTF-8 text; save the file as UTF-8 (e.g. \`iconv -f latin1 -t utf-8\`) and retype the characters on that line`,
    ]);
  }
}

/** A stack file's YAML document with its line counter; a syntax error is one line naming `file`. */
export function parseStackDocument(text: string, file: string): { doc: Document; counter: LineCounter } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const { line, col } = counter.linePos(err.pos[0]);
    throw new ConfigError([`${file}:${line}:${col}: not valid YAML: ${yamlProblem(err, text)}`]);
  }
  return { doc, counter };
}

/** Aliases a stack file may expand; a "billion laughs" file needs thousands. yaml's own default. */
export const MAX_ALIASES = 100;

/** The plain value of a parsed stack file, stopping alias bombs with one line. */
export function stackDocumentValue(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ json: true, maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message))
      throw new ConfigError([
        `${file}: not valid for Converge: its aliases expand more than ${MAX_ALIASES} times (a "billion laughs" file); write the values out instead of nesting aliases (*name)`,
      ]);
    throw err;
  }
}

/** What a YAML syntax error means and its fix, without yaml's own " at line 3, column 1:" tail. */
function yamlProblem(err: YAMLError, text: string): string {
  const message = firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '');
  switch (err.code) {
    case 'DUPLICATE_KEY': {
      const key = (text.slice(err.pos[0]).split('\n')[0] ?? '').replace(/:.*$/, '').trim();
      return `the key ${JSON.stringify(key)} appears twice in the same map; keep one of them`;
    }
    case 'MULTIPLE_DOCS':
      return "a second document starts here ('---'); a stack file is one document: remove the '---' line and merge or delete what follows";
    case 'TAB_AS_INDENT':
      return 'this line is indented with a tab; YAML indents with spaces only: replace the tabs with spaces';
    default:
      return `${message}; fix the syntax`;
  }
}

/** Parses a stack file's text (read from disk, or from Git at a commit); `file` names it in errors. */
export function stackConfigFromText(env: string, text: string, file: string): LoadedStackConfig {
  const { doc, counter } = parseStackDocument(text, file);
  const raw = (stackDocumentValue(doc, file) as { config?: Record<string, unknown> } | null)?.config?.[
    PLATFORM_CONFIG_KEY
  ];
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
