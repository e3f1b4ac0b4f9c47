#!/usr/bin/env node
// A Python venv under the cache with SciPy, so the statistics tests can check `converge eval`'s
// Mann-Whitney U against scipy.stats.mannwhitneyu, live. Pinned versions; created once, reused
// while its pins match. Node built-ins only: `npm test`'s pretest runs it.
//
//   node tools/python.mjs            create or update the venv; prints nothing when current
//   node tools/python.mjs --print    the venv's python, creating it first
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { cacheRoot } = require('./cache-paths.js');

/** What the venv holds, exactly. */
export const PYTHON_PINS = ['numpy==2.3.5', 'scipy==1.16.3'];

export const venvDir = () => join(cacheRoot(), 'python');
export const venvPython = () => join(venvDir(), 'bin', 'python');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n').slice(-3).join(' ');
    throw new Error(`${cmd} ${args.join(' ')} failed: ${why}`);
  }
  return r.stdout;
}

/** The venv's python, with PYTHON_PINS installed. */
export function ensurePython() {
  const stamp = join(venvDir(), 'converge-pins.txt');
  const want = `${PYTHON_PINS.join('\n')}\n`;
  if (existsSync(venvPython()) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want)
    return venvPython();
  rmSync(venvDir(), { recursive: true, force: true });
  run('python3', ['-m', 'venv', venvDir()]);
  run(venvPython(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PYTHON_PINS]);
  writeFileSync(stamp, want);
  return venvPython();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const python = ensurePython();
    if (process.argv.includes('--print')) console.log(python);
  } catch (err) {
    console.error(`tools/python.mjs: ${err.message}`);
    process.exitCode = 1;
  }
}
