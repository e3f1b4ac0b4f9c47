import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeEnvironment } from '../../render/environment';

export interface SynthOptions {
  readonly env: string;
  readonly out?: string;
  readonly stacksDir?: string;
}

/** Writes one environment's manifests, one YAML file per chart, replacing earlier output. */
export function synth(options: SynthOptions): number {
  const { files, loaded } = synthesizeEnvironment(options.env, options.stacksDir);
  const out = options.out ?? join('manifests', loaded.environment);
  mkdirSync(out, { recursive: true });
  // Files of charts that no longer exist must not linger.
  for (const old of readdirSync(out).filter((f) => /^\d\d-.*\.yaml$/.test(f))) rmSync(join(out, old));
  let objects = 0;
  for (const file of files) {
    writeFileSync(join(out, file.name), file.content);
    objects += file.objects.length;
  }
  console.log(
    `${loaded.environment}: wrote ${objects} objects in ${files.length} files to ${out} (${files.map((f) => f.name).join(', ')})`,
  );
  return 0;
}
