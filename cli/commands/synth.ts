import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackFilePath } from '../../config/stack-file';
import { ARGOCD_MANIFEST, ENVIRONMENTS, MANIFESTS_DIR } from '../../model/constants';
import { UsageError } from '../../model/errors';
import { GENERATED_HEADER, synthesizeEnvironment } from '../../render/environment';
import { ManifestFile } from '../../render/synthesize';

export interface SynthOptions {
  /** One environment; every environment with a stack file when omitted. */
  readonly env?: string;
  readonly out?: string;
  readonly stacksDir?: string;
  /** Compare with the files in the output folder instead of writing; exit 1 when any is stale. */
  readonly check?: boolean;
}

/**
 * Writes each environment's manifests to `manifests/<env>/`, one YAML file per chart, or with
 * `check` reports the committed files that differ from what the stack files give (CI's gate).
 */
export function synth(options: SynthOptions): number {
  if (options.out !== undefined && options.env === undefined)
    throw new UsageError(
      `--out is ${JSON.stringify(options.out)} but no --env was given; --out names one environment's folder, so pass --env too (or drop --out to write manifests/<env>/ for each)`,
    );
  const envs = options.env !== undefined ? [options.env] : environmentsWithStackFiles(options.stacksDir);
  let stale = 0;
  for (const env of envs) {
    const { files, loaded } = synthesizeEnvironment(env, options.stacksDir);
    const out = options.out ?? join(MANIFESTS_DIR, loaded.environment);
    if (options.check) stale += check(loaded.environment, out, files);
    else write(loaded.environment, out, files);
  }
  if (stale > 0) {
    const how = options.env ? `converge synth --env ${options.env}` : 'converge synth';
    console.error(`${stale} manifest file(s) are stale; run \`${how}\` and commit the result`);
    return 1;
  }
  return 0;
}

function environmentsWithStackFiles(stacksDir?: string): string[] {
  const envs = ENVIRONMENTS.filter((env) => existsSync(stackFilePath(env, stacksDir)));
  if (envs.length === 0)
    throw new UsageError(
      `no stack file found (looked for ${ENVIRONMENTS.map((e) => stackFilePath(e, stacksDir)).join(', ')}); pass --stacks-dir or --env`,
    );
  return envs;
}

/** Files in `dir` that an earlier `converge synth` wrote: only those may be replaced or removed. */
function ownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d\d-.*\.yaml$/.test(f))
    .filter((f) => readFileSync(join(dir, f), 'utf8').startsWith(GENERATED_HEADER));
}

function write(env: string, out: string, files: readonly ManifestFile[]): void {
  mkdirSync(out, { recursive: true });
  const names = new Set(files.map((f) => f.name));
  for (const file of files) {
    const path = join(out, file.name);
    if (existsSync(path) && !readFileSync(path, 'utf8').startsWith(GENERATED_HEADER))
      throw new UsageError(
        `${path} exists and was not written by converge synth; move it away or pass another --out`,
      );
  }
  // Files of charts that no longer exist must not linger; the user's own files stay.
  for (const old of ownFiles(out).filter((f) => !names.has(f))) rmSync(join(out, old));
  let objects = 0;
  for (const file of files) {
    // Each file is replaced whole, never left half-written.
    const tmp = join(out, `.${file.name}.tmp-${process.pid}`);
    writeFileSync(tmp, file.content);
    renameSync(tmp, join(out, file.name));
    objects += file.objects.length;
  }
  console.log(
    `${env}: wrote ${objects} objects in ${files.length} files to ${out} (${files.map((f) => f.name).join(', ')})`,
  );
}

/** One line per stale committed file; returns how many. */
function check(env: string, out: string, all: readonly ManifestFile[]): number {
  // Argo CD's installation is upstream's YAML, never committed, so there is nothing to compare.
  const files = all.filter((f) => f.name !== ARGOCD_MANIFEST);
  const names = new Set(files.map((f) => f.name));
  const lines: string[] = [];
  for (const file of files) {
    const path = join(out, file.name);
    if (!existsSync(path)) lines.push(`${path}: missing`);
    else if (readFileSync(path, 'utf8') !== file.content)
      lines.push(`${path}: differs from what ${env}'s stack file gives`);
  }
  for (const old of ownFiles(out).filter((f) => !names.has(f) && f !== ARGOCD_MANIFEST))
    lines.push(`${join(out, old)}: no longer produced; delete it`);
  if (lines.length === 0) console.log(`${env}: ${out} is up to date (${files.length} files)`);
  for (const line of lines) console.error(line);
  return lines.length;
}
