import { Check, validate } from './validators';

/**
 * Traffic split between the stable and canary versions of a service. One type for both
 * routing paths: the charts render it for `app-service` and `model-service`, and
 * `IstioCanary` renders it for services described in cdk8s.
 */
export interface CanaryWeights {
  /** Percent of traffic to the stable subset: always `100 - canary`. */
  readonly stable: number;
  /** Percent of traffic to the canary subset, 0 to 100. */
  readonly canary: number;
}

export const isCanaryWeight: Check<number> = (value) =>
  Number.isInteger(value) && value >= 0 && value <= 100
    ? undefined
    : 'it must be an integer between 0 and 100 (stable gets 100 - weight); set the percent of traffic the canary should get';

/** Validates a canary weight and derives the stable weight from it. */
export function canaryWeights(weight: number, path = 'canary.weight'): CanaryWeights {
  validate(path, weight, isCanaryWeight);
  return { stable: 100 - weight, canary: weight };
}

/** The JSON paths of the weights in a VirtualService, whatever the number of routes. */
export const VIRTUAL_SERVICE_WEIGHT_PATHS = ['.spec.http[].route[].weight'] as const;
