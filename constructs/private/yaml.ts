import { dump } from 'js-yaml';

/**
 * YAML text for a value embedded in a ConfigMap (Argo CD reads many settings as YAML strings).
 * js-yaml quotes YAML 1.1 ambiguities such as "on" and "yes", which Go's YAML readers would misread.
 */
export function toYamlBlock(value: unknown): string {
  return dump(value, { lineWidth: -1, noRefs: true });
}
