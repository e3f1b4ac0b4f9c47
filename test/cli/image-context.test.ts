import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_LAYOUT } from '../../model/image-layout';

/*
 * tools/image-context.mjs: the image's build context, from the packed package (so dist/ must be
 * built, as `npm test` does first), with image/Dockerfile filled from the one layout constant.
 */

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
let work: string;
const context = (out: string) =>
  execFileSync('node', [join(ROOT, 'tools', 'image-context.mjs'), '--out', out], { encoding: 'utf8' }).trim();

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'model', 'image-layout.js')))
    throw new Error('dist/ is not built; run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'converge-context-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the image build context', () => {
  it('is the same bytes when made twice, and prints their sha256', () => {
    const [a, b] = [context(join(work, 'a')), context(join(work, 'b'))];
    const sha = (line: string) => line.split(/\s+/)[0];
    expect(sha(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(sha(a)).toBe(sha(b));
    expect(
      readFileSync(join(work, 'a', 'context.tar')).equals(readFileSync(join(work, 'b', 'context.tar'))),
    ).toBe(true);
  });

  it('holds the packed package and a Dockerfile laid out as the Deployment expects', () => {
    const tar = join(work, 'a', 'context.tar');
    expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'Dockerfile',
      'converge.tgz',
    ]);
    const dockerfile = execFileSync('tar', ['-xOf', tar, 'Dockerfile'], { encoding: 'utf8' });
    expect(dockerfile).not.toMatch(/@[A-Z_]+@/);
    expect(dockerfile).toMatch(/^FROM node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toContain(`USER ${IMAGE_LAYOUT.user}:${IMAGE_LAYOUT.group}`);
    expect(dockerfile).toContain(`WORKDIR ${IMAGE_LAYOUT.workdir}`);
    expect(dockerfile).toContain(`ENTRYPOINT ["${IMAGE_LAYOUT.command}"]`);
    expect(dockerfile).toContain(`ENV PATH=${IMAGE_LAYOUT.path} `);
    expect(dockerfile).toContain(`--prefix ${IMAGE_LAYOUT.prefix} `);
    expect(dockerfile).toContain(`COPY --from=helm /out/helm ${IMAGE_LAYOUT.binDir}/helm`);
    expect(dockerfile).toContain(`VOLUME ${JSON.stringify(IMAGE_LAYOUT.volumes.map((v) => v.path))}`);
    const versions = JSON.parse(readFileSync(join(ROOT, 'tools', 'versions.json'), 'utf8'));
    expect(dockerfile).toContain(
      `${versions.families.helm.module}/cmd/helm@${versions.families.helm.version}`,
    );
  });
});
