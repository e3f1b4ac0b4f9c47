import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root: the folder holding `tools/versions.json`, from source or from `dist/`. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'tools', 'versions.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`tools/versions.json not found above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
