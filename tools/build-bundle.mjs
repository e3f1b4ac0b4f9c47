#!/usr/bin/env node
// `npm run build`, after tsc: bundles the compiled CLI (dist/cli/main.js) and every module it
// loads into dist/bundle/ with esbuild, run from a V8 code cache by dist/bundle/loader.js
// (tools/bundle-loader.js). One file to read instead of hundreds, and no source to compile once the
// cache exists. `main.js` is the `converge` bin. @kubernetes/client-node, which only the cluster
// commands load, is a bundle of its own (`kube-client.js`), so `synth` never reads its megabytes.
// Also bundles bench/drift-case the same way, for `npm run bench:drift` (not shipped).
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // Less to read at each start; names stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  write: false,
};

/** `@kubernetes/client-node` from its own bundle, through the loader; the loader is not bundled. */
const kubeClientBundle = {
  name: 'kube-client-bundle',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({
      path: 'kube-client',
      namespace: 'bundle',
    }));
    b.onLoad({ filter: /.*/, namespace: 'bundle' }, () => ({
      contents: "module.exports = require('./loader.js').load('kube-client.js');",
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/loader\.js$/ }, () => ({ path: './loader.js', external: true }));
  },
};

const digests = {};
/** Writes one bundle; the build fails on any esbuild error. */
async function bundle(name, options) {
  const result = await build({ ...common, ...options, outfile: join(out, name) });
  // The loader wraps a bundle in a function, where a `#!` line is a syntax error.
  const source = result.outputFiles[0].text.replace(/^#![^\n]*\n/, '');
  writeFileSync(join(out, name), source);
  digests[name] = createHash('sha256').update(source).digest('hex');
}

await bundle('converge.js', {
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  // nodemailer: only a notification that sends mail loads it, from node_modules as usual.
  external: ['nodemailer'],
  plugins: [kubeClientBundle],
});
await bundle('kube-client.js', {
  stdin: { contents: "module.exports = require('@kubernetes/client-node');", resolveDir: root },
});
await bundle('drift-case.bundle.js', {
  entryPoints: [join(root, 'dist', 'bench', 'drift-case.js')],
  external: ['nodemailer'],
  plugins: [kubeClientBundle],
});
writeFileSync(join(out, 'digests.json'), `${JSON.stringify(digests, null, 2)}\n`);
const loader = await build({ ...common, entryPoints: [join(root, 'tools', 'bundle-loader.js')] });
writeFileSync(join(out, 'loader.js'), loader.outputFiles[0].text);
const launcher = (name) =>
  `#!/usr/bin/env node\n'use strict';\nrequire('./loader.js').load(${JSON.stringify(name)}, module);\n`;
writeFileSync(join(out, 'main.js'), launcher('converge.js'), { mode: 0o755 });
writeFileSync(join(out, 'drift-case.js'), launcher('drift-case.bundle.js'));
