import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GateRequest, promote, PromoteOptions } from '../../cli/commands/promote';
import { main } from '../../cli/main';
import { GateResult } from '../../cli/commands/status';
import { ConvergeError } from '../../model/errors';
import { synthesizeEnvironment } from '../../render/environment';
import { ManifestFile } from '../../render/synthesize';

/*
 * `converge promote` in a throwaway git repo holding a copy of the stack files, with a fake gate in
 * place of the source's cluster: what the new branch holds, what it says, and that every refusal
 * leaves the repo as it was.
 */

const ROOT = join(__dirname, '..', '..');
const STACKS = join(ROOT, 'stacks');
const IDENTITY = [
  '-c',
  'user.name=Promote Test',
  '-c',
  'user.email=promote@example.org',
  '-c',
  'commit.gpgsign=false',
];

let repo: string;
let stacks: string;
let gateCalls: GateRequest[];
let gateAnswer: GateResult;
const git = (...args: string[]) =>
  execFileSync('git', ['-C', repo, ...IDENTITY, ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    // The Argo CD manifests alone are megabytes.
    maxBuffer: 256 * 1024 * 1024,
  });
const commitAll = (message: string) => {
  git('add', '--all');
  git('commit', '--quiet', '-m', message);
};
const fakeGate = async (request: GateRequest) => {
  gateCalls.push(request);
  return gateAnswer;
};
const run = (options: Partial<PromoteOptions> = {}) =>
  promote({ from: 'staging', to: 'prod', stacksDir: stacks, gate: fakeGate, ...options });
const prodFile = () => join(stacks, 'Pulumi.prod.yaml');
const branches = () => git('branch', '--list', '--format=%(refname:short)').trim().split('\n').sort();
const promoteBranch = () => branches().find((b) => b.startsWith('promote/'));

