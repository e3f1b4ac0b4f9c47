import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  parseStackText,
  platformValue,
  PlatformKeyPath,
  readStackText,
  ScalarEdit,
  setScalars,
  StackText,
} from '../../config/stack-edit';
import { loadStackConfig, stacksDir as defaultStacksDir } from '../../config/stack-file';
import { KubeClient } from '../../drift/kube/client';
import { clusterAccess } from './cluster-access';
import {
  ARGOCD_NAMESPACE,
  Environment,
  ENVIRONMENTS,
  isEnvironment,
  MANIFESTS_DIR,
} from '../../model/constants';
import { ConfigError, ConvergeError, EXIT, UsageError } from '../../model/errors';
import { checkEnvironment, GateResult } from './status';
import { synth } from './synth';

/*
 * `converge promote --from staging --to prod`: what the source runs (each shared service's image tag
 * and the chart revision) goes into the target's stack file, the target is rendered, and both are
 * committed on a new branch for review. It never pushes, never moves a branch that exists, and
 * reads the source's cluster only to check that it is Synced and Healthy at its revision.
 *
 * Every check comes before the first write, so a refusal leaves nothing behind: the work tree is
 * clean, the source passes the gate, the edited target passes the target's own rules, the branch is
 * new. The commit is then made in a temporary `git worktree` at HEAD rather than in the user's
 * checkout: the branch they are on, their index and their files stay exactly as they were (no
 * checkout back and forth, nothing to restore when rendering fails halfway), and the branch ref is
 * created last, in one step, only once the commit exists.
 */

/** What the gate is asked: the source environment, where its Argo CD runs, the commit it must be at. */
export interface GateRequest {
  readonly environment: Environment;
  readonly argocdNamespace: string;
  /** The source's git.revision resolved to a full commit id in the repo. */
  readonly revision: string;
  /** The source's git.repoURL, whose Applications must be at that commit. */
  readonly repoURL: string;
}

export type PromotionGate = (request: GateRequest) => Promise<GateResult>;

export interface PromoteOptions {
  readonly from: string;
  readonly to: string;
  /** Promote only this service's image tag (the chart revision still follows the source). */
  readonly service?: string;
  readonly stacksDir?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Checks the source environment; by default `converge status`'s gate against its cluster. */
  readonly gate?: PromotionGate;
}

/** One value copied from the source into the target. */
export interface PromotedChange {
  /** As the commit body shows it: `app-service image.tag` or `git.revision`. */
  readonly label: string;
  /** As the subject names it: `app-service` or `git.revision`. */
  readonly name: string;
  readonly path: PlatformKeyPath;
  readonly before: unknown;
  readonly after: string;
}

/** `app-service image.tag 1.4.2 → 1.5.0` */
export const changeLine = (c: PromotedChange) => `${c.label} ${String(c.before)} → ${c.after}`;

/** The default gate: the kubeconfig's cluster, asked read-only through `converge status`'s check. */
function clusterGate(options: PromoteOptions): PromotionGate {
  return (request) =>
    checkEnvironment(
      new KubeClient(clusterAccess(options)),
      request.argocdNamespace,
      request.environment,
      request.revision,
      request.repoURL,
    );
}

