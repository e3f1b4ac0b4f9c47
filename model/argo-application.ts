/*
 * The parts of an Argo CD Application (argoproj.io/v1alpha1) that Converge reads: the status gate,
 * DORA figures and the failed-sync response. One partial type, so the three read the same shape.
 */

export interface ArgoApplication {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: {
    readonly source?: { readonly repoURL?: string };
    readonly sources?: readonly { readonly repoURL?: string }[];
  };
  readonly status?: {
    readonly sync?: { readonly status?: string; readonly revision?: string; readonly revisions?: string[] };
    readonly health?: {
      readonly status?: string;
      readonly message?: string;
      readonly lastTransitionTime?: string;
    };
    /** One entry per successful sync. */
    readonly history?: readonly HistoryEntry[];
    /** The last operation; a failed sync is only here. */
    readonly operationState?: OperationState;
    readonly conditions?: readonly { readonly type?: string; readonly message?: string }[];
  };
}

export interface HistoryEntry {
  readonly id?: number;
  readonly revision?: string;
  readonly revisions?: readonly string[];
  readonly deployedAt?: string;
  readonly deployStartedAt?: string;
}

export interface OperationState {
  readonly phase?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly message?: string;
  readonly operation?: { readonly sync?: { readonly revision?: string; readonly revisions?: string[] } };
  readonly syncResult?: {
    readonly revision?: string;
    readonly revisions?: string[];
    readonly resources?: readonly SyncedResource[];
  };
}

/** One resource or hook of a sync's result. */
export interface SyncedResource {
  readonly kind?: string;
  readonly name?: string;
  readonly status?: string;
  readonly message?: string;
  readonly hookType?: string;
  readonly hookPhase?: string;
  readonly syncPhase?: string;
}
