// One benchmark case in a fresh process, so wall time and peak memory are its own.
// Prints one JSON line: { case, objects, ms, maxRssMb, sha256 } (sha256 of the YAML written).
import { App } from 'cdk8s';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { synthesizeEnvironment } from '../render/environment';
import { ENVIRONMENTS } from '../model/constants';
import { ManifestFile } from '../render/synthesize';
import { synthesizeFleet } from './fleet';

const name = process.argv[2];
// Warm the module cache out of the timed region: the case measures synthesis, not require().
void App;
const started = performance.now();
let files: ManifestFile[] = [];
if (name === 'platform-3-envs') {
  for (const env of ENVIRONMENTS) files.push(...synthesizeEnvironment(env).files);
} else {
  const size = Number(/^fleet-(\d+)$/.exec(name ?? '')?.[1]);
  if (!size) throw new Error(`unknown case ${name}; use platform-3-envs or fleet-<size>`);
  files = synthesizeFleet(size);
}
const ms = performance.now() - started;
const objects = files.reduce((n, f) => n + f.objects.length, 0);
const sha256 = createHash('sha256');
for (const f of files) sha256.update(f.content);
console.log(
  JSON.stringify({
    case: name,
    objects,
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    sha256: sha256.digest('hex'),
  }),
);
