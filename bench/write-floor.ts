// The yardstick "write-only floor": a Node process that only writes the same bytes `converge
// synth` writes (read from a folder of its output), each file replaced by rename as synth does.
//   node write-floor.js SOURCE_DIR OUT_DIR
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [source, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
for (const name of readdirSync(source)) {
  const tmp = join(out, `.${name}.tmp-${process.pid}`);
  writeFileSync(tmp, readFileSync(join(source, name)));
  renameSync(tmp, join(out, name));
}
