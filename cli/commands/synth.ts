import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stackFilePath } from '../../config/stack-file';
import { ARGOCD_MANIFEST, ENVIRONMENTS, MANIFESTS_DIR } from '../../model/constants';
import { UsageError } from '../../model/errors';
import { synthesizeEnvironment } from '../../render/environment';
import { ManifestFile } from '../../render/synthesize';
import { checkContent, OutFolder, ownFiles, resolveOut } from '../synth/out-folder';
import { recover, swapIn, SwapSeams } from '../synth/swap';

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
 * Every stack file is synthesized and every folder checked before anything is written.
 */
export function synth(options: SynthOptions, seams: SwapSeams = {}): number {
  if (options.out !== undefined && options.env === undefined)
    throw new UsageError(
      `--out is ${JSON.stringify(options.out)} but no --env was given; --out names one environment's folder, so pass --env too (or drop --out to write manifests/<env>/ for each)`,
    );
  const envs = options.env !== undefined ? [options.env] : environmentsWithStackFiles(options.stacksDir);
  const planned = envs.map((env) => {
    const { files, loaded } = synthesizeEnvironment(env, options.stacksDir);
    const given = options.out ?? join(MANIFESTS_DIR, loaded.environment);
    return { env: loaded.environment, files, given };
  });
  if (options.check) {
    let stale = 0;
    for (const { env, files, given } of planned) {
      if (existsSync(given) && !statSync(given).isDirectory())
        throw new UsageError(
          `--out is ${JSON.stringify(given)}: it is a file, not a folder; pass the folder converge synth wrote`,
        );
      stale += check(env, given, files);
    }
    if (stale === 0) return 0;
    const how = options.env ? `converge synth --env ${options.env}` : 'converge synth';
    console.error(`${stale} manifest file(s) are stale; run \`${how}\` and commit the result`);
    return 1;
  }
  const outs = planned.map((p) => resolveOut(p.given, options.out !== undefined, options));
  for (const out of outs) {
    const did = recover(out);
    if (did) console.log(did);
  }
  planned.forEach((p, i) =>
    checkContent(
      outs[i],
      p.files.map((f) => f.name),
    ),
  );
  planned.forEach((p, i) => write(p.env, outs[i], p.files, seams));
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

function write(env: string, out: OutFolder, files: readonly ManifestFile[], seams: SwapSeams): void {
  swapIn(out, files, seams);
  const objects = files.reduce((n, f) => n + f.objects.length, 0);
  console.log(
    `${env}: wrote ${objects} objects in ${files.length} files to ${out.given} (${files.map((f) => f.name).join(', ')})`,
  );
}

/** One line per stale committed file; returns how many. Reads only: never creates `out`. */
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
