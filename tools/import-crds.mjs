#!/usr/bin/env node
// Regenerates the typed bindings in constructs/imports/ with `cdk8s import`, from the official CRDs
// at the versions pinned in tools/versions.json (fetched by tools/upstream.mjs). The output is
// generated code: never edit it by hand, rerun `npm run import` instead.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { fetchUpstream, upstreamDir } from './upstream.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'constructs', 'imports');

/** Only the kinds Converge types; importing all of Istio would add megabytes nobody uses. */
const wanted = {
  'argo-cd': ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io'],
  'argocd-image-updater': ['imageupdaters.argocd-image-updater.argoproj.io'],
  'istio-api': [
    'virtualservices.networking.istio.io',
    'destinationrules.networking.istio.io',
    'gateways.networking.istio.io',
  ],
  'prometheus-operator': ['prometheusrules.monitoring.coreos.com', 'servicemonitors.monitoring.coreos.com'],
};

fetchUpstream({ quiet: true });
const work = mkdtempSync(join(tmpdir(), 'converge-import-'));
try {
  for (const [entry, names] of Object.entries(wanted)) {
    const crds = JSON.parse(readFileSync(join(upstreamDir(entry), 'crds.json'), 'utf8'));
    const picked = names.map((name) => {
      const crd = crds.find((c) => c.metadata?.name === name);
      if (!crd) throw new Error(`CRD ${name} is missing from ${entry}`);
      return crd;
    });
    const file = join(work, `${entry}.yaml`);
    writeFileSync(file, picked.map((crd) => stringify(crd)).join('---\n'));
    execFileSync('npx', ['cdk8s', 'import', file, '--language', 'typescript', '--output', work], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  for (const name of readdirSync(work).filter((f) => f.endsWith('.ts'))) {
    renameSync(join(work, name), join(out, name));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
