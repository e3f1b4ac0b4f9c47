import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { CONVERGE_NAMESPACE, DRIFT_CONTROLLER_NAME } from '../../model/constants';
import {
  convergeAs,
  HEAP_LIMIT_MB,
  ImpersonatingProxy,
  kubeconfigWithToken,
  records,
  recordsFor,
  WatchProcess,
} from './drift-harness';
import { BARE_REPO, KUBECONFIG, kubectl, RESULTS_DIR, ROOT, waitFor } from '../../tools/cluster/harness';
import { toolsBinDir } from '../../render/tools';
import {
  converge,
  exposeService,
  merge,
  ms,
  NS,
  replicas,
  s,
  scale,
  serviceType,
  since,
  useStagingDrift,
  waitRecord,
  Workload,
} from './staging-drift';
import { gitIn } from '../../tools/cluster/releases';

/*
 * Severity-aware drift handling on the real control plane, with the staging policy (Converge's
 * defaults): the drift controller runs as `converge watch`, a real process, next to Argo CD.
 *   low    a Deployment scaled by hand: healed automatically
 *   medium a Service switched to NodePort: held, then approved (or rejected) by a human, whose
 *          identity the API server authenticates and checks (impersonated with kubectl proxy)
 *   high   a Secret deleted: restored at once, and a webhook on loopback is paged
 * plus restarts in the middle of a remediation, a burst of 1000 drifts, and a drift that keeps coming back.
 */

useStagingDrift();

