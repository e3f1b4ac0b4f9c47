import { isDeepStrictEqual } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isScalar, parseDocument, Scalar } from 'yaml';
import { Environment, PLATFORM_CONFIG_KEY } from '../model/constants';
import { ConfigError } from '../model/errors';
import {
  displayPath,
  LoadedStackConfig,
  parseStackConfig,
  parseStackDocument,
  yamlLineLocator,
} from './stack-file';

/*
 * Edits of a stack file that a person still recognizes as theirs: the values change, every comment,
 * blank line, quote and flow list stays as written. `yaml`'s Document API finds the nodes and sets
 * the values; the new values are then spliced into the original text at the nodes' own ranges,
 * because re-printing the whole document would re-space every `[a, b]` and `{ k: v }` in the file.
 */

/** A stack file as text and as a YAML document, before any validation. */
export interface StackText {
  readonly path: string;
  /** The path as messages show it. */
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
}

/** A key path under `config."converge:platform"`, e.g. `['services', 'app', 'image', 'tag']`. */
export type PlatformKeyPath = readonly (string | number)[];

export interface ScalarEdit {
  readonly path: PlatformKeyPath;
  readonly value: string | number | boolean;
}

const fullPath = (path: PlatformKeyPath) => ['config', PLATFORM_CONFIG_KEY, ...path];

/** Reads `Pulumi.<env>.yaml` from `dir` as YAML, with the same messages as loadStackConfig. */
export function readStackText(env: Environment, dir: string): StackText {
  const path = join(dir, `Pulumi.${env}.yaml`);
  const file = displayPath(path);
  if (!existsSync(path))
    throw new ConfigError([
      `${file}: file not found; create it (start from Pulumi.dev.yaml) or pass another environment`,
    ]);
  const text = readFileSync(path, 'utf8');
  return { path, file, text, doc: parseStackDocument(text, file).doc };
}

/** The plain value at a key path under `converge:platform`, or undefined when the file has none. */
export function platformValue(doc: Document, path: PlatformKeyPath): unknown {
  const node: unknown = doc.getIn(fullPath(path), true);
  if (node === undefined || node === null) return undefined;
  return isScalar(node) ? node.value : (node as { toJSON(): unknown }).toJSON();
}

/**
 * The text with each edit's value set, everything else byte for byte as it was. Where a value
 * cannot be spliced in place (the key is missing, or is not a one-line scalar), the document is
 * printed whole by `yaml` instead: still the same data and comments, only the spacing may change.
 */
export function setScalars(text: string, edits: readonly ScalarEdit[]): string {
  const original = parseDocument(text);
  const edited = parseDocument(text);
  const splices: { start: number; end: number; text: string }[] = [];
  let inPlace = original.errors.length === 0;
  for (const edit of edits) {
    const path = fullPath(edit.path);
    const node: unknown = original.getIn(path, true);
    edited.setIn(path, edit.value);
    const source = isScalar(node) && node.range ? scalarSource(edit.value, node) : undefined;
    if (source === undefined || !isScalar(node) || !node.range) inPlace = false;
    else splices.push({ start: node.range[0], end: node.range[1], text: source });
  }
  if (inPlace) {
    let out = text;
    for (const s of splices.sort((a, b) => b.start - a.start))
      out = out.slice(0, s.start) + s.text + out.slice(s.end);
    // The splice must mean exactly what setIn means; anything else (an anchor, an alias) prints whole.
    const check = parseDocument(out);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJSON(), edited.toJSON())) return out;
  }
  return edited.toString();
}

/** A value as YAML writes it in the old node's style (plain stays plain unless it would change type). */
function scalarSource(value: ScalarEdit['value'], old: Scalar): string | undefined {
  const scalar = new Scalar(value);
  scalar.type = old.type === 'BLOCK_FOLDED' || old.type === 'BLOCK_LITERAL' ? undefined : old.type;
  const source = new Document(scalar).toString({ lineWidth: 0 }).replace(/\n$/, '');
  return source.includes('\n') ? undefined : source;
}

/**
 * Validates a stack file's text as loadStackConfig validates the file: the same rules and the same
 * `file:line` messages, for text not written yet.
 */
export function parseStackText(text: string, env: Environment, file: string): LoadedStackConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ConfigError([
      `${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}; fix the syntax`,
    ]);
  const raw = (doc.toJSON() as { config?: Record<string, unknown> } | null)?.config?.[PLATFORM_CONFIG_KEY];
  const lineOf = yamlLineLocator(text, ['config', PLATFORM_CONFIG_KEY]);
  return parseStackConfig(raw, { file, lineOf, environment: env, declaredBy: 'file' });
}
