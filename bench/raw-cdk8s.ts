// The yardstick "raw cdk8s": the same objects as plain `ApiObject`s in plain charts, then cdk8s
// `toJson` and the same YAML writer. Reads `[{ name, header?, objects }]` from a JSON file.
//   node raw-cdk8s.js FILES.json            in-process: prints { objects, ms, sha256 }
//   node raw-cdk8s.js FILES.json --out DIR  whole process: writes the files, as `converge synth` does
import { ApiObject, App, Chart } from 'cdk8s';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KubeObject } from '../model/objects';
import { toYaml } from '../model/yaml';

export interface RawFile {
  readonly name: string;
  readonly header?: string;
  readonly objects: readonly KubeObject[];
}

export function rawSynth(files: readonly RawFile[]): { name: string; content: string }[] {
  const app = new App();
  return files.map((file, i) => {
    const chart = new Chart(app, `c${i}`);
    file.objects.forEach((obj, j) => new ApiObject(chart, String(j), obj));
    const docs = (chart.toJson() as unknown[]).map(toYaml);
    const prefix = file.header ? `# ${file.header}\n` : '';
    return { name: file.name, content: prefix + docs.map((doc) => `---\n${doc}`).join('') };
  });
}

if (require.main === module) {
  const [input, flag, out] = process.argv.slice(2);
  const files = JSON.parse(readFileSync(input, 'utf8')) as RawFile[];
  if (flag === '--out') {
    mkdirSync(out, { recursive: true });
    for (const f of rawSynth(files)) writeFileSync(join(out, f.name), f.content);
  } else {
    const started = performance.now();
    const rendered = rawSynth(files);
    const ms = performance.now() - started;
    const sha256 = createHash('sha256');
    for (const f of rendered) sha256.update(f.content);
    const objects = files.reduce((n, f) => n + f.objects.length, 0);
    console.log(JSON.stringify({ objects, ms, sha256: sha256.digest('hex') }));
  }
}
