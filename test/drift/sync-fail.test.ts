import { ArgoApplication } from '../../model/argo-application';
import { AuditRecord, StoredRecord, storedForm } from '../../drift/audit';
import { failedSync, lastHealthyRevision } from '../../drift/sync-fail/failed-sync';
import { RollbackCommitter, RollbackRequest, RollbackResult } from '../../drift/sync-fail/git-rollback';
import { ResponseRecords, SyncFailPolicy, SyncFailResponder } from '../../drift/sync-fail/responder';
import { Delivery, DriftNotice, headline } from '../../drift/notify/messages';
import { webhookPayload } from '../../drift/notify/webhook';
import { slackPayload } from '../../drift/notify/slack';
import { emailMessage } from '../../drift/notify/email';
import { pagerDutyPayload } from '../../drift/notify/pagerduty';

/* The response to a failed sync (hooks.syncFail): what counts as one, and what is done, once. */

const HEALTHY = 'a'.repeat(40);
const FAILED = 'b'.repeat(40);
const ROLLBACK = 'c'.repeat(40);

/** staging-app-service as Argo CD reports it after a PostSync smoke test failed at FAILED. */
function app(overrides: { phase?: string; revision?: string; startedAt?: string; history?: string[] } = {}) {
  return {
    metadata: {
      name: 'staging-app-service',
      namespace: 'argocd',
      labels: { 'converge.dev/environment': 'staging', 'converge.dev/service': 'app-service' },
    },
    status: {
      operationState: {
        phase: overrides.phase ?? 'Failed',
        message:
          'one or more synchronization tasks completed unsuccessfully (fetching https://ci:s3cret@git.example.org/converge.git)',
        startedAt: overrides.startedAt ?? '2026-12-01T10:00:00Z',
        finishedAt: '2026-12-01T10:00:30Z',
        operation: { sync: { revision: overrides.revision ?? FAILED } },
        syncResult: {
          revision: overrides.revision ?? FAILED,
          resources: [
            { kind: 'Deployment', name: 'app-service', status: 'Synced', syncPhase: 'Sync' },
            {
              kind: 'Job',
              name: 'app-service-post-sync',
              status: 'Synced',
              hookType: 'PostSync',
              hookPhase: 'Failed',
              message: 'Job has reached the specified backoff limit',
              syncPhase: 'PostSync',
            },
            {
              kind: 'Job',
              name: 'app-service-sync-fail',
              status: 'Synced',
              hookType: 'SyncFail',
              hookPhase: 'Succeeded',
              syncPhase: 'SyncFail',
            },
          ],
        },
      },
      history: (overrides.history ?? [HEALTHY]).map((revision, id) => ({ id, revision })),
    },
  } satisfies ArgoApplication;
}

describe('failedSync', () => {
  it('names the Application, the revision, the hook that failed and its message, credentials out', () => {
    expect(failedSync(app())).toEqual({
      id: expect.stringMatching(/^syncfail-[0-9a-f]{16}$/),
      application: 'staging-app-service',
      environment: 'staging',
      service: 'app-service',
      revision: FAILED,
      phase: 'Failed',
      failed: 'PostSync hook Job/app-service-post-sync',
      message:
        'Job has reached the specified backoff limit; one or more synchronization tasks completed unsuccessfully (fetching https://***@git.example.org/converge.git)',
      finishedAt: '2026-12-01T10:00:30Z',
    });
  });

  it.each(['Running', 'Succeeded', 'Terminating', undefined])('is nothing while the phase is %s', (phase) => {
    const a = app();
    expect(
      failedSync({ ...a, status: { ...a.status, operationState: { ...a.status.operationState, phase } } }),
    ).toBeUndefined();
  });

  it('counts Error as a failure too, and a resource Argo CD could not apply when no hook failed', () => {
    const a = app({ phase: 'Error' });
    const resources = [
      { kind: 'ConfigMap', name: 'app-config', status: 'SyncFailed', message: 'admission webhook denied' },
    ];
    const f = failedSync({
      ...a,
      status: {
        ...a.status,
        operationState: { ...a.status.operationState, syncResult: { revision: FAILED, resources } },
      },
    });
    expect(f).toMatchObject({
      phase: 'Error',
      failed: 'ConfigMap/app-config',
      message: expect.stringMatching(/^admission webhook denied; /),
    });
  });

  it('gives one id per operation: the same one seen again, a new one for the next attempt', () => {
    expect(failedSync(app())!.id).toBe(failedSync(app())!.id);
    expect(failedSync(app({ startedAt: '2026-12-01T10:05:00Z' }))!.id).not.toBe(failedSync(app())!.id);
  });

  it('is nothing for an Application that is not a service of an environment', () => {
    const a = app();
    expect(
      failedSync({
        ...a,
        metadata: { name: 'staging-root', labels: { 'converge.dev/environment': 'staging' } },
      }),
    ).toBeUndefined();
  });
});

