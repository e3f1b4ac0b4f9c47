// `npm run bench`: synthesis speed, and its ratios to yardsticks measured in the same run.
// Prints figures; never passes or fails on time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../config/package-root';
import { median } from '../model/statistics';
import { formatTable } from '../model/text';
import { synthesizeEnvironment } from '../render/environment';
import { ManifestFile } from '../render/synthesize';
import { synthesizeFleet } from './fleet';
import { alternate, pairedLine, timeProcess } from './paired';
import { RawFile } from './raw-cdk8s';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FLEET = Number(process.env.BENCH_FLEET ?? 1000);
interface CaseResult {
  case: string;
  objects: number;
  ms: number;
  maxRssMb: number;
  sha256: string;
}

function runJson<T>(script: string, args: string[]): T {
  const r = spawnSync('node', [join(__dirname, script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** The objects of synthesized files, as the raw-cdk8s yardstick reads them. */
function rawFiles(files: readonly ManifestFile[]): RawFile[] {
  return files.map((f) => ({
    name: f.name,
    header: f.content.startsWith('# ') ? f.content.slice(2, f.content.indexOf('\n')) : undefined,
    objects: f.objects,
  }));
}

const work = mkdtempSync(join(tmpdir(), 'converge-bench-'));
try {
  // ---- In-process cases: synthesis alone, modules loaded. ----
  const rows: string[][] = [];
  for (const [name, runs] of [
    ['platform-3-envs', RUNS],
    ['fleet-100', RUNS],
  ] as const) {
    const results = Array.from({ length: runs }, () => runJson<CaseResult>('synth-case.js', [name]));
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
  console.log('Synthesis in a fresh process per run, modules loaded (medians):');
  console.log(formatTable(['CASE', 'RUNS', 'OBJECTS', 'WALL MS', 'MS/OBJECT', 'PEAK RSS MB'], rows));

  // ---- The fleet against raw cdk8s building the same objects, in process, paired. ----
  const fleetJson = join(work, 'fleet.json');
  writeFileSync(fleetJson, JSON.stringify(rawFiles(synthesizeFleet(FLEET))));
  let fleet: CaseResult | undefined;
  let raw: { objects: number; ms: number; sha256: string } | undefined;
  const fleetRounds = Math.max(3, Math.ceil(RUNS / 2));
  const [fleetMs, rawMs] = alternate(fleetRounds, [
    () => (fleet = runJson<CaseResult>('synth-case.js', [`fleet-${FLEET}`])).ms / fleet.objects,
    () => (raw = runJson<typeof raw & object>('raw-cdk8s.js', [fleetJson])).ms / raw.objects,
  ]);
  console.log(
    `\nfleet-${FLEET} (${FLEET} services x 3 environments, ${fleet!.objects} objects), ms per object, in process:`,
  );
  console.log(pairedLine('converge', fleetMs, 'raw cdk8s', rawMs, (v) => `${v.toFixed(3)} ms/object`));
  if (fleet!.sha256 !== raw!.sha256) console.log('  WARNING: raw cdk8s wrote other bytes than converge');

  // ---- converge synth --env prod, whole process, against its two yardsticks, paired. ----
  const root = packageRoot();
  const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { converge: string } })
    .bin.converge;
  const cli = join(root, bin);
  const prodJson = join(work, 'prod.json');
  writeFileSync(prodJson, JSON.stringify(rawFiles(synthesizeEnvironment('prod').files)));
  const [reference, outConverge, outFloor, outRaw] = ['ref', 'converge', 'floor', 'raw'].map((d) =>
    join(work, d),
  );
  timeProcess('node', [cli, 'synth', '--env', 'prod', '--out', reference]);
  const rounds = Math.max(RUNS, 10);
  const [synthMs, floorMs, rawProcMs] = alternate(rounds, [
    () => timeProcess('node', [cli, 'synth', '--env', 'prod', '--out', outConverge]),
    () => timeProcess('node', [join(__dirname, 'write-floor.js'), reference, outFloor]),
    () => timeProcess('node', [join(__dirname, 'raw-cdk8s.js'), prodJson, '--out', outRaw]),
  ]);
  const bytes = readdirSync(reference).reduce((n, f) => n + readFileSync(join(reference, f)).length, 0);
  console.log(
    `\nconverge synth --env prod (${(bytes / 1e6).toFixed(2)} MB of YAML), whole process (${bin}):`,
  );
  const seconds = (v: number) => `${(v / 1000).toFixed(3)} s`;
  console.log(pairedLine('converge', synthMs, 'write-only floor', floorMs, seconds));
  console.log(pairedLine('converge', synthMs, 'raw cdk8s', rawProcMs, seconds));
  for (const dir of [outConverge, outRaw])
    for (const f of readdirSync(reference))
      if (!readFileSync(join(dir, f)).equals(readFileSync(join(reference, f))))
        console.log(`  WARNING: ${f} differs between ${dir} and ${reference}`);
  console.log(
    '\nTargets (2 cores): prod synth <= 4x the write-only floor; fleet <= 1.3x raw cdk8s per object.',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
