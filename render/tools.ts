import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ConvergeError } from '../model/errors';
import { cacheRoot } from './cache';

/** Folder of symlinks to the programs `npm run tools` builds (helm, kubectl, argocd, ...). */
export function toolsBinDir(): string {
  return join(cacheRoot(), 'tools', 'bin');
}

/**
 * An executable named `name` in one of `PATH`'s absolute folders, as execvp would find it.
 * Hand-written: a dozen lines, where `which` is not a dependency of the shipped package.
 */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    // A relative entry (or an empty one, meaning the cwd) would make the result depend on the cwd.
    if (!isAbsolute(dir)) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not there, or not executable by this user: try the next folder.
    }
  }
  return undefined;
}

/**
 * Path of a tool: on PATH first (an image bakes helm there), else the one `npm run tools` built into
 * the cache; a clear error naming both places otherwise. The cache is looked at only when PATH has none.
 */
export function toolPath(name: string): string {
  const found = onPath(name);
  if (found) return found;
  const path = join(toolsBinDir(), name);
  if (!existsSync(path)) {
    throw new ConvergeError(
      `${name} is not on PATH nor built at ${path}; install it on PATH, or run \`npm run tools -- ${name}\` to build it from its pinned Go module`,
    );
  }
  return path;
}
