import { defaultDriftPolicy, DriftPolicySpec, validateDriftPolicy } from '../model/drift-policy';
import { normaliseImage } from '../model/image-reference';
import { PlatformConfig } from './schema';

/** Image prefixes of the declared services, e.g. `ghcr.io/example-org/`: the trusted registries. */
export function declaredImagePrefixes(config: PlatformConfig): string[] {
  // Fully qualified first: `nginx` trusts `docker.io/library/`, never every registry.
  const prefixes = Object.values(config.services).map((s) => {
    const image = normaliseImage(s.image.repository);
    return image.slice(0, image.lastIndexOf('/') + 1);
  });
  return [...new Set(prefixes)].sort();
}

/** The environment's effective drift policy: its declared rules, or Converge's defaults. */
export function driftPolicyFor(config: PlatformConfig): DriftPolicySpec {
  const drift = config.drift;
  const defaults = defaultDriftPolicy(drift.trustedImagePrefixes ?? declaredImagePrefixes(config));
  return validateDriftPolicy({
    rules: drift.rules ?? defaults.rules,
    fallback: drift.fallback,
    ignoreManagers: drift.ignoreManagers ?? defaults.ignoreManagers,
    notify: drift.notify,
    backoff: drift.backoff,
  });
}
