import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SEVERITIES } from '../model/drift-policy';

/** What the controller's gauges report, read when `/metrics` is scraped. */
export interface ControllerState {
  /** Drifts held for a person to approve or reject. */
  pendingApprovals(): number;
  /** Drifts detected and not yet over. */
  activeDrifts(): number;
  /** Objects waiting to be checked. */
  queueLength(): number;
  /** Seconds since the oldest drift still waiting for a person was held; 0 when none waits. */
  oldestPendingApprovalSeconds(): number;
}

/** Buckets of the DORA histograms: from a minute up to a week (lead times of days are common). */
const DORA_BUCKETS = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800];

/** The drift controller's Prometheus metrics, on their own registry. */
export class DriftMetrics {
  public readonly registry = new Registry();
  private state?: ControllerState;
  public readonly detected = new Counter({
    name: 'converge_drift_detected_total',
    help: 'Drifts detected, by severity and kind.',
    labelNames: ['severity', 'kind'] as const,
    registers: [this.registry],
  });
  public readonly timeToDetect = new Histogram({
    name: 'converge_drift_time_to_detect_seconds',
    help:
      'From the drift onset (managedFields time, whole seconds; or the deletion the watch saw) to its detection, by severity. ' +
      'Drifts with no trustworthy onset are not observed here: see converge_drift_onset_unknown_total.',
    labelNames: ['severity'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  public readonly timeToRestore = new Histogram({
    name: 'converge_drift_time_to_restore_seconds',
    help:
      'From the drift onset to the object being back in its Git state, by severity. ' +
      'Drifts with no trustworthy onset are not observed here: see converge_drift_onset_unknown_total.',
    labelNames: ['severity'] as const,
    buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600],
    registers: [this.registry],
  });
  public readonly onsetUnknown = new Counter({
    name: 'converge_drift_onset_unknown_total',
    help:
      'Drifts detected with no trustworthy onset (no managedFields time newer than the last platform write, ' +
      'as after a write through /scale that kept an older time, or a deletion seen only on a relist): ' +
      'counted here instead of observing a made-up time to detect or restore.',
    labelNames: ['severity', 'kind'] as const,
    registers: [this.registry],
  });
  public readonly heals = new Counter({
    name: 'converge_drift_heals_total',
    help: 'Heals Converge applied to an object, by outcome (restored: the desired fields were applied; failed: the API server refused).',
    labelNames: ['kind', 'namespace', 'name', 'outcome'] as const,
    registers: [this.registry],
  });
  public readonly lastReconcile = new Gauge({
    name: 'converge_drift_last_reconcile_timestamp_seconds',
    help: 'Unix time of the last completed check of an object (every resync checks every object); 0 before the first.',
    registers: [this.registry],
  });
  public readonly doraDeployments = new Counter({
    name: 'converge_dora_deployments_total',
    help: "Deployments of an environment's Applications (Argo CD sync operations to a new revision), by outcome: succeeded, failed, or rolled_back (a rollback or a revert commit).",
    labelNames: ['environment', 'application', 'outcome'] as const,
    registers: [this.registry],
  });
  public readonly doraLeadTime = new Histogram({
    name: 'converge_dora_lead_time_seconds',
    help: 'DORA lead time for changes: from the commit time of a revision to its Application being Synced and Healthy at it.',
    labelNames: ['environment'] as const,
    buckets: DORA_BUCKETS,
    registers: [this.registry],
  });
  public readonly doraTimeToRestore = new Histogram({
    name: 'converge_dora_time_to_restore_seconds',
    help: 'DORA time to restore: drift onset to healed (cause drift), or a failed deployment to the next healthy one (cause failed_deployment).',
    labelNames: ['environment', 'cause'] as const,
    buckets: DORA_BUCKETS,
    registers: [this.registry],
  });
  public readonly doraChangeFailureRate = new Gauge({
    name: 'converge_dora_change_failure_rate',
    help: 'DORA change failure rate: failed and rolled-back deployments over all deployments the controller has seen in its window.',
    labelNames: ['environment'] as const,
    registers: [this.registry],
  });
  public readonly pendingApprovals = this.gauge(
    'converge_drift_pending_approvals',
    'Drifts held for a human to approve or reject.',
    (s) => s.pendingApprovals(),
  );
  public readonly activeDrifts = this.gauge(
    'converge_drift_active',
    'Drifts detected and not yet over (restored, rejected or ignored).',
    (s) => s.activeDrifts(),
  );
  public readonly queueLength = this.gauge(
    'converge_drift_queue_length',
    'Objects waiting to be checked.',
    (s) => s.queueLength(),
  );
  public readonly oldestPendingApproval = this.gauge(
    'converge_drift_oldest_pending_approval_seconds',
    'Age in seconds of the oldest drift held for approval and not yet decided; 0 when none waits.',
    (s) => s.oldestPendingApprovalSeconds(),
  );

  constructor() {
    // Process metrics (resident memory, event loop lag) show the controller stays bounded.
    collectDefaultMetrics({ register: this.registry, prefix: 'converge_drift_controller_' });
    // Each series from 0: one first scraped at count 1 never rises in rate(), so its first drift is unseen.
    for (const severity of SEVERITIES) {
      this.timeToDetect.zero({ severity });
      this.timeToRestore.zero({ severity });
    }
  }

  /** The gauges read the controller's state from here, at each scrape. */
  public track(state: ControllerState): void {
    this.state = state;
  }

  private gauge(name: string, help: string, read: (s: ControllerState) => number): Gauge {
    // Counted when scraped, from the controller's own state: never stale, never double counted.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        if (metrics.state) this.set(read(metrics.state));
      },
    });
  }

  /**
   * Serves `/metrics` on the port (0 picks a free one); resolves with the server. Loopback unless
   * told otherwise: the in-cluster Deployment passes 0.0.0.0 so Prometheus can scrape the pod IP.
   */
  public serve(port: number, host = '127.0.0.1'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('not found; metrics are at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
