// One benchmark case in a fresh process, so wall time and peak memory are its own.
// Prints one JSON line: { case, objects, ms, maxRssMb }.
import { App } from 'cdk8s';
import { performance } from 'node:perf_hooks';
import { synthesizeEnvironment } from '../render/environment';
import { ENVIRONMENTS } from '../model/constants';
import { loadArgoCdManifests } from '../render/upstream';
import { synthesizeFleet } from './fleet';

const name = process.argv[2];
// Warm the module cache out of the timed region: the case measures synthesis, not require().
void App;
const started = performance.now();
let objects = 0;
if (name === 'platform-3-envs') {
  for (const env of ENVIRONMENTS)
    objects += synthesizeEnvironment(env).files.reduce((n, f) => n + f.objects.length, 0);
} else {
  const size = Number(/^fleet-(\d+)$/.exec(name ?? '')?.[1]);
  if (!size) throw new Error(`unknown case ${name}; use platform-3-envs or fleet-<size>`);
  objects = synthesizeFleet(size, loadArgoCdManifests()).reduce((n, f) => n + f.objects.length, 0);
}
const ms = performance.now() - started;
console.log(JSON.stringify({ case: name, objects, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
