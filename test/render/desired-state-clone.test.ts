import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseDocument } from 'yaml';
import { synth } from '../../cli/commands/synth';
import { packageRoot } from '../../config/package-root';
import { KubeObject } from '../../model/objects';
import { chartsFromClone } from '../../render/charts';
import { desiredState } from '../../render/desired-state';
import { toolsBinDir } from '../../render/tools';

/*
 * The in-cluster controller has no checkout and no stack file: it clones the repo into its cache,
 * fetches on every render, and reads the committed stack file. It needs no upstream Argo CD files.
 */

jest.setTimeout(120_000);

const ROOT = packageRoot();
let work: string;
let repo: string;
let bare: string;
let url: string;
const saved = { cache: process.env.CONVERGE_CACHE, path: process.env.PATH };
const git = (...args: string[]) =>
  execFileSync(
    'git',
    ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false', ...args],
    { encoding: 'utf8' },
  ).trim();
const stackFile = () => join(repo, 'stacks', 'Pulumi.dev.yaml');

function release(tag: string): void {
  const doc = parseDocument(readFileSync(stackFile(), 'utf8'));
  doc.setIn(['config', 'converge:platform', 'services', 'app-service', 'image', 'tag'], tag);
  writeFileSync(stackFile(), doc.toString());
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const cwd = process.cwd();
  // The developer's machine synthesizes, with its own cache; the controller's is the test's.
  const cache = process.env.CONVERGE_CACHE;
  try {
    process.chdir(repo);
    if (saved.cache === undefined) delete process.env.CONVERGE_CACHE;
    else process.env.CONVERGE_CACHE = saved.cache;
    synth({ env: 'dev', stacksDir: join(repo, 'stacks') });
  } finally {
    if (cache === undefined) delete process.env.CONVERGE_CACHE;
    else process.env.CONVERGE_CACHE = cache;
    process.chdir(cwd);
    log.mockRestore();
  }
  git('add', '-A');
  git('commit', '--quiet', '-m', `dev: app-service ${tag}`);
  git('push', '--quiet', 'origin', 'HEAD:main');
}

const appImage = (objects: readonly { object: KubeObject }[]) => {
  const d = objects.find((o) => o.object.kind === 'Deployment' && o.object.metadata.name === 'app-service');
  return (d!.object.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
    .containers[0].image;
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-clone-'));
  repo = join(work, 'repo');
  bare = join(work, 'remote.git');
  url = `file://${bare}`;
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare]);
  for (const dir of ['charts', 'stacks']) cpSync(join(ROOT, dir), join(repo, dir), { recursive: true });
  git('init', '--quiet', '--initial-branch', 'main');
  git('remote', 'add', 'origin', url);
  // The stack file keeps its own git.repoURL: the controller is told where to clone (--repo-url).
  release('1.0.0-clone');
  // A cache with no upstream files and no built tools, as in the image: helm comes from PATH.
  process.env.PATH = [toolsBinDir(), saved.path].join(delimiter);
  process.env.CONVERGE_CACHE = join(work, 'cache');
});

afterAll(() => {
  if (saved.cache === undefined) delete process.env.CONVERGE_CACHE;
  else process.env.CONVERGE_CACHE = saved.cache;
  process.env.PATH = saved.path;
  rmSync(work, { recursive: true, force: true });
});

describe('the desired state from a clone', () => {
  it('clones the repo bare into the cache and reads the revision there', () => {
    const charts = chartsFromClone(url, 'main');
    expect(charts.commit).toBe(git('rev-parse', 'HEAD'));
    expect(existsSync(join(work, 'cache', 'git-mirrors'))).toBe(true);
    expect(existsSync(join(charts.dir, 'stacks', 'Pulumi.dev.yaml'))).toBe(true);
    expect(existsSync(join(charts.dir, 'manifests', 'dev', '03-platform.yaml'))).toBe(true);
    expect(existsSync(join(charts.dir, 'charts', 'app-service', 'Chart.yaml'))).toBe(true);
  });

  it('fetches on every call, so a push is seen at the next render', () => {
    const first = chartsFromClone(url, 'main').commit;
    release('1.1.0-clone');
    const second = chartsFromClone(url, 'main').commit;
    expect(second).not.toBe(first);
    expect(second).toBe(git('rev-parse', 'HEAD'));
  });

  it('renders what the committed stack file declares, with no local stack file and no upstream cache', async () => {
    // GIVEN no stacks folder to read and an empty cache (no Argo CD files)
    const desired = await desiredState('dev', {
      stacksDir: join(work, 'no-stacks'),
      git: { repoURL: url, revision: 'main' },
      withoutArgoCd: true,
    });
    // THEN the services are as committed, and Argo CD's installation is not among the objects
    expect(appImage(desired.objects)).toBe('ghcr.io/example-org/app-service:1.1.0-clone');
    expect(desired.environment.loaded.file).toMatch(/^stacks\/Pulumi\.dev\.yaml@[0-9a-f]{12}$/);
    expect(desired.objects.some((o) => o.object.metadata.name === 'argocd-server')).toBe(false);
    expect(desired.objects.map((o) => o.object.metadata.name)).toEqual(
      expect.arrayContaining(['dev-root', 'dev-services']),
    );
    expect(existsSync(join(work, 'cache', 'upstream'))).toBe(false);
  });

  it('fails when the revision is not a branch, tag or commit of the repo, naming the fix', () => {
    expect(() => chartsFromClone(url, 'no-such-branch')).toThrow(
      `git revision "no-such-branch" is not a branch, tag or commit of ${url}; fix git.revision (or --revision), or push it`,
    );
  });

  it("fails when the repo cannot be cloned, with git's own first error line and nothing left in the cache", () => {
    const missing = `file://${join(work, 'missing.git')}`;
    let message = '';
    try {
      chartsFromClone(missing, 'main');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /^`git clone` failed: fatal: .+; check the repo and git.revision, or pass --charts-dir$/,
    );
    expect(
      execFileSync('ls', [join(work, 'cache', 'git-mirrors')], { encoding: 'utf8' })
        .split('\n')
        .filter((f) => f.includes('.tmp-')),
    ).toEqual([]);
  });
});
