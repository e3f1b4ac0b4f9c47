import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Document, isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigError, PLATFORM_CONFIG_KEY, parsePlatformConfig } from '../constructs/config/parse-config';
import { PlatformConfig } from '../constructs/config/platform-config';
import { Environment, ENVIRONMENTS } from '../constructs/constants';
import { packageRoot } from './upstream';

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
}

export function stacksDir(options: StackConfigOptions = {}): string {
  return options.dir ?? join(packageRoot(), 'stacks');
}

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
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

function lineLocator(doc: Document, counter: LineCounter, prefix: readonly (string | number)[]) {
  return (path: readonly (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn([...prefix, ...path.slice(0, n)], true) as
        { range?: [number, number, number] } | undefined;
      if (node?.range) {
        // For a missing or unknown key, point at its parent's key line rather than its first child.
        return counter.linePos(node.range[0]).line - (n < path.length && isMap(node) ? 1 : 0);
      }
    }
    return undefined;
  };
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
  const text = readFileSync(path, 'utf8');
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = counter.linePos(err.pos[0]).line;
    throw new ConfigError([`${file}:${line}: not valid YAML: ${err.message.split('\n')[0]}; fix the syntax`]);
  }
  const raw = (doc.toJSON() as { config?: Record<string, unknown> } | null)?.config?.[PLATFORM_CONFIG_KEY];
  const lineOf = lineLocator(doc, counter, ['config', PLATFORM_CONFIG_KEY]);
  const config = parsePlatformConfig(raw, { file, lineOf });
  if (config.environment !== env) {
    const line = lineOf(['environment']);
    throw new ConfigError([
      `${file}:${line}: ${PLATFORM_CONFIG_KEY}.environment is "${config.environment}"; it must be "${env}" in Pulumi.${env}.yaml; fix the value or the file name`,
    ]);
  }
  return { environment: env, file, config };
}
