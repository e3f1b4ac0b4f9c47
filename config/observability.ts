import { Environment } from '../model/constants';
import { PlatformConfig } from './schema';

/** The environment's alert thresholds, as declared or by default. */
export interface AlertThresholds {
  readonly outOfSyncFor: string;
  readonly approvalPendingFor: string;
  readonly controllerDownFor: string;
  readonly notReconcilingFor: string;
  readonly flapping: { readonly heals: number; readonly window: string };
}

export interface ObservabilitySettings {
  readonly enabled: boolean;
  readonly alerts: AlertThresholds;
}

/**
 * Off in dev (no drift controller runs there, and a dev cluster rarely has the Prometheus
 * Operator, whose CRDs the objects need); on in staging and prod, where held drifts wait for
 * people and someone must hear of them. Prod's waits are the shortest: it pages sooner.
 */
const DEFAULTS: Record<Environment, ObservabilitySettings> = {
  dev: {
    enabled: false,
    alerts: {
      outOfSyncFor: '30m',
      approvalPendingFor: '24h',
      controllerDownFor: '15m',
      notReconcilingFor: '30m',
      flapping: { heals: 5, window: '30m' },
    },
  },
  staging: {
    enabled: true,
    alerts: {
      outOfSyncFor: '15m',
      approvalPendingFor: '4h',
      controllerDownFor: '5m',
      notReconcilingFor: '10m',
      flapping: { heals: 3, window: '30m' },
    },
  },
  prod: {
    enabled: true,
    alerts: {
      outOfSyncFor: '10m',
      approvalPendingFor: '1h',
      controllerDownFor: '2m',
      notReconcilingFor: '5m',
      flapping: { heals: 3, window: '15m' },
    },
  },
};

/** The environment's effective observability settings: each key as declared, else its default. */
export function observabilityFor(config: PlatformConfig): ObservabilitySettings {
  const d = DEFAULTS[config.environment];
  const o = config.observability;
  const a = o.alerts;
  return {
    enabled: o.enabled ?? d.enabled,
    alerts: {
      outOfSyncFor: a.outOfSyncFor ?? d.alerts.outOfSyncFor,
      approvalPendingFor: a.approvalPendingFor ?? d.alerts.approvalPendingFor,
      controllerDownFor: a.controllerDownFor ?? d.alerts.controllerDownFor,
      notReconcilingFor: a.notReconcilingFor ?? d.alerts.notReconcilingFor,
      flapping: {
        heals: a.flapping.heals ?? d.alerts.flapping.heals,
        window: a.flapping.window ?? d.alerts.flapping.window,
      },
    },
  };
}
