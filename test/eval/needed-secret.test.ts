import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NEEDED_SECRET_KEY,
  neededSecret,
  neededSecretName,
  withEnvFromSecret,
} from '../../drift/eval/needed-secret';
import { scenarioFor } from '../../drift/eval/scenarios';
import { stackConfigFromText } from '../../config/stack-file';
import { UsageError } from '../../model/errors';
import { KubeObject } from '../../model/objects';

/* The `delete-secret` scenario's Secret: one the subject needs that Git does not hold. */

const DEV = readFileSync(join(__dirname, '..', '..', 'stacks', 'Pulumi.dev.yaml'), 'utf8');
const FILE = 'stacks/Pulumi.dev.yaml@abc';

describe('the stack file the eval composes', () => {
  it('gives the subject service envFromSecrets naming the eval Secret, the rest as written', () => {
    // GIVEN dev's stack file from Git
    // WHEN the eval adds its Secret to app-service
    const text = withEnvFromSecret(DEV, FILE, 'app-service', neededSecretName('app-service'));
    // THEN the parsed config has the need, and nothing else changed
    const before = stackConfigFromText('dev', DEV, FILE).config;
    const after = stackConfigFromText('dev', text, FILE).config;
    expect(after.services['app-service'].envFromSecrets).toEqual(['app-service-eval-credentials']);
    expect({
      ...after,
      services: { ...after.services, 'app-service': before.services['app-service'] },
    }).toEqual(before);
    // Comments stay: a person still recognizes the file.
    for (const line of DEV.split('\n').filter((l) => l.trim().startsWith('#')))
      expect(text).toContain(line.trim());
  });

  it('appends to a list the service already has, once', () => {
    const one = withEnvFromSecret(DEV, FILE, 'app-service', 'api-key');
    const two = withEnvFromSecret(one, FILE, 'app-service', 'app-service-eval-credentials');
    const again = withEnvFromSecret(two, FILE, 'app-service', 'app-service-eval-credentials');
    expect(stackConfigFromText('dev', again, FILE).config.services['app-service'].envFromSecrets).toEqual([
      'api-key',
      'app-service-eval-credentials',
    ]);
  });

  it('fails when the stack file declares no such service', () => {
    let err: unknown;
    try {
      withEnvFromSecret(DEV, FILE, 'no-such-service', 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe(
      'stacks/Pulumi.dev.yaml@abc declares no services.no-such-service; converge eval needs the subject service there to give it a Secret Git does not hold',
    );
  });
});

describe('the Secret the eval makes', () => {
  it('holds a random value, different each run, base64 as the API server returns it', () => {
    const a = neededSecret('s', 'ns');
    const b = neededSecret('s', 'ns');
    const value = (o: KubeObject) => (o.data as Record<string, string>)[NEEDED_SECRET_KEY];
    expect(value(a)).not.toBe(value(b));
    expect(Buffer.from(value(a), 'base64').toString()).toMatch(/^[0-9a-f]{48}$/);
    expect(Buffer.from(value(neededSecret('s', 'ns', 'fixed')), 'base64').toString()).toBe('fixed');
    expect(a.metadata).toMatchObject({ name: 's', namespace: 'ns' });
  });
});

describe('delete-secret on a Secret Git does not hold', () => {
  const secret = neededSecret('app-service-eval-credentials', 'dev-web', 'v1');
  const chartSecret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'in-git', namespace: 'dev-web' },
    data: { K: 'djE=' },
  };

  it('takes the Secret outside Git before any the chart renders, and says Git does not hold it', () => {
    const s = scenarioFor('delete-secret', [chartSecret], [secret])!;
    expect(s.desired).toBe(secret);
    expect(s.inGit).toBe(false);
    expect(s.mutation).toEqual({ method: 'DELETE' });
    expect(scenarioFor('delete-secret', [chartSecret])!.inGit).toBe(true);
    expect(scenarioFor('delete-configmap', [], [secret])).toBeUndefined();
  });

  it('is restored only when the Secret is back with the same data', () => {
    const s = scenarioFor('delete-secret', [], [secret])!;
    const live = (data: unknown, extra: Record<string, unknown> = {}) =>
      ({ ...secret, metadata: { ...secret.metadata, uid: 'u', ...extra }, data }) as KubeObject;
    expect(s.restored(undefined)).toBe(false);
    expect(s.restored(live(secret.data))).toBe(true);
    expect(s.restored(live({ [NEEDED_SECRET_KEY]: 'b3RoZXI=' }))).toBe(false);
    expect(s.restored(live(secret.data, { deletionTimestamp: 'x' }))).toBe(false);
  });
});