/** Everything a refusal must leave as it was. */
function snapshot() {
  return {
    head: git('rev-parse', 'HEAD').trim(),
    branch: git('symbolic-ref', '--short', 'HEAD').trim(),
    branches: branches(),
    status: git('status', '--porcelain'),
    worktrees: git('worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('worktree ')),
    prod: readFileSync(prodFile(), 'utf8'),
    staging: readFileSync(join(stacks, 'Pulumi.staging.yaml'), 'utf8'),
  };
}

/** The promotion is refused with one line and exit code 2, and the repo is as it was. */
async function expectRefusal(options: Partial<PromoteOptions>, message: string | RegExp): Promise<string> {
  const before = snapshot();
  const err = await run(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConvergeError);
  const { message: text, exitCode } = err as ConvergeError;
  expect(exitCode).toBe(2);
  expect(text.split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
  expect(snapshot()).toEqual(before);
  return text;
}

/** Prod's manifests as the repo holds them before the promotion. */
let initialProd: readonly ManifestFile[];
beforeAll(() => {
  initialProd = synthesizeEnvironment('prod', STACKS).files;
});

beforeEach(() => {
  repo = realpathSync(mkdtempSync(join(tmpdir(), 'converge-promote-test-')));
  stacks = join(repo, 'stacks');
  mkdirSync(stacks);
  for (const env of ['dev', 'staging', 'prod'])
    cpSync(join(STACKS, `Pulumi.${env}.yaml`), join(stacks, `Pulumi.${env}.yaml`));
  // As in this repo: prod's rendered manifests committed, except what its .gitignore leaves out.
  mkdirSync(join(repo, 'manifests', 'prod'), { recursive: true });
  for (const f of initialProd) writeFileSync(join(repo, 'manifests', 'prod', f.name), f.content);
  cpSync(join(ROOT, '.gitignore'), join(repo, '.gitignore'));
  git('init', '--quiet', '--initial-branch=main');
  commitAll('stacks and manifests');
  // Staging's revision is a branch one commit ahead of main, so its commit differs from HEAD.
  git('branch', 'release-1.5', git('commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'release 1.5').trim());
  // promote's own commit reads the identity from the repo, as it would from the user's config.
  git('config', 'user.name', 'Promote Test');
  git('config', 'user.email', 'promote@example.org');
  git('config', 'commit.gpgsign', 'false');
  gateCalls = [];
  gateAnswer = { ok: true, lines: ['staging-app-service: Synced and Healthy'] };
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(repo, { recursive: true, force: true });
});

describe('converge promote --from staging --to prod', () => {
  it("commits staging's tags and revision with prod's rendered manifests on a new branch, leaving the checkout alone", async () => {
    const before = snapshot();
    // WHEN
    expect(await run()).toBe(0);
    // THEN the user's branch, files and index are as they were, and no worktree is left
    const branch = promoteBranch()!;
    expect(snapshot()).toEqual({ ...before, branches: [...before.branches, branch].sort() });
    const release = git('rev-parse', 'release-1.5').trim();
    expect(branch).toMatch(new RegExp(`^promote/staging-to-prod-${release.slice(0, 7)}-[0-9a-f]{6}$`));
    expect(git('rev-parse', `${branch}^`).trim()).toBe(before.head);
    // the gate was asked about staging at the commit release-1.5 resolves to
    expect(gateCalls).toEqual([
      { environment: 'staging', argocdNamespace: 'argocd', revision: release, repoURL: expect.any(String) },
    ]);

    // the stack file differs in exactly the three values, every other byte as it was
    const replace = (text: string, from: string, to: string) => {
      expect(text.split(from)).toHaveLength(2);
      return text.replace(from, to);
    };
    let expected = replace(before.prod, 'revision: v1.5.0\n', 'revision: release-1.5\n');
    expected = replace(expected, 'tag: 1.4.2\n', 'tag: 1.5.0\n');
    expected = replace(expected, 'tag: 0.8.4\n', 'tag: 0.9.0\n');
    expect(git('show', `${branch}:stacks/Pulumi.prod.yaml`)).toBe(expected);

    // the rest of the diff is prod's manifests, exactly as synth renders the promoted file
    const promoted = mkdtempSync(join(tmpdir(), 'converge-promoted-'));
    try {
      writeFileSync(join(promoted, 'Pulumi.prod.yaml'), expected);
      const { files } = synthesizeEnvironment('prod', promoted);
      const path = (f: ManifestFile) => `manifests/prod/${f.name}`;
      const ignored = (f: ManifestFile) =>
        spawnSync('git', ['-C', repo, 'check-ignore', '-q', path(f)]).status === 0;
      const tracked = files.filter((f) => !ignored(f));
      expect(tracked.length).toBeGreaterThan(0);
      expect(git('ls-tree', '-r', '--name-only', branch, 'manifests/prod').trim().split('\n')).toEqual(
        tracked.map(path),
      );
      for (const f of tracked) expect(git('show', `${branch}:${path(f)}`)).toBe(f.content);
      const rerendered = tracked.filter(
        (f) => initialProd.find((i) => i.name === f.name)?.content !== f.content,
      );
      expect(rerendered.map((f) => f.content).join('')).toContain('1.5.0');
      expect(git('diff', '--name-only', 'main', branch).trim().split('\n')).toEqual(
        [...rerendered.map(path), 'stacks/Pulumi.prod.yaml'].sort(),
      );
    } finally {
      rmSync(promoted, { recursive: true, force: true });
    }

    // the message says what was promoted, then lists every change
    const message = git('log', '-1', '--format=%B', branch).trim().split('\n');
    expect(message[0]).toBe(
      'Promote staging to prod: app-service 1.5.0, model-service 0.9.0, git.revision release-1.5',
    );
    expect(message.slice(1, 5)).toEqual([
      '',
      'app-service image.tag 1.4.2 → 1.5.0',
      'model-service image.tag 0.8.4 → 0.9.0',
      'git.revision v1.5.0 → release-1.5',
    ]);
    expect(message).toContain(`staging was Synced and Healthy at release-1.5 (${release}).`);
  });

  it('copies only the named service with --service, and the chart revision', async () => {
    expect(await run({ service: 'model-service' })).toBe(0);
    const branch = promoteBranch()!;
    const text = git('show', `${branch}:stacks/Pulumi.prod.yaml`);
    expect(text).toContain('tag: 1.4.2\n');
    expect(text).toContain('tag: 0.9.0\n');
    expect(text).toContain('revision: release-1.5\n');
    expect(git('log', '-1', '--format=%s', branch).trim()).toBe(
      'Promote staging to prod: model-service 0.9.0, git.revision release-1.5',
    );
  });

  it('says "nothing to promote", exits 0 and creates no branch when prod already runs what staging runs', async () => {
    // GIVEN prod at staging's tags and revision
    const prod = readFileSync(prodFile(), 'utf8')
      .replace('revision: v1.5.0', 'revision: release-1.5')
      .replace('tag: 1.4.2', 'tag: 1.5.0')
      .replace('tag: 0.8.4', 'tag: 0.9.0');
    writeFileSync(prodFile(), prod);
    commitAll('prod at staging');
    const before = snapshot();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    // WHEN / THEN
    expect(await run()).toBe(0);
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
      "nothing to promote: prod already has staging's image tags and git.revision",
    ]);
    expect(snapshot()).toEqual(before);
    expect(gateCalls).toEqual([]);
  });

  it('fails when staging is not Synced and Healthy at its revision', async () => {
    gateAnswer = {
      ok: false,
      lines: ['staging-app-service: OutOfSync at 1111111, wanted 2222222', 'staging-model-service: Degraded'],
    };
    const release = git('rev-parse', '--short=7', 'release-1.5').trim();
    await expectRefusal(
      {},
      `refusing to promote staging to prod: staging is not Synced and Healthy at release-1.5 (${release}): staging-app-service: OutOfSync at 1111111, wanted 2222222 / staging-model-service: Degraded; promote once it is`,
    );
    expect(gateCalls).toHaveLength(1);
  });

  it("fails when a copied tag breaks prod's rules", async () => {
    // GIVEN staging runs a tag prod's schema refuses ('+' is not allowed in an image tag)
    const staging = join(stacks, 'Pulumi.staging.yaml');
    writeFileSync(staging, readFileSync(staging, 'utf8').replace('tag: 1.5.0\n', 'tag: 1.5.0+build.7\n'));
    commitAll('staging runs a build tag');
    const line = readFileSync(prodFile(), 'utf8').split('\n').indexOf('          tag: 1.4.2') + 1;
    expect(line).toBeGreaterThan(0);
    // WHEN / THEN the message is prod's own, at the line of the tag, and the cluster was not asked
    await expectRefusal(
      {},
      new RegExp(
        `^refusing to promote staging to prod: the copied values break prod's rules: ${prodFile().replace(/[.]/g, '\\.')}:${line}: converge:platform\\.services\\.app-service\\.image\\.tag is "1\\.5\\.0\\+build\\.7"; it must be an image tag`,
      ),
    );
    expect(gateCalls).toEqual([]);
  });

  it('fails when the work tree is dirty', async () => {
    writeFileSync(prodFile(), readFileSync(prodFile(), 'utf8').replace('replicas: 4', 'replicas: 5'));
    await expectRefusal(
      {},
      `the work tree of ${repo} has 1 uncommitted change(s) (first: M stacks/Pulumi.prod.yaml); commit or stash them first, so the promotion starts from a commit`,
    );
    expect(readFileSync(prodFile(), 'utf8')).toContain('replicas: 5');
  });

  it('fails when --service names a service the two environments do not share', async () => {
    await expectRefusal(
      { service: 'billing' },
      '--service is "billing"; the services both environments declare are: app-service, model-service; pass one of those',
    );
  });

  it('fails when the branch for this promotion exists', async () => {
    expect(await run()).toBe(0);
    const branch = promoteBranch()!;
    const first = git('rev-parse', branch).trim();
    await expectRefusal({}, new RegExp(`^branch ${branch} already exists: `));
    expect(git('rev-parse', branch).trim()).toBe(first);
  });

  it('leaves no branch and no worktree when the commit itself fails', async () => {
    // GIVEN a pre-commit hook that refuses every commit (worktrees share the repo's hooks)
    const hook = join(repo, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho "no commits today" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    await expectRefusal({}, /^git commit failed in .*: no commits today; nothing was promoted$/);
  });
});

describe('converge promote (command line)', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
  });
  afterEach(() => {
    process.exitCode = undefined;
  });

  it.each([
    [
      'fails when --from equals --to',
      ['--from', 'prod', '--to', 'prod'],
      'converge: --from and --to are both "prod"; promote copies from one environment into another; pass two different environments',
    ],
    [
      'fails when an environment is unknown',
      ['--from', 'staging', '--to', 'qa'],
      'converge: --to is "qa"; allowed: dev, staging, prod; pass one of those',
    ],
  ])('%s, with one line and exit code 2', async (_, args, line) => {
    const before = snapshot();
    expect(await main(['promote', ...args, '--stacks-dir', stacks])).toBe(2);
    expect(errors).toEqual([line]);
    expect(snapshot()).toEqual(before);
  });

  it('fails when the stack files are not in a git repository, with one line and exit code 2', async () => {
    const loose = realpathSync(mkdtempSync(join(tmpdir(), 'converge-no-git-')));
    try {
      cpSync(stacks, loose, { recursive: true });
      expect(await main(['promote', '--from', 'staging', '--to', 'prod', '--stacks-dir', loose])).toBe(2);
      expect(errors).toEqual([
        `converge: ${loose} is not inside a git repository; promote commits to a new branch, so run it on the stack files of a git checkout (pass --stacks-dir <repo>/stacks)`,
      ]);
    } finally {
      rmSync(loose, { recursive: true, force: true });
    }
  });
});
