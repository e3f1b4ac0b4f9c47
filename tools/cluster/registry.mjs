// The OCI registry images are pushed to: Debian's docker-registry (the distribution registry),
// plain http on loopback, storing blobs under the run dir. Its config is written at every start.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { DebianError, debianProgram } from '../debian.mjs';
import { paths, registryAddress, registryURL } from './config.mjs';
import { httpGet } from './probes.mjs';
import { spawnComponent, StartError } from './processes.mjs';

function registryBinary() {
  try {
    return debianProgram('docker-registry');
  } catch (err) {
    if (err instanceof DebianError) throw new StartError('registry', err.message);
    throw err;
  }
}

/** The registry's config: loopback only, no auth (nothing but this machine reaches it), deletes allowed. */
export function registryConfig({ address = registryAddress, storage = paths.registryStorage } = {}) {
  return {
    version: 0.1,
    log: { level: 'info', formatter: 'text', fields: { service: 'registry' } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
    // secret signs upload state; random per start, since one registry serves every upload.
    http: { addr: address, secret: randomBytes(16).toString('hex') },
  };
}

export function startRegistry() {
  mkdirSync(paths.registryStorage, { recursive: true });
  writeFileSync(paths.registryConfig, stringify(registryConfig()), { mode: 0o600 });
  spawnComponent('registry', registryBinary(), ['serve', paths.registryConfig], { endpoint: registryURL });
}

/** Ready once the API base answers: 200 with no auth configured. */
export const registryReady = async () => (await httpGet(`${registryURL}/v2/`)).status === 200;