describe('converge promote from the live staging', () => {
  it("commits staging's tags and revision into prod on a new branch, gated on the real cluster", () => {
    // GIVEN a clean clone of what Argo CD serves, staging Synced and Healthy at its main
    const work = mkdtempSync(join(tmpdir(), 'converge-promote-'));
    const git = gitIn(work, 'e2e');
    try {
      execFileSync('git', ['clone', '--quiet', '--branch', 'main', BARE_REPO, work]);
      // promote commits with the repo's own identity, as on a developer's machine
      git('config', 'user.name', 'e2e');
      git('config', 'user.email', 'e2e@localhost');
      // WHEN staging is promoted to prod
      const r = spawnSync(
        'node',
        [
          join(ROOT, 'dist', 'cli', 'main.js'),
          'promote',
          '--from',
          'staging',
          '--to',
          'prod',
          '--stacks-dir',
          join(work, 'stacks'),
          '--kubeconfig',
          KUBECONFIG,
        ],
        { cwd: work, encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const branch = /on branch (\S+)/.exec(r.stdout)![1];
      // THEN the branch changes prod's stack file and rendered manifests only, and the checkout not at all
      expect(git('status', '--porcelain')).toBe('');
      expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
      const files = git('diff', '--name-only', `main..${branch}`).split('\n');
      expect(files).toContain('stacks/Pulumi.prod.yaml');
      expect(files.every((f) => f === 'stacks/Pulumi.prod.yaml' || f.startsWith('manifests/prod/'))).toBe(
        true,
      );
      // and in the stack file, exactly the copied tags and the revision
      const changed = git('diff', '-U0', `main..${branch}`, '--', 'stacks/Pulumi.prod.yaml')
        .split('\n')
        .filter((l) => /^[-+] /.test(l))
        .map(
          (l) =>
            l
              .trim()
              .replace(/^[-+]\s*/, '')
              .split(':')[0],
        );
      expect(new Set(changed)).toEqual(new Set(['tag', 'revision']));
      expect(git('log', '-1', '--format=%B', branch)).toMatch(/app-service image\.tag .+ → 1\.5\.0/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

/** Staging's approver (drift.approvers.groups: [platform-team]) and someone outside that group. */
const carol = new ImpersonatingProxy('carol', ['platform-team']);
const dave = new ImpersonatingProxy('dave', ['web-developers']);
beforeAll(async () => {
  await carol.start();
  await dave.start();
});
afterAll(async () => {
  await carol.stop();
  await dave.stop();
});

describe('drift handling by severity', () => {
  it('heals a scaled Deployment automatically (low)', async () => {
    const from = since();
    const t0 = performance.now();
    const at = new Date().toISOString();
    await scale(5);
    const { ms: restoreMs } = await waitFor('replicas back to 2', async () => (await replicas()) === 2, {
      intervalMs: 20,
    });
    const detected = await waitRecord('Deployment', 'app-service', 'detected', from);
    const restored = await waitRecord('Deployment', 'app-service', 'restored', from);
    const healed = await waitRecord('Deployment', 'app-service', 'healed', from);
    expect(detected).toMatchObject({
      severity: 'low',
      action: 'heal',
      rule: 'replicas-scaled',
      change: 'modified',
      fields: [{ path: '/spec/replicas', from: 2, to: 5 }],
    });
    expect(healed.actor).toBe('converge');
    expect(restored.driftId).toBe(detected.driftId);
    s.timings.scale = { detectMs: ms(detected.at, at), restoreMs, measuredFromMs: performance.now() - t0 };
  });

  it('holds a Service type change until a human approves, then heals it (medium)', async () => {
    const from = since();
    const at = new Date().toISOString();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    expect(held).toMatchObject({
      severity: 'medium',
      action: 'hold-for-approval',
      rule: 'service-exposure-changed',
      fields: [{ path: '/spec/type', from: 'ClusterIP', to: 'NodePort' }],
    });
    // Held: nothing heals it, neither Converge nor Argo CD (its Application does not self-heal).
    await new Promise((r) => setTimeout(r, 4000));
    expect(await serviceType()).toBe('NodePort');
    expect(await s.controller.metric('converge_drift_pending_approvals')).toBe(1);
    expect(s.hook.received.some((r) => r.body.type === 'drift' && r.body.drift.id === held.driftId)).toBe(
      true,
    );

    // Approved by carol of platform-team, staging's drift.approvers group, as the API server sees her.
    const approvedAt = performance.now();
    const approval = convergeAs(
      carol.kubeconfig,
      s.ws.dir,
      'approve',
      held.driftId,
      '--reason',
      'exposed by mistake',
    );
    expect(approval).toMatchObject({ code: 0, stderr: '' });
    expect(approval.stdout).toContain(`${held.driftId} approved by carol: heal approved`);
    const { ms: afterApproval } = await waitFor(
      'Service back to ClusterIP',
      async () => (await serviceType()) === 'ClusterIP',
      { intervalMs: 20 },
    );
    const approved = await waitRecord('Service', 'app-service', 'approved', from);
    await waitRecord('Service', 'app-service', 'restored', from);
    expect(approved).toMatchObject({ actor: 'carol', detail: 'exposed by mistake' });
    expect(approved.groups).toEqual(expect.arrayContaining(['platform-team', 'system:authenticated']));
    expect(await s.controller.metric('converge_drift_pending_approvals')).toBe(0);
    s.timings.serviceType = {
      detectMs: ms((await waitRecord('Service', 'app-service', 'detected', from)).at, at),
      restoreAfterApprovalMs: afterApproval,
      approvalToRestoreMs: performance.now() - approvedAt,
    };
  });

  it('restores a deleted Secret at once and pages, then reports recovery (high)', async () => {
    const from = since();
    const t0 = performance.now();
    const before = s.hook.received.length;
    await s.c.core.deleteNamespacedSecret({ name: 'argocd-notifications-secret', namespace: 'argocd' });
    const { ms: restoreMs } = await waitFor(
      'Secret back',
      async () => {
        try {
          return !(
            await s.c.core.readNamespacedSecret({ name: 'argocd-notifications-secret', namespace: 'argocd' })
          ).metadata?.deletionTimestamp;
        } catch {
          return false;
        }
      },
      { intervalMs: 20 },
    );
    const page = await waitFor(
      'emergency notification',
      async () =>
        s.hook.received
          .slice(before)
          .find((r) => r.body.type === 'drift' && r.body.drift.object.kind === 'Secret'),
      { intervalMs: 10 },
    );
    const recovered = await waitFor('recovered notification', async () =>
      s.hook.received
        .slice(before)
        .find((r) => r.body.type === 'recovered' && r.body.drift.object.kind === 'Secret'),
    );
    expect(page.value.body.drift.severity).toBe('high');
    expect(page.value.body.summary).toContain(
      '[high] Secret/argocd/argocd-notifications-secret in staging drifted from Git (deleted)',
    );
    const paged = await waitRecord('Secret', 'argocd-notifications-secret', 'paged', from);
    expect(paged.outcome).toContain('webhook:drift-test: sent');
    await waitRecord('Secret', 'argocd-notifications-secret', 'restored', from);
    s.timings.secretDeleted = {
      restoreMs,
      notifyMs: page.value.at - t0,
      recoveredNoticeMs: recovered.value.at - t0,
    };
  });

  it('keeps a rejected change and records the decision, healing nothing', async () => {
    const from = since();
    await exposeService();
    const held = await waitRecord('Service', 'app-service', 'held', from);
    const eventsOf = async (id: string) =>
      (await recordsFor(s.audit, 'Service', 'app-service', from))
        .filter((r) => r.driftId === id)
        .map((r) => r.event)
        .sort();
    // The suite's admin identity: a cluster admin may decide, and the record names it.
    expect(converge('reject', held.driftId)).toContain(`${held.driftId} rejected by admin`);
    await waitRecord('Service', 'app-service', 'rejected', from);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await serviceType()).toBe('NodePort');
    expect(await eventsOf(held.driftId)).toEqual(['detected', 'held', 'rejected']);
    // A rejected drift is decided: no longer waiting for anyone.
    expect(await s.controller.metric('converge_drift_pending_approvals')).toBe(0);
    // Put it back by hand, as the owner of the change would: nothing was healed, so nothing "recovered".
    const noticesBefore = s.hook.received.length;
    await s.c.core.patchNamespacedService(
      { name: 'app-service', namespace: NS, body: { spec: { type: 'ClusterIP' } } },
      merge,
    );
    await waitFor('Service ClusterIP', async () => (await serviceType()) === 'ClusterIP');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await eventsOf(held.driftId)).toEqual(['detected', 'held', 'rejected']);
    expect(s.hook.received.slice(noticesBefore).filter((r) => r.body.type === 'recovered')).toHaveLength(0);
  });

  it('fails when asked to approve a drift that does not exist, with exit code 2', () => {
    let status = 0;
    let stderr = '';
    try {
      converge('approve', 'd-000000000000');
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: string }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr.trim()).toBe(
      'converge: drift d-000000000000 has no record in converge-system; list held drifts with `converge drift --env staging`',
    );
  });
});

describe('authenticated decisions', () => {
  /** A decision record as anyone could write it by hand, bypassing `converge approve`. */
  const decision = (name: string, actor: string) =>
    JSON.stringify({
      apiVersion: 'converge.dev/v1alpha1',
      kind: 'DriftRecord',
      metadata: { name, namespace: CONVERGE_NAMESPACE },
      spec: {
        driftId: 'd-0000000000ab',
        event: 'approved',
        object: { apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'app-service' },
        at: new Date().toISOString(),
        actor,
      },
    });
  /** `kubectl create` as an identity; the API server's answer on stderr. */
  const createAs = (name: string, actor: string, as: string, groups: string[]) => {
    const r = spawnSync(
      join(toolsBinDir(), 'kubectl'),
      [
        '--kubeconfig',
        KUBECONFIG,
        'create',
        '-f',
        '-',
        `--as=${as}`,
        ...groups.map((g) => `--as-group=${g}`),
      ],
      { input: decision(name, actor), encoding: 'utf8' },
    );
    return { code: r.status, stderr: r.stderr.trim() };
  };

  it('refuses, in the API server, an approval whose actor is not the requester', () => {
    const r = createAs('d-0000000000ab-approved', 'alice', 'carol', ['platform-team']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'ValidatingAdmissionPolicy \'converge-drift-decisions-staging\' with binding \'converge-drift-decisions-staging\' denied request: a decision on a drift records who made it: spec.actor is "alice" but you are "carol"',
    );
    // Not even a cluster admin records someone else's decision.
    expect(createAs('d-0000000000ab-approved', 'alice', 'admin', ['system:masters']).stderr).toContain(
      'spec.actor is "alice" but you are "admin"',
    );
  });

  it('never changes or deletes a record, whoever asks', async () => {
    const approved = (await records(s.audit)).find((r) => r.event === 'approved' && r.actor === 'carol')!;
    expect(approved).toBeDefined();
    const tryAs = (args: string[], as?: string[]) => {
      const r = spawnSync(
        join(toolsBinDir(), 'kubectl'),
        ['--kubeconfig', KUBECONFIG, ...args, ...(as ?? [])],
        {
          encoding: 'utf8',
        },
      );
      return { code: r.status, stderr: r.stderr.trim() };
    };
    const patch = ['patch', 'driftrecord', approved.name, '-n', CONVERGE_NAMESPACE, '--type', 'merge', '-p'];
    const body = JSON.stringify({ spec: { actor: 'mallory' } });
    // The admin passes RBAC: the CRD's transition rule refuses the change.
    const asAdmin = tryAs([...patch, body]);
    expect(asAdmin.code).not.toBe(0);
    expect(asAdmin.stderr).toContain('DriftRecords are never changed; record a new event instead');
    const asCarol = ['--as=carol', '--as-group=platform-team'];
    expect(tryAs([...patch, body], asCarol).stderr).toContain(
      'User "carol" cannot patch resource "driftrecords" in API group "converge.dev"',
    );
    expect(
      tryAs(['delete', 'driftrecord', approved.name, '-n', CONVERGE_NAMESPACE], asCarol).stderr,
    ).toContain('User "carol" cannot delete resource "driftrecords" in API group "converge.dev"');
    expect((await records(s.audit)).find((r) => r.name === approved.name)).toMatchObject({ actor: 'carol' });
  });

  it('lets no one outside the approver groups record a decision (403)', () => {
    const r = createAs('d-0000000000ab-approved', 'dave', 'dave', ['web-developers']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'User "dave" cannot create resource "driftrecords" in API group "converge.dev" in the namespace "converge-system"',
    );
    const cli = convergeAs(dave.kubeconfig, s.ws.dir, 'approve', 'd-0000000000ab');
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(
      /^converge: dave may not decide on drifts in converge-system \(GET .*: HTTP 403: .*\); approvers are the groups and users under drift\.approvers in Pulumi\.staging\.yaml, bound to the Role converge-drift-approvers-staging\n$/,
    );
  });

  it('fails when --by is given, naming the identity the record carries instead', () => {
    const r = convergeAs(carol.kubeconfig, s.ws.dir, 'approve', 'd-0000000000ab', '--by', 'alice');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'converge: --by is gone: the approval records your Kubernetes identity (carol), as the API server authenticates it; drop --by "alice", and to decide as someone else use their kubeconfig (--kubeconfig or --context)',
    );
  });
});

describe('restart safety', () => {
  // A Deployment each: heals of one object are its history, which a restart keeps (the audit
  // trail), so three heals of one object here would already count as a drift that keeps coming back.
  it.each([
    ['detected', { name: 'app-service-canary', namespace: NS, replicas: 1 }],
    ['healing', { name: 'model-service', namespace: 'staging-ml', replicas: 2 }],
    ['healed', { name: 'model-service-canary', namespace: 'staging-ml', replicas: 1 }],
  ] as const)(
    'finishes a remediation after being killed right after recording "%s", without lost or duplicated records',
    async (event, w) => {
      await s.controller.stop();
      s.controller.start({ pauseAfter: event });
      await s.controller.ready();
      const from = since();
      await scale(6, w);
      const first = await waitRecord('Deployment', w.name, event, from);
      await s.controller.kill();
      s.controller.start();
      await s.controller.ready();
      await waitFor(`replicas back to ${w.replicas}`, async () => (await replicas(w)) === w.replicas);
      await waitRecord('Deployment', w.name, 'restored', from);
      await new Promise((r) => setTimeout(r, 1500));
      const mine = (await recordsFor(s.audit, 'Deployment', w.name, from)).filter(
        (r) => r.driftId === first.driftId,
      );
      expect(mine.map((r) => r.name.slice(first.driftId.length + 1)).sort()).toEqual([
        'detected',
        'healed-1',
        'healing-1',
        'restored',
      ]);
    },
  );
});

describe('load and misbehaviour', () => {
  it('records a burst of 1000 drifts with bounded memory', async () => {
    const heap = () => s.controller.metric('converge_drift_controller_nodejs_heap_size_used_bytes');
    const rss = () => s.controller.metric('converge_drift_controller_process_resident_memory_bytes');
    const [rssBefore, heapBefore] = [await rss(), await heap()];
    // Drifts the tests before left open stay as they were; the burst's own must all end.
    const activeBefore = await s.controller.metric('converge_drift_active');
    expect(activeBefore).toBeGreaterThanOrEqual(0);
    const from = since();
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: Array.from({ length: 1000 }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `burst-${i}`, namespace: NS, labels: { burst: 'yes' } },
        data: { n: String(i) },
      })),
    };
    const t0 = performance.now();
    kubectl(['apply', '-f', '-'], JSON.stringify(list));
    const { ms: recordMs } = await waitFor(
      '1000 held drifts recorded',
      async () =>
        (await records(s.audit)).filter(
          (r) => r.event === 'held' && r.object.name.startsWith('burst-') && r.at >= from,
        ).length === 1000,
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    const [rssPeak, heapPeak] = [await rss(), await heap()];
    const all = (await records(s.audit)).filter((r) => r.object.name.startsWith('burst-') && r.at >= from);
    expect(all.filter((r) => r.event === 'detected')).toHaveLength(1000);
    expect(new Set(all.map((r) => r.name)).size).toBe(all.length);
    kubectl(['delete', 'configmap', '-n', NS, '-l', 'burst=yes', '--wait=false']);
    await waitFor(
      '1000 drifts restored',
      async () =>
        (await records(s.audit)).filter(
          (r) => r.event === 'restored' && r.object.name.startsWith('burst-') && r.at >= from,
        ).length === 1000,
      {
        timeoutMs: 300_000,
        intervalMs: 1000,
      },
    );
    // Bounded: the process ran the whole burst within its fixed heap (an unbounded one would have
    // died), and what it holds (drifts in flight, queue) goes back to what it was once they are over.
    await waitFor(
      'no drift in flight',
      async () =>
        (await s.controller.metric('converge_drift_active')) <= activeBefore &&
        (await s.controller.metric('converge_drift_queue_length')) === 0,
    );
    const heapAfter = await heap();
    const mb = (b: number) => Math.round(b / 2 ** 20);
    s.timings.burst = {
      recordAllMs: recordMs,
      allOverMs: performance.now() - t0,
      rssBeforeMb: mb(rssBefore),
      rssPeakMb: mb(rssPeak),
      heapBeforeMb: mb(heapBefore),
      heapPeakMb: mb(heapPeak),
      heapAfterMb: mb(heapAfter),
    };
    expect(s.controller.alive()).toBe(true);
    expect(Math.max(heapPeak, heapAfter)).toBeLessThan(HEAP_LIMIT_MB * 2 ** 20);
  });

  it('backs off from a drift that keeps coming back, and alerts once', async () => {
    const from = since();
    const before = s.hook.received.length;
    const end = Date.now() + 25_000;
    let n = 0;
    while (Date.now() < end) {
      await scale(7 + (n++ % 2));
      await new Promise((r) => setTimeout(r, 250));
    }
    // The last change stays until the backed-off heal comes.
    await waitFor('replicas back to 2', async () => (await replicas()) === 2, {
      timeoutMs: 600_000,
      intervalMs: 500,
    });
    const mine = await recordsFor(s.audit, 'Deployment', 'app-service', from);
    const heals = mine.filter((r) => r.event === 'healed');
    expect(heals.length).toBeGreaterThanOrEqual(2);
    expect(heals.length).toBeLessThanOrEqual(6);
    expect(mine.filter((r) => r.event === 'recurring')).toHaveLength(1);
    expect(s.hook.received.slice(before).filter((r) => r.body.type === 'recurring')).toHaveLength(1);
    s.timings.recurring = { scalesMade: n, heals: heals.length };
  });
});

describe('the in-cluster controller', () => {
  it("runs with only its ServiceAccount's least-privilege RBAC, and heals in the service namespaces", async () => {
    await s.controller.stop();
    const token = kubectl(['create', 'token', DRIFT_CONTROLLER_NAME, '-n', CONVERGE_NAMESPACE]).trim();
    const sa = 'system:serviceaccount:converge-system:converge-drift';
    // What it may and may not do, asked of the API server's authorizer.
    const can = (...args: string[]) => {
      try {
        return kubectl(['auth', 'can-i', ...args, '--as', sa]).trim();
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? '').trim();
      }
    };
    expect(can('patch', 'deployments', '-n', NS)).toBe('yes');
    expect(can('list', 'applications.argoproj.io', '-n', 'argocd')).toBe('yes');
    expect(can('create', 'driftrecords.converge.dev', '-n', 'converge-system')).toBe('yes');
    expect(can('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(can('patch', 'deployments', '-n', 'argocd')).toBe('no');
    expect(can('delete', 'driftrecords.converge.dev', '-n', 'converge-system')).toBe('no');
    expect(can('update', 'driftrecords.converge.dev', '-n', 'converge-system')).toBe('no');
    expect(can('patch', 'driftrecords.converge.dev', '-n', 'converge-system')).toBe('no');
    expect(can('patch', 'roles', '-n', NS)).toBe('no');

    const scoped = new WatchProcess(s.ws.dir, 'staging', 29466, {
      kubeconfig: kubeconfigWithToken(token, join(RESULTS_DIR, 'drift-sa.kubeconfig')),
      args: ['--namespaced'],
    });
    scoped.start();
    try {
      await scoped.ready();
      const from = since();
      // model-service: app-service has just been through the backoff test, and waits long to heal.
      const w: Workload = { name: 'model-service', namespace: 'staging-ml', replicas: 2 };
      await scale(4, w);
      await waitFor('replicas back to 2', async () => (await replicas(w)) === 2, { intervalMs: 50 });
      const healed = await waitRecord('Deployment', w.name, 'healed', from);
      expect(healed.actor).toBe('converge');
      expect(scoped.output).not.toMatch(/forbidden|403/i);
    } finally {
      await scoped.stop();
    }
  });
});
