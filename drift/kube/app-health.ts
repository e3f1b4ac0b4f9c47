import { ArgoApplication } from '../../model/argo-application';
import { LABELS } from '../../model/constants';
import { redactCredentials } from '../../model/urls';

/*
 * Whether an environment's Argo CD Applications are done: Synced (to a revision, when one is asked
 * for) and Healthy, with nothing still running. Pure, so the gate's rules are tested without a cluster.
 */

export interface AppsVerdict {
  readonly ok: boolean;
  /** One per failing Application; one per Application when all pass. */
  readonly lines: readonly string[];
}

/** A commit id as `--revision` takes it: 7 to 40 hex digits. */
export const COMMIT_ID = /^[0-9a-f]{7,40}$/i;

const MESSAGE_MAX = 160;

/** A commit id cut to 7 digits; anything else (a chart version) as it is. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/i.test(revision) ? revision.slice(0, 7) : revision;
}

/** True when the Application's revision is the commit asked for, full or by a prefix of 7+ digits. */
export function revisionMatches(actual: string | undefined, wanted: string): boolean {
  if (!actual || !COMMIT_ID.test(actual)) return false;
  const [a, w] = [actual.toLowerCase(), wanted.toLowerCase()];
  return a.startsWith(w) || w.startsWith(a);
}

/** The revisions an Application is at: one per source for multi-source Applications. */
function revisionsOf(app: ArgoApplication): string[] {
  const sync = app.status?.sync;
  if (sync?.revisions?.length) return sync.revisions;
  return sync?.revision ? [sync.revision] : [];
}

/**
 * The revisions of an Application's sources in `repoURL`, which a commit of that repo can name;
 * all its revisions when no repo is given. A source in another repo (an add-on's vendor chart) is
 * at a commit of its own.
 */
function revisionsIn(app: ArgoApplication, repoURL: string | undefined): string[] {
  const all = revisionsOf(app);
  if (repoURL === undefined) return all;
  const sources = app.spec?.sources?.length ? app.spec.sources : app.spec?.source ? [app.spec.source] : [];
  if (!sources.some((src) => src.repoURL)) return all;
  return all.filter((_, i) => sources[i]?.repoURL === repoURL);
}

function short(message: string): string {
  // Argo CD repeats repo URLs in its messages, credentials and all.
  const one = redactCredentials(message).replace(/\s+/g, ' ').trim();
  if (one.length <= MESSAGE_MAX) return one;
  // Both ends: what failed comes first, and tools such as helm put why last.
  const head = Math.floor(MESSAGE_MAX / 3);
  return `${one.slice(0, head)} ... ${one.slice(one.length - (MESSAGE_MAX - head - 5))}`;
}

/** What Argo CD says about an Application, each message once, each cut short. */
function messagesOf(app: ArgoApplication): string[] {
  const status = app.status;
  const operation = status?.operationState;
  const all = [
    // A past operation's "successfully synced" says nothing about why the Application fails now.
    operation?.phase === 'Succeeded' ? undefined : operation?.message,
    ...(status?.conditions ?? []).map((c) => (c.message && c.type ? `${c.type}: ${c.message}` : c.message)),
    status?.health?.message,
  ];
  return [...new Set(all.filter((m): m is string => !!m?.trim()).map(short))];
}

/**
 * One check of an environment's Applications. Each passes when Synced and Healthy with no operation
 * running, and, when `revision` is given, when its sources in `repoURL` are at that commit.
 */
export function evaluateApplications(
  apps: readonly ArgoApplication[],
  where: {
    readonly environment: string;
    readonly namespace: string;
    readonly revision?: string;
    /** The repo `revision` is a commit of: only sources there must be at it. @default every source */
    readonly repoURL?: string;
  },
): AppsVerdict {
  if (!apps.length)
    return {
      ok: false,
      lines: [
        `no Argo CD Applications labelled ${LABELS.environment}=${where.environment} in namespace ${where.namespace}; bootstrap the environment with \`pulumi up --stack ${where.environment}\`, or check --env and the kubeconfig context`,
      ],
    };
  const results = [...apps]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((app) => {
      const sync = app.status?.sync?.status ?? 'Unknown';
      const health = app.status?.health?.status ?? 'Unknown';
      const revisions = revisionsOf(app);
      const at = revisions.length ? revisions.map(shortRevision).join(',') : 'no revision';
      const running = ['Running', 'Terminating'].includes(app.status?.operationState?.phase ?? '');
      const inRepo = revisionsIn(app, where.repoURL);
      // An Application with no source in the repo has no commit of it to be at.
      const elsewhere = revisions.length > 0 && inRepo.length === 0;
      const atRevision =
        !where.revision || elsewhere || inRepo.some((r) => revisionMatches(r, where.revision!));
      const ok = sync === 'Synced' && health === 'Healthy' && !running && atRevision;
      const why = [
        running ? 'syncing' : undefined,
        atRevision ? undefined : `wanted ${shortRevision(where.revision!)}`,
      ].filter(Boolean);
      const messages = ok ? [] : messagesOf(app);
      const line =
        `${app.metadata.name}: ${sync}, ${health}, at ${at}` +
        (why.length ? ` (${why.join(', ')})` : '') +
        (messages.length ? ` - ${messages.join('; ')}` : '');
      return { ok, line };
    });
  const failing = results.filter((r) => !r.ok);
  return {
    ok: failing.length === 0,
    lines: (failing.length ? failing : results).map((r) => r.line),
  };
}
