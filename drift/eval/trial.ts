import { ScenarioName } from './scenarios';

/* One trial of the experiment, as it is written to trials.json. */

export const ARMS = ['converge', 'argocd', 'manual'] as const;
export type Arm = (typeof ARMS)[number];

export const ARM_TITLES: Record<Arm, string> = {
  converge: "Converge's drift controller, the environment's policy",
  argocd: "Argo CD's self-heal, its defaults",
  manual: 'manual: an operator model, then helm upgrade',
};

/** A stretch of a trial, and whether it was measured on the cluster or drawn from the operator model. */
export interface TrialPart {
  readonly what: string;
  readonly seconds: number;
  readonly modelled: boolean;
}

export type Outcome =
  /** The live object came back to its Git state. */
  | 'restored'
  /** Not back within the timeout: censored, kept, ranked above every restored trial. */
  | 'timeout'
  /** The policy holds this drift for a person's approval: by design not restored by the controller. */
  | 'held-for-approval'
  /** The fix itself failed (helm upgrade exited non-zero). */
  | 'failed';

export interface Trial {
  readonly scenario: ScenarioName;
  readonly arm: Arm;
  /** 1-based, per scenario and arm. */
  readonly trial: number;
  /** When the drift was made (the mutating request answered), RFC 3339. */
  readonly onset: string;
  /** When the reconciler (or the operator model) noticed it; null when nothing did. */
  readonly detected: string | null;
  /** When the live object was back in its Git state; null when censored. */
  readonly restored: string | null;
  readonly detectSeconds: number | null;
  /** Onset to restored; null when censored (`outcome` says why). */
  readonly restoreSeconds: number | null;
  readonly measuredSeconds: number;
  readonly modelledSeconds: number;
  /** What the restore time is made of, in order. */
  readonly parts: readonly TrialPart[];
  readonly outcome: Outcome;
  /** Where each time came from (records, a watch, the live object), and anything unusual. */
  readonly detail: string;
}

/** A trial's time to restore for the statistics: censored ones are Infinity (ranked last). */
export const restoreValue = (t: Trial): number => (t.restoreSeconds === null ? Infinity : t.restoreSeconds);

export const iso = (ms: number) => new Date(ms).toISOString();
export const seconds = (ms: number) => Math.round(ms) / 1000;
