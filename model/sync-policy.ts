import { Environment } from './constants';
import { ValidationError } from './errors';
import { isDuration, isIntegerInRange, validate } from './validators';

/** An Application's `spec.syncPolicy`, as Argo CD reads it. */
export interface SyncPolicyJson {
  readonly automated?: {
    readonly enabled: boolean;
    readonly prune: boolean;
    readonly selfHeal: boolean;
    readonly allowEmpty: boolean;
  };
  readonly syncOptions: string[];
  readonly retry?: {
    readonly limit: number;
    readonly backoff?: { readonly duration: string; readonly factor: number; readonly maxDuration: string };
  };
}

/** How Argo CD retries a failed sync. */
export interface RetryOptions {
  /** Retries before giving up. @default 5 */
  readonly limit?: number;
  /** First wait between retries. @default "5s" */
  readonly backoffDuration?: string;
  /** Multiplier applied to the wait after each retry. @default 2 */
  readonly backoffFactor?: number;
  /** Longest wait between retries. @default "3m" */
  readonly backoffMaxDuration?: string;
}

export interface SyncPolicyProps {
  /** Sync automatically when Git changes. When false, a human presses sync. @default true */
  readonly automated?: boolean;
  /** Delete live objects that are no longer in Git. @default true */
  readonly prune?: boolean;
  /** Revert changes made to live objects outside Git. @default true */
  readonly selfHeal?: boolean;
  /** Allow a sync that would leave the Application with no objects. @default false */
  readonly allowEmpty?: boolean;
  /** Retry failed syncs with backoff; `false` turns retries off (`limit: 0`: Argo CD's own default is 5). @default { limit: 5, backoff 5s x2 up to 3m } */
  readonly retry?: RetryOptions | false;
  /** `CreateNamespace=true`: create the destination namespace. @default true */
  readonly createNamespace?: boolean;
  /** `ServerSideApply=true`: apply with server-side apply, so field ownership is tracked. @default true */
  readonly serverSideApply?: boolean;
  /** `PruneLast=true`: prune only after every other object is synced and healthy. @default false */
  readonly pruneLast?: boolean;
  /** `ApplyOutOfSyncOnly=true`: apply only the objects that differ. @default true */
  readonly applyOutOfSyncOnly?: boolean;
  /** `RespectIgnoreDifferences=true`: syncs leave ignored fields alone too. @default true */
  readonly respectIgnoreDifferences?: boolean;
  /** Further sync options, such as `Prune=confirm`. @default none */
  readonly extraSyncOptions?: readonly string[];
}

/** Per-environment presets: dev heals fast, prod prunes last and retries longer. */
export const SYNC_POLICY_PRESETS: Readonly<Record<Environment, SyncPolicyProps>> = {
  dev: { prune: true, selfHeal: true, retry: { limit: 5, backoffDuration: '5s', backoffMaxDuration: '1m' } },
  staging: {
    prune: true,
    selfHeal: true,
    retry: { limit: 5, backoffDuration: '5s', backoffMaxDuration: '3m' },
  },
  prod: {
    prune: true,
    selfHeal: true,
    pruneLast: true,
    retry: { limit: 10, backoffDuration: '10s', backoffMaxDuration: '5m' },
  },
};

/** Settings that only act on automated syncs. */
const AUTOMATION_ONLY = ['prune', 'selfHeal', 'allowEmpty'] as const;

/**
 * The sync policy of an Application: automation, prune, self-heal, retries and sync options.
 * A value object rather than an API object: HelmApplication and EnvironmentApplicationSet embed it.
 */
export class SyncPolicy {
  /**
   * The preset for an environment, with overrides on top; undefined overrides keep the preset.
   * `automated: false` drops the preset's prune, self-heal and allowEmpty, which only act on
   * automated syncs; asking for one of them explicitly is still an error.
   */
  public static forEnvironment(environment: Environment, overrides: SyncPolicyProps = {}): SyncPolicy {
    const preset = definedProps(
      SYNC_POLICY_PRESETS[environment],
      overrides.automated === false ? AUTOMATION_ONLY : [],
    );
    return new SyncPolicy({ ...preset, ...definedProps(overrides) });
  }

  public readonly automated: boolean;
  public readonly prune: boolean;
  public readonly selfHeal: boolean;
  public readonly allowEmpty: boolean;
  public readonly retry: Required<RetryOptions> | undefined;
  public readonly syncOptions: readonly string[];

