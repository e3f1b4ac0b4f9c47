#!/usr/bin/env node
// `node tools/image-context.mjs [--out <dir>]`, after `npm run build`: the drift controller image's
// build context, reproducibly. It holds the `npm pack` tarball (converge.tgz) and image/Dockerfile
// with the layout of model/image-layout.ts (read through dist/, the one definition the Deployment
// also uses) and the helm pin of tools/versions.json filled in. Written as <out>/context.tar with
// fixed mtimes, owners, modes and order, so the same sources give the same bytes; prints its sha256.
// GNU tar writes it: its --sort/--mtime options make an archive reproducible, which node:fs cannot.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versions } from './paths.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_IMAGE = 'node:20.20.2-bookworm-slim';

/** The layout, compiled: a missing build is one line with the fix. */
function layout() {
  const file = join(root, 'dist', 'model', 'image-layout.js');
  try {
    return createRequire(import.meta.url)(file).IMAGE_LAYOUT;
  } catch {
    throw new Error(`${file} is not built; run \`npm run build\` first`);
  }
}

/** image/Dockerfile with every placeholder filled; an unknown or unfilled name is an error, never left in. */
export function dockerfile(l = layout(), v = versions()) {
  const helm = v.families.helm;
  const values = {
    GO_IMAGE: `golang:${v.go.minimum}-bookworm`,
    NODE_IMAGE,
    HELM_MODULE: helm.module,
    HELM_VERSION: helm.version,
    PREFIX: l.prefix,
    BIN_DIR: l.binDir,
    PATH: l.path,
    ENV: Object.entries(l.env)
      .map(([k, val]) => `${k}=${val}`)
      .join(' '),
    USER: String(l.user),
    GROUP: String(l.group),
    WORKDIR: l.workdir,
    VOLUMES: JSON.stringify(l.volumes.map((vol) => vol.path)),
    COMMAND: l.command,
  };
  const text = readFileSync(join(root, 'image', 'Dockerfile'), 'utf8');
  return text.replace(/@([A-Z_]+)@/g, (all, name) => {
    if (!(name in values))
      throw new Error(`image/Dockerfile names @${name}@, which image-context.mjs does not fill`);
    return values[name];
  });
}

/** Writes <out>/context.tar and returns its path and sha256. */
export function buildContext(out) {
  const stage = mkdtempSync(join(tmpdir(), 'converge-image-context-'));
  try {
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', stage], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .pop();
    renameSync(join(stage, packed), join(stage, 'converge.tgz'));
    writeFileSync(join(stage, 'Dockerfile'), dockerfile());
    for (const f of ['converge.tgz', 'Dockerfile']) utimesSync(join(stage, f), 0, 0);
    mkdirSync(out, { recursive: true });
    const tar = join(out, 'context.tar');
    execFileSync('tar', [
      '--create',
      '--file',
      tar,
      '--directory',
      stage,
      '--format=gnu',
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mode=u=rwX,go=rX',
      'Dockerfile',
      'converge.tgz',
    ]);
    return { tar, sha256: createHash('sha256').update(readFileSync(tar)).digest('hex') };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : join(root, 'dist', 'image'));
  try {
    const { tar, sha256 } = buildContext(out);
    console.log(`${sha256}  ${tar}`);
  } catch (err) {
    console.error(`image-context: ${err.message}`);
    process.exit(2);
  }
}
