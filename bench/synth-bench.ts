// `npm run bench`: synthesis speed. Prints figures; never passes or fails on time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from '../model/statistics';
import { formatTable } from '../model/text';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CASES: [string, number][] = [
  ['platform-3-envs', RUNS],
  ['fleet-100', RUNS],
  ['fleet-1000', Math.max(3, Math.ceil(RUNS / 2))],
];
interface Result {
  case: string;
  objects: number;
  ms: number;
  maxRssMb: number;
}

const rows: string[][] = [];
for (const [name, runs] of CASES) {
  const results: Result[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync('node', [join(__dirname, 'synth-case.js'), name], { encoding: 'utf8' });
    results.push(JSON.parse(out.trim().split('\n').pop()!) as Result);
  }
  const ms = median(results.map((r) => r.ms));
  const objects = results[0].objects;
  rows.push([
    name,
    String(runs),
    String(objects),
    ms.toFixed(0),
    (ms / objects).toFixed(3),
    median(results.map((r) => r.maxRssMb)).toFixed(0),
  ]);
}
console.log('Synthesis in a fresh process per run (medians):');
console.log(formatTable(['CASE', 'RUNS', 'OBJECTS', 'WALL MS', 'MS/OBJECT', 'PEAK RSS MB'], rows));

// Whole process, as a user or CI runs it: start Node, load, read config and cache, synthesize, write.
const out = mkdtempSync(join(tmpdir(), 'converge-bench-'));
const cli = join(__dirname, '..', 'cli', 'main.js');
const times: number[] = [];
execFileSync('node', [cli, 'synth', '--env', 'prod', '--out', out]);
for (let i = 0; i < Math.max(RUNS, 10); i++) {
  const t = performance.now();
  execFileSync('node', [cli, 'synth', '--env', 'prod', '--out', out]);
  times.push(performance.now() - t);
}
rmSync(out, { recursive: true, force: true });
console.log(
  `\nconverge synth --env prod, whole process: median ${(median(times) / 1000).toFixed(3)} s, ` +
    `min ${(Math.min(...times) / 1000).toFixed(3)} s, max ${(Math.max(...times) / 1000).toFixed(3)} s over ${times.length} runs`,
);
console.log('Targets: <= 0.35 ms/object at fleet-1000; <= 0.6 s whole process for the prod synth.');