describe('lastHealthyRevision', () => {
  it('is the newest revision in history (Argo CD records successful syncs only)', () => {
    expect(lastHealthyRevision(app({ history: [HEALTHY, ROLLBACK] }))).toBe(ROLLBACK);
    expect(lastHealthyRevision(app({ history: [] }))).toBeUndefined();
  });
});

/** The cluster's DriftRecords, in memory: created once by name, as the API server does. */
class Records implements ResponseRecords {
  public readonly stored: StoredRecord[] = [];
  public failNext = false;

  public async record(rec: AuditRecord): Promise<boolean> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the API server is unavailable');
    }
    const stored = storedForm(rec);
    if (this.stored.some((r) => r.name === stored.name)) return false;
    this.stored.push(stored);
    return true;
  }

  public async recordsOf(driftId: string): Promise<readonly StoredRecord[]> {
    return this.stored.filter((r) => r.driftId === driftId);
  }

  public events(): string[] {
    return this.stored.map((r) => r.event);
  }
}

class Committer implements RollbackCommitter {
  public readonly requests: RollbackRequest[] = [];
  constructor(private readonly answer: () => RollbackResult) {}
  public async rollBack(request: RollbackRequest): Promise<RollbackResult> {
    this.requests.push(request);
    return this.answer();
  }
}

const pushed = (): RollbackResult => ({
  pushed: true,
  commit: ROLLBACK,
  plan: {
    file: 'charts/app-service/images/staging.yaml',
    from: '1.5.2',
    to: '1.5.1',
    reverts: FAILED,
    content: 'updatedImage:\n  tag: 1.5.1\n',
    message: 'staging: roll app-service back from 1.5.2 to 1.5.1',
  },
});

function responder(
  policy: Partial<SyncFailPolicy> | null = {},
  answer: () => RollbackResult = pushed,
  deliveries: Delivery[] = [{ target: 'webhook:deploy-events', ok: true, detail: 'HTTP 200' }],
  records = new Records(),
) {
  const notices: DriftNotice[] = [];
  const logs: string[] = [];
  const committer = new Committer(answer);
  const r = new SyncFailResponder({
    environment: 'staging',
    policy: (service) =>
      service === 'app-service' && policy
        ? { notify: true, rollback: true, writeBackFile: 'charts/app-service/images/staging.yaml', ...policy }
        : undefined,
    records,
    notifier: {
      notify: async (n) => {
        notices.push(n);
        return deliveries;
      },
    },
    rollback: committer,
    now: () => new Date('2026-12-01T10:00:31Z'),
    log: (line) => logs.push(line),
  });
  return { r, notices, logs, records, committer };
}

