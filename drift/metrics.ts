import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the controller's gauges report, read when `/metrics` is scraped. */
export interface ControllerState {
  /** Drifts held for a person to approve or reject. */
  pendingApprovals(): number;
  /** Drifts detected and not yet over. */
  activeDrifts(): number;
  /** Objects waiting to be checked. */
  queueLength(): number;
}

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
    help: 'From the drift onset (managedFields time, or the deletion) to its detection.',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  public readonly timeToRestore = new Histogram({
    name: 'converge_drift_time_to_restore_seconds',
    help: 'From the drift onset to the object being back in its Git state.',
    buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600],
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

  constructor() {
    // Process metrics (resident memory, event loop lag) show the controller stays bounded.
    collectDefaultMetrics({ register: this.registry, prefix: 'converge_drift_controller_' });
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
