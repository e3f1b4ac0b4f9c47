// Argo CD Image Updater's part of the control plane: its ImageUpdater CRD, copied out of the
// pinned module by tools/build.mjs and applied at `up`, so the synthesized ImageUpdater objects
// sync. Its controller is not started: it cannot be built here yet (versions.json "blocked").
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toolDir } from '../paths.mjs';
import { apply, crdEstablished, readManifests } from './kube.mjs';
import { StartError } from './processes.mjs';

export const IMAGE_UPDATER_CRD = 'imageupdaters.argocd-image-updater.argoproj.io';

function crdFiles() {
  const dir = join(toolDir('argocd-image-updater'), 'assets', 'crds');
  if (!existsSync(dir))
    throw new StartError(
      'image-updater-crd',
      `Image Updater's CRD is missing (${dir}); run: node tools/build.mjs`,
    );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

export async function applyImageUpdaterCrd() {
  for (const file of crdFiles()) for (const crd of readManifests(file)) await apply(crd);
}

export const imageUpdaterCrdReady = () => crdEstablished(IMAGE_UPDATER_CRD);
