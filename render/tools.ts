import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvergeError } from '../model/errors';
import { cacheRoot } from './cache';

/** Folder of symlinks to the programs `npm run tools` builds (helm, kubectl, argocd, ...). */
export function toolsBinDir(): string {
  return join(cacheRoot(), 'tools', 'bin');
}

/** Path of a built tool, or a clear error naming the command that builds it. */
export function toolPath(name: string): string {
  const path = join(toolsBinDir(), name);
  if (!existsSync(path)) {
    throw new ConvergeError(
      `${name} is not built at ${path}; run \`npm run tools -- ${name}\` to build it from its pinned Go module`,
    );
  }
  return path;
}