describe('SyncFailResponder', () => {
  it('rolls back to the last healthy revision, then sends one notice saying so, and records each step', async () => {
    // GIVEN app-service's smoke test failed at FAILED, after HEALTHY synced healthy
    const { r, notices, records, committer } = responder();
    // WHEN the controller sees the failed operation
    await r.respond(app());
    // THEN it asks for the rollback bounded by HEALTHY, naming FAILED
    expect(committer.requests).toEqual([
      {
        file: 'charts/app-service/images/staging.yaml',
        environment: 'staging',
        service: 'app-service',
        options: { healthy: HEALTHY, failed: FAILED },
      },
    ]);
    // AND sends one notice naming the Application, the revision, the failed hook, the message and the action
    expect(notices).toHaveLength(1);
    expect(notices[0].syncFailure).toEqual({
      application: 'staging-app-service',
      service: 'app-service',
      revision: FAILED,
      phase: 'Failed',
      failed: 'PostSync hook Job/app-service-post-sync',
      message: expect.stringContaining('Job has reached the specified backoff limit'),
      action: `rolled back from 1.5.2 to 1.5.1 (commit ${ROLLBACK.slice(0, 12)})`,
    });
    expect(headline(notices[0])).toBe(
      `[high] sync of staging-app-service in staging to ${FAILED.slice(0, 12)} failed at PostSync hook Job/app-service-post-sync: ${notices[0].syncFailure!.message}; rolled back from 1.5.2 to 1.5.1 (commit ${ROLLBACK.slice(0, 12)})`,
    );
    // AND records what failed, what was done and where the notice went, against the Application
    expect(records.events()).toEqual(['sync-failed', 'rolled-back', 'paged']);
    expect(records.stored[0]).toMatchObject({
      object: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        namespace: 'argocd',
        name: 'staging-app-service',
      },
      actor: 'converge',
      outcome: expect.stringMatching(/^Failed at PostSync hook Job\/app-service-post-sync: Job has reached/),
    });
    expect(records.stored[2].outcome).toBe('webhook:deploy-events: sent');
  });

  it('answers each operation once, in this process and after a restart', async () => {
    const first = responder();
    await Promise.all([first.r.respond(app()), first.r.respond(app())]);
    await first.r.respond(app());
    expect(first.committer.requests).toHaveLength(1);
    expect(first.notices).toHaveLength(1);
    // A new process over the same records does nothing again
    const restarted = responder({}, pushed, undefined, first.records);
    await restarted.r.respond(app());
    expect(restarted.committer.requests).toEqual([]);
    expect(restarted.notices).toEqual([]);
    expect(restarted.records.events()).toEqual(['sync-failed', 'rolled-back', 'paged']);
  });

  it('after a crash between the rollback and the notice, a restart only sends the notice, with the recorded action', async () => {
    // The crash: the notice's record cannot be written, so the first process never finishes
    const crashing = new Records();
    const crashed = responder({}, pushed, undefined, crashing);
    const orig = crashing.record.bind(crashing);
    crashing.record = async (rec) => {
      if (rec.event === 'paged') throw new Error('killed');
      return orig(rec);
    };
    await expect(crashed.r.respond(app())).rejects.toThrow('killed');
    expect(crashing.events()).toEqual(['sync-failed', 'rolled-back']);
    // WHEN a new process starts over the same records
    crashing.record = orig;
    const restarted = responder({}, pushed, undefined, crashing);
    await restarted.r.respond(app());
    // THEN it does not roll back again, and tells what the first one did
    expect(restarted.committer.requests).toEqual([]);
    expect(restarted.notices.map((n) => n.syncFailure?.action)).toEqual([
      `rolled back from 1.5.2 to 1.5.1 (commit ${ROLLBACK.slice(0, 12)})`,
    ]);
    expect(crashing.events()).toEqual(['sync-failed', 'rolled-back', 'paged']);
  });

  it('never rolls back past the last healthy revision: when the sync after a rollback fails too, it only notifies', async () => {
    // GIVEN the rollback commit is the failed revision now, and the write-back file holds HEALTHY's tag already
    const { r, notices, records } = responder({}, () => ({
      pushed: false,
      reason:
        'charts/app-service/images/staging.yaml already holds the tag the last healthy revision ran (or no tag at all)',
    }));
    await r.respond(app({ revision: ROLLBACK, startedAt: '2026-12-01T10:02:00Z' }));
    expect(records.events()).toEqual(['sync-failed', 'rollback-skipped', 'paged']);
    expect(notices[0].syncFailure!.action).toBe(
      'no rollback: charts/app-service/images/staging.yaml already holds the tag the last healthy revision ran (or no tag at all)',
    );
  });

  it('does not roll back when the failed revision is the one that last synced healthy (the image is not to blame)', async () => {
    const { r, committer, notices } = responder();
    await r.respond(app({ revision: HEALTHY }));
    expect(committer.requests).toEqual([]);
    expect(notices[0].syncFailure!.action).toMatch(
      /^no rollback: a{12} is the revision that last synced healthy/,
    );
  });

  it('does not roll back when Argo CD has no healthy revision on record', async () => {
    const { r, committer, records } = responder();
    await r.respond(app({ history: [] }));
    expect(committer.requests).toEqual([]);
    expect(records.stored[1]).toMatchObject({
      event: 'rollback-skipped',
      outcome: 'no rollback: Argo CD has no healthy revision of staging-app-service on record to go back to',
    });
  });

  it('only notifies when rollback is off, and only rolls back when notify is off', async () => {
    const notifyOnly = responder({ rollback: false });
    await notifyOnly.r.respond(app());
    expect(notifyOnly.committer.requests).toEqual([]);
    expect(notifyOnly.records.events()).toEqual(['sync-failed', 'paged']);
    expect(notifyOnly.notices[0].syncFailure!.action).toBe('no rollback (hooks.syncFail.rollback is off)');
    const rollbackOnly = responder({ notify: false });
    await rollbackOnly.r.respond(app());
    expect(rollbackOnly.notices).toEqual([]);
    expect(rollbackOnly.records.events()).toEqual(['sync-failed', 'rolled-back']);
  });

  it('does nothing for a service that declares no syncFail, or another environment', async () => {
    const none = responder(null);
    await none.r.respond(app());
    expect(none.records.stored).toEqual([]);
    const other = responder();
    const a = app();
    await other.r.respond({
      ...a,
      metadata: { ...a.metadata, labels: { ...a.metadata.labels, 'converge.dev/environment': 'prod' } },
    });
    expect(other.records.stored).toEqual([]);
  });

  it('fails when the push is refused: one log line and a record, and the notice says the rollback failed', async () => {
    const { r, notices, records, logs } = responder({}, () => {
      throw new Error('`git push` failed: ! [remote rejected] HEAD -> main (pre-receive hook declined)');
    });
    await expect(r.respond(app())).resolves.toBeUndefined();
    expect(records.stored[1]).toMatchObject({
      event: 'rollback-failed',
      outcome:
        'rollback failed: `git push` failed: ! [remote rejected] HEAD -> main (pre-receive hook declined)',
    });
    expect(notices[0].syncFailure!.action).toMatch(/^rollback failed: `git push` failed/);
    expect(logs.filter((l) => l.includes('rollback failed'))).toHaveLength(1);
  });

  it('fails when the webhook is dead: the record says so and one line is logged, nothing throws', async () => {
    const { r, records, logs } = responder({}, pushed, [
      { target: 'webhook:deploy-events', ok: false, detail: 'fetch failed' },
    ]);
    await expect(r.respond(app())).resolves.toBeUndefined();
    expect(records.stored[2]).toMatchObject({
      event: 'paged',
      outcome: 'webhook:deploy-events: failed (fetch failed)',
    });
    expect(logs.filter((l) => l.includes('notice not delivered'))).toEqual([
      `failed sync of staging-app-service at ${FAILED.slice(0, 12)}: notice not delivered to webhook:deploy-events (fetch failed)`,
    ]);
  });

  it('fails when the write-back file is missing: the rollback is skipped with the reason', async () => {
    const { r, records } = responder({}, () => ({
      pushed: false,
      reason:
        'charts/app-service/images/staging.yaml is not on main: no image update was written, so there is none to roll back',
    }));
    await r.respond(app());
    expect(records.stored[1]).toMatchObject({
      event: 'rollback-skipped',
      outcome: expect.stringMatching(/is not on main/),
    });
  });

  it('fails when a record cannot be written: the error reaches the caller, and the next look finishes the job', async () => {
    const records = new Records();
    records.failNext = true;
    const { r, notices } = responder({}, pushed, undefined, records);
    await expect(r.respond(app())).rejects.toThrow('the API server is unavailable');
    await r.respond(app());
    expect(records.events()).toEqual(['sync-failed', 'rolled-back', 'paged']);
    expect(notices).toHaveLength(1);
  });
});

describe('the failed-sync notice on every channel', () => {
  const notice = async () => {
    const { r, notices } = responder();
    await r.respond(app());
    return notices[0];
  };

  it('carries the failure in the webhook body, with no credential', async () => {
    const n = await notice();
    const body = webhookPayload(n);
    expect(body).toMatchObject({
      type: 'sync-failed',
      environment: 'staging',
      syncFailure: { revision: FAILED },
    });
    expect(JSON.stringify(body)).not.toContain('s3cret');
  });

  it('says how to look at it, not how to approve a drift, on Slack and email; PagerDuty classes it as a sync', async () => {
    const n = await notice();
    expect(JSON.stringify(slackPayload('#deploys', n))).toContain('Application staging-app-service');
    expect(JSON.stringify(slackPayload('#deploys', n))).not.toContain('converge approve');
    expect(emailMessage('a@x', 'b@x', n).text).toContain('See: argocd app get staging-app-service');
    expect(pagerDutyPayload('key', n).payload.class).toBe('sync/failed');
  });
});
