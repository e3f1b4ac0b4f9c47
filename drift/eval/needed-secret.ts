import { randomBytes } from 'node:crypto';
import { isMap, isSeq } from 'yaml';
import { parseStackDocument } from '../../config/stack-file';
import { PLATFORM_CONFIG_KEY } from '../../model/constants';
import { UsageError } from '../../model/errors';
import { KubeObject } from '../../model/objects';

/*
 * The `delete-secret` scenario's object: a Secret the subject service needs that Git does not hold
 * (`services.<svc>.envFromSecrets`), as a credential made by hand is. The eval declares the need in
 * a copy of the stack file from Git, so the chart, `converge watch` and Argo CD's Application all
 * see the same desired state, and makes the Secret itself with a random value no output shows.
 */

/** The Secret's name: the service's, so two services' runs cannot share one. */
export const neededSecretName = (service: string) => `${service}-eval-credentials`;

/** The key the Secret holds; its value is random per run. */
export const NEEDED_SECRET_KEY = 'EVAL_API_TOKEN';

/**
 * The stack file's text with `services.<service>.envFromSecrets` also naming `secret`. Comments and
 * the rest of the file stay as written: `yaml`'s Document API edits only that list.
 */
export function withEnvFromSecret(text: string, file: string, service: string, secret: string): string {
  const { doc } = parseStackDocument(text, file);
  const servicePath = ['config', PLATFORM_CONFIG_KEY, 'services', service];
  if (!isMap(doc.getIn(servicePath, true)))
    throw new UsageError(
      `${file} declares no services.${service}; converge eval needs the subject service there to give it a Secret Git does not hold`,
    );
  const listPath = [...servicePath, 'envFromSecrets'];
  const list = doc.getIn(listPath, true);
  if (isSeq(list)) {
    if (!list.items.some((i) => String((i as { value?: unknown }).value ?? i) === secret)) list.add(secret);
  } else doc.setIn(listPath, doc.createNode([secret]));
  return doc.toString();
}

/** The Secret with a fresh random value (base64 in `data`, as the API server returns it). */
export function neededSecret(
  name: string,
  namespace: string,
  value = randomBytes(24).toString('hex'),
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'converge-eval' },
    },
    type: 'Opaque',
    data: { [NEEDED_SECRET_KEY]: Buffer.from(value).toString('base64') },
  };
}