  constructor(props: SyncPolicyProps = {}) {
    this.automated = props.automated ?? true;
    this.prune = props.prune ?? true;
    this.selfHeal = props.selfHeal ?? true;
    this.allowEmpty = props.allowEmpty ?? false;
    const manualOnly = this.automated ? undefined : AUTOMATION_ONLY.find((key) => props[key]);
    if (manualOnly !== undefined) {
      throw new ValidationError(
        manualOnly,
        true,
        `it only acts on automated syncs, and automated is false; drop ${manualOnly} or set automated: true`,
      );
    }
    if (this.allowEmpty && !this.prune) {
      throw new ValidationError(
        'allowEmpty',
        true,
        'it only applies when prune is true; set prune: true or drop allowEmpty',
      );
    }
    this.retry = props.retry === false ? undefined : resolveRetry(props.retry ?? {});
    const options: string[] = [];
    if (props.createNamespace ?? true) options.push('CreateNamespace=true');
    if (props.serverSideApply ?? true) options.push('ServerSideApply=true');
    if (props.pruneLast ?? false) options.push('PruneLast=true');
    if (props.applyOutOfSyncOnly ?? true) options.push('ApplyOutOfSyncOnly=true');
    if (props.respectIgnoreDifferences ?? true) options.push('RespectIgnoreDifferences=true');
    for (const [i, option] of (props.extraSyncOptions ?? []).entries()) {
      if (!/^[A-Za-z]+=[A-Za-z0-9-]+$/.test(option)) {
        throw new ValidationError(
          `extraSyncOptions[${i}]`,
          option,
          'it must look like "Name=value", e.g. "Prune=confirm"',
        );
      }
      if (!options.includes(option)) options.push(option);
    }
    this.syncOptions = options;
  }

  /** A copy with some settings changed, e.g. self-heal off for objects that wait for approval. */
  public with(overrides: SyncPolicyProps): SyncPolicy {
    return new SyncPolicy({ ...this.toProps(), ...overrides });
  }

  public toProps(): SyncPolicyProps {
    const has = (name: string) => this.syncOptions.includes(`${name}=true`);
    const known = [
      'CreateNamespace',
      'ServerSideApply',
      'PruneLast',
      'ApplyOutOfSyncOnly',
      'RespectIgnoreDifferences',
    ];
    return {
      automated: this.automated,
      prune: this.automated ? this.prune : undefined,
      selfHeal: this.automated ? this.selfHeal : undefined,
      allowEmpty: this.automated ? this.allowEmpty : undefined,
      retry: this.retry ?? false,
      createNamespace: has('CreateNamespace'),
      serverSideApply: has('ServerSideApply'),
      pruneLast: has('PruneLast'),
      applyOutOfSyncOnly: has('ApplyOutOfSyncOnly'),
      respectIgnoreDifferences: has('RespectIgnoreDifferences'),
      extraSyncOptions: this.syncOptions.filter((o) => !known.some((k) => o === `${k}=true`)),
    };
  }

  /** The `spec.syncPolicy` block of an Application. */
  public toJson(): SyncPolicyJson {
    return {
      automated: this.automated
        ? { enabled: true, prune: this.prune, selfHeal: this.selfHeal, allowEmpty: this.allowEmpty }
        : undefined,
      syncOptions: [...this.syncOptions],
      // Argo CD retries an automated sync 5 times when retry is absent; only limit 0 turns it off.
      retry: this.retry
        ? {
            limit: this.retry.limit,
            backoff: {
              duration: this.retry.backoffDuration,
              factor: this.retry.backoffFactor,
              maxDuration: this.retry.backoffMaxDuration,
            },
          }
        : { limit: 0 },
    };
  }
}

/** The props that are set, less those named in `drop`. */
function definedProps(props: SyncPolicyProps, drop: readonly string[] = []): SyncPolicyProps {
  return Object.fromEntries(
    Object.entries(props).filter(([key, value]) => value !== undefined && !drop.includes(key)),
  );
}

function resolveRetry(retry: RetryOptions): Required<RetryOptions> {
  return {
    limit: validate('retry.limit', retry.limit ?? 5, isIntegerInRange(0, 100, 'use 0 for no retries')),
    backoffDuration: validate('retry.backoffDuration', retry.backoffDuration ?? '5s', isDuration),
    backoffFactor: validate(
      'retry.backoffFactor',
      retry.backoffFactor ?? 2,
      isIntegerInRange(1, 10, 'use 2 to double the wait'),
    ),
    backoffMaxDuration: validate('retry.backoffMaxDuration', retry.backoffMaxDuration ?? '3m', isDuration),
  };
}
