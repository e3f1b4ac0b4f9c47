import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The drift controller's Prometheus metrics, on their own registry. */
export class DriftMetrics {
  public readonly registry = new Registry();
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
  public readonly pendingApprovals = new Gauge({
    name: 'converge_drift_pending_approvals',
    help: 'Drifts held for a human to approve or reject.',
    registers: [this.registry],
  });

  public readonly activeDrifts = new Gauge({
    name: 'converge_drift_active',
    help: 'Drifts detected and not yet over (restored, rejected or ignored).',
    registers: [this.registry],
  });
  public readonly queueLength = new Gauge({
    name: 'converge_drift_queue_length',
    help: 'Objects waiting to be checked.',
    registers: [this.registry],
  });

  constructor() {
    // Process metrics (resident memory, event loop lag) show the controller stays bounded.
    collectDefaultMetrics({ register: this.registry, prefix: 'converge_drift_controller_' });
  }

  /** Serves `/metrics` on the port (0 picks a free one); resolves with the server. */
  public serve(port: number, host = '0.0.0.0'): Promise<Server> {
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
