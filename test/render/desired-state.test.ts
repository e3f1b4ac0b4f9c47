import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { synth } from '../../cli/commands/synth';
import { packageRoot } from '../../config/package-root';
import { desiredState } from '../../render/desired-state';
import { KubeObject } from '../../model/objects';

/*
 * The desired state comes from Git at the configured revision, not from the working tree: a repo
 * with committed stack files and manifests, then edits nobody committed.
 */

jest.setTimeout(60_000);

const ROOT = packageRoot();
const REMOTE = 'https://git.example.invalid/converge.git';
let repo: string;
const git = (...args: string[]) =>
  execFileSync(
    'git',
    ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false', ...args],
    { encoding: 'utf8' },
  ).trim();
const stackFile = () => join(repo, 'stacks', 'Pulumi.dev.yaml');

function setTag(tag: string): void {
  const doc = parseDocument(readFileSync(stackFile(), 'utf8'));
  doc.setIn(['config', 'converge:platform', 'services', 'app-service', 'image', 'tag'], tag);
  writeFileSync(stackFile(), doc.toString());
}

const appImage = (objects: readonly { object: KubeObject }[]) => {
  const d = objects.find((o) => o.object.kind === 'Deployment' && o.object.metadata.name === 'app-service');
  return (d!.object.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
    .containers[0].image;
};

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'converge-desired-'));
  for (const dir of ['charts', 'stacks']) cpSync(join(ROOT, dir), join(repo, dir), { recursive: true });
  git('init', '--quiet', '--initial-branch', 'main');
  // The stack file points at a remote URL, which git (and only git) reads as this repo: Argo CD
  // could not clone a file:// path, so the schema refuses one.
  Object.assign(process.env, {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `url.file://${repo}.insteadOf`,
    GIT_CONFIG_VALUE_0: REMOTE,
  });
  const doc = parseDocument(readFileSync(stackFile(), 'utf8'));
  doc.setIn(['config', 'converge:platform', 'git', 'repoURL'], REMOTE);
  writeFileSync(stackFile(), doc.toString());
  setTag('1.5.0-git');
  const cwd = process.cwd();
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    process.chdir(repo);
    synth({ env: 'dev', stacksDir: join(repo, 'stacks') });
  } finally {
    process.chdir(cwd);
    log.mockRestore();
  }
  git('add', '-A');
  git('commit', '--quiet', '-m', 'dev: app-service 1.5.0-git');
});

afterAll(() => {
  for (const k of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) delete process.env[k];
  rmSync(repo, { recursive: true, force: true });
});

describe('desired state', () => {
  it('is what Git holds at the revision, not the uncommitted stack file', async () => {
    // GIVEN an edit to the tag that nobody committed
    setTag('9.9.9-local');
    // WHEN the desired state is read
    const desired = await desiredState('dev', { stacksDir: join(repo, 'stacks') });
    // THEN it is the committed tag, read at the committed revision
    expect(desired.charts.commit).toBe(git('rev-parse', 'HEAD'));
    expect(appImage(desired.objects)).toBe('ghcr.io/example-org/app-service:1.5.0-git');
    expect(desired.environment.loaded.file).toMatch(/^stacks\/Pulumi\.dev\.yaml@[0-9a-f]{12}$/);
    // and the platform objects are the committed manifests, the root Application among them
    expect(desired.objects.map((o) => o.object.metadata.name)).toEqual(
      expect.arrayContaining(['dev-root', 'dev-services', 'dev']),
    );
  });

  it('is the working tree with --charts-dir', async () => {
    setTag('9.9.9-local');
    const desired = await desiredState('dev', {
      stacksDir: join(repo, 'stacks'),
      chartsDir: join(repo, 'charts'),
    });
    expect(appImage(desired.objects)).toBe('ghcr.io/example-org/app-service:9.9.9-local');
  });

  it('fails when the revision holds no rendered manifests, saying how to make them', async () => {
    // GIVEN a commit without manifests/dev/
    git('rm', '--quiet', '-r', 'manifests');
    git('commit', '--quiet', '-m', 'drop the manifests');
    try {
      // THEN one line names the folder, the commit and the fix
      await expect(desiredState('dev', { stacksDir: join(repo, 'stacks') })).rejects.toThrow(
        /^manifests\/dev\/ has no 02-bootstrap\.yaml, 03-platform\.yaml in Git at [0-9a-f]{12}; run `converge synth --env dev`, commit and push$/,
      );
    } finally {
      git('revert', '--quiet', '--no-edit', 'HEAD');
    }
  });
});