export async function promote(options: PromoteOptions): Promise<number> {
  const from = environmentFlag('--from', options.from);
  const to = environmentFlag('--to', options.to);
  if (from === to)
    throw new UsageError(
      `--from and --to are both "${from}"; promote copies from one environment into another; pass two different environments`,
    );
  // A real path, as git's top is: the stack file's path inside the repo is relative to both.
  const dir = realpathIfThere(resolve(options.stacksDir ?? defaultStacksDir()));
  if (!existsSync(dir))
    throw new UsageError(
      `--stacks-dir is ${JSON.stringify(dir)}; no such folder; pass the folder of the Pulumi.<env>.yaml files`,
    );
  const git = repository(dir);

  // The source is read for what is copied only: its running state is the gate's business, and
  // every copied value is judged by the target's own rules below, where it will live.
  const source = readStackText(from, dir);
  const target = readStackText(to, dir);
  // The target must be sound before the edit, so a later refusal is about the promoted values.
  loadStackConfig(to, { dir });
  const changes = promotedChanges(source, target, options.service);

  const dirty = git.lines('status', '--porcelain');
  if (dirty.length)
    throw new ConvergeError(
      `the work tree of ${git.top} has ${dirty.length} uncommitted change(s) (first: ${dirty[0].trim()}); commit or stash them first, so the promotion starts from a commit`,
    );
  if (!changes.length) {
    const what = options.service === undefined ? 'image tags' : `${options.service} image tag`;
    console.log(`nothing to promote: ${to} already has ${from}'s ${what} and git.revision`);
    return EXIT.ok;
  }

  const edited = setScalars(
    target.text,
    changes.map((c): ScalarEdit => ({ path: c.path, value: c.after })),
  );
  try {
    parseStackText(edited, to, target.file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConvergeError(
      `refusing to promote ${from} to ${to}: the copied values break ${to}'s rules: ${err.problems.join(' / ')}`,
    );
  }

  const revisionName = String(platformValue(source.doc, ['git', 'revision']));
  const revision = git.resolve(revisionName, from);
  const branch = branchName(from, to, revision, changes);
  if (git.ok('show-ref', '--verify', '--quiet', `refs/heads/${branch}`))
    throw new ConvergeError(
      `branch ${branch} already exists: this promotion was prepared before; review or merge it, or delete it (git branch -D ${branch}) to prepare it again`,
    );

  const argocdNamespace = String(platformValue(source.doc, ['argocd', 'namespace']) ?? ARGOCD_NAMESPACE);
  const gate = await (options.gate ?? clusterGate(options))({
    environment: from,
    argocdNamespace,
    revision,
    repoURL: String(platformValue(source.doc, ['git', 'repoURL'])),
  });
  if (!gate.ok)
    throw new ConvergeError(
      `refusing to promote ${from} to ${to}: ${from} is not Synced and Healthy at ${revisionName} (${revision.slice(0, 7)}): ${gate.lines.join(' / ') || 'the gate gave no reason'}; promote once it is`,
    );

  const commit = await commitOnWorktree(git, {
    stackFile: relative(git.top, target.path),
    text: edited,
    env: to,
    stacksDir: relative(git.top, dir),
    message: commitMessage(from, to, revisionName, revision, changes),
  });
  // Created last and only if absent (the empty old value), so a race cannot overwrite a branch.
  git.run('update-ref', `refs/heads/${branch}`, commit, '');
  console.log(
    `promoted ${from} to ${to} on branch ${branch} (commit ${commit.slice(0, 7)}); your checkout is unchanged`,
  );
  for (const c of changes) console.log(`  ${changeLine(c)}`);
  console.log(`review it with \`git show ${branch}\`; push it yourself for review (promote never pushes)`);
  return EXIT.ok;
}

function realpathIfThere(path: string): string {
  return existsSync(path) ? realpathSync(path) : path;
}

function environmentFlag(flag: string, value: string): Environment {
  if (!isEnvironment(value))
    throw new UsageError(
      `${flag} is ${JSON.stringify(value)}; allowed: ${ENVIRONMENTS.join(', ')}; pass one of those`,
    );
  return value;
}

/** The image tags of services both files declare (or only `service`), then the chart revision. */
export function promotedChanges(
  source: StackText,
  target: StackText,
  service: string | undefined,
): PromotedChange[] {
  const names = (s: StackText) => Object.keys((platformValue(s.doc, ['services']) ?? {}) as object);
  const inSource = new Set(names(source));
  const shared = names(target).filter((n) => inSource.has(n));
  if (service !== undefined && !shared.includes(service))
    throw new UsageError(
      `--service is ${JSON.stringify(service)}; the services both environments declare are: ${shared.join(', ') || 'none'}; pass one of those`,
    );
  const paths = (service === undefined ? shared : [service]).map((name) => ({
    name,
    label: `${name} image.tag`,
    path: ['services', name, 'image', 'tag'],
  }));
  paths.push({ name: 'git.revision', label: 'git.revision', path: ['git', 'revision'] });
  const changes: PromotedChange[] = [];
  for (const { name, label, path } of paths) {
    const after = platformValue(source.doc, path);
    if (typeof after !== 'string' || after === '')
      throw new ConfigError([
        `${source.file}: ${path.join('.')} is ${after === undefined ? 'missing' : JSON.stringify(after)}; promote copies it, so it must be a non-empty string; fix the source file`,
      ]);
    const before = platformValue(target.doc, path);
    if (before !== after) changes.push({ name, label, path, before, after });
  }
  return changes;
}

/**
 * Deterministic, so the same promotion never gets two branches: the source commit it was checked
 * at, and a digest of what it changes (another tag at the same commit is another branch).
 */
export function branchName(
  from: string,
  to: string,
  revision: string,
  changes: readonly PromotedChange[],
): string {
  const digest = createHash('sha256').update(changes.map(changeLine).join('\n')).digest('hex');
  return `promote/${from}-to-${to}-${revision.slice(0, 7)}-${digest.slice(0, 6)}`;
}

export function commitMessage(
  from: string,
  to: string,
  revisionName: string,
  revision: string,
  changes: readonly PromotedChange[],
): string {
  return [
    `Promote ${from} to ${to}: ${changes.map((c) => `${c.name} ${c.after}`).join(', ')}`,
    '',
    ...changes.map(changeLine),
    '',
    `${from} was Synced and Healthy at ${revisionName} (${revision}).`,
    `Written by \`converge promote --from ${from} --to ${to}\`, with ${MANIFESTS_DIR}/${to}/ rendered by \`converge synth --env ${to}\`.`,
    '',
  ].join('\n');
}

interface WorktreeCommit {
  /** Paths relative to the repo's top. */
  readonly stackFile: string;
  readonly stacksDir: string;
  readonly text: string;
  readonly env: Environment;
  readonly message: string;
}

/** Writes, renders and commits in a throwaway worktree at HEAD; returns the commit, removes the worktree. */
async function commitOnWorktree(git: Git, work: WorktreeCommit): Promise<string> {
  const base = git.run('rev-parse', '--verify', 'HEAD').trim();
  const tree = mkdtempSync(join(tmpdir(), 'converge-promote-'));
  try {
    git.run('worktree', 'add', '--quiet', '--detach', tree, base);
    const wt = new Git(tree);
    writeFileSync(join(tree, work.stackFile), work.text);
    const manifests = join(MANIFESTS_DIR, work.env);
    const code = await Promise.resolve(
      synth({ env: work.env, stacksDir: join(tree, work.stacksDir), out: join(tree, manifests) }),
    );
    if (code !== EXIT.ok)
      throw new ConvergeError(`rendering ${work.env} failed (exit ${code}); nothing was committed`, code);
    // The repo's .gitignore decides which rendered files are committed (Argo CD's upstream install
    // is left out by design); --all records a chart's file that synth removed.
    wt.run('add', '--all', '--', work.stackFile, manifests);
    // The repo's own hooks and signing settings apply, as to any commit made there.
    wt.run('commit', '--quiet', '-F', '-', { input: work.message });
    return wt.run('rev-parse', 'HEAD').trim();
  } finally {
    if (!git.ok('worktree', 'remove', '--force', tree)) rmSync(tree, { recursive: true, force: true });
    git.ok('worktree', 'prune');
  }
}

/** The repo holding the stacks folder, or a one-line refusal. */
function repository(dir: string): Git {
  const probe = new Git(dir);
  let top: string;
  try {
    top = probe.run('rev-parse', '--show-toplevel').trim();
  } catch {
    throw new UsageError(
      `${dir} is not inside a git repository; promote commits to a new branch, so run it on the stack files of a git checkout (pass --stacks-dir <repo>/stacks)`,
    );
  }
  const git = new Git(top);
  if (!git.ok('rev-parse', '--verify', '--quiet', 'HEAD'))
    throw new UsageError(`${top} has no commit yet; commit the stack files first, then promote`);
  return git;
}

type GitArg = string | { readonly input: string };

/** git in one folder; a failure is one line: the command and git's first words on it. */
class Git {
  constructor(public readonly top: string) {}

  public run(...args: GitArg[]): string {
    const input = args.find((a): a is { input: string } => typeof a !== 'string')?.input;
    const argv = args.filter((a): a is string => typeof a === 'string');
    try {
      return execFileSync('git', ['-C', this.top, ...argv], {
        encoding: 'utf8',
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const why = (e.stderr || e.message).trim().split('\n')[0];
      throw new ConvergeError(`git ${argv[0]} failed in ${this.top}: ${why}; nothing was promoted`);
    }
  }

  public ok(...args: string[]): boolean {
    try {
      this.run(...args);
      return true;
    } catch {
      return false;
    }
  }

  public lines(...args: string[]): string[] {
    return this.run(...args)
      .split('\n')
      .filter((l) => l.trim() !== '');
  }

  /** A revision as Argo CD would read it: the remote's branch first, then local branches, tags, ids. */
  public resolve(revision: string, env: string): string {
    for (const candidate of [`refs/remotes/origin/${revision}`, revision]) {
      try {
        return this.run('rev-parse', '--verify', '--quiet', `${candidate}^{commit}`).trim();
      } catch {
        /* try the next */
      }
    }
    throw new ConvergeError(
      `${env}'s git.revision "${revision}" is not a branch, tag or commit in ${this.top} (nor origin/${revision}); fetch it (git fetch origin) and promote again`,
    );
  }
}
