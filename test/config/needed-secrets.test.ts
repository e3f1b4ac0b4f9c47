import { expectOneLine, lineOf, run, set, useScratchFolder } from './bad-input-helpers';

/* `services.<svc>.envFromSecrets`: the Secrets a service needs that Git does not hold. */

useScratchFolder();

describe('services.<svc>.envFromSecrets', () => {
  it('fails when a Secret name is not a Kubernetes object name', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['services', 'model-service', 'envFromSecrets'], ['Model_Key'])],
    });
    expectOneLine(
      result,
      `Pulumi.staging.yaml:${lineOf(result.text, '- Model_Key')}: converge:platform.services.model-service.envFromSecrets[0] is "Model_Key"; it must be a DNS subdomain`,
    );
  });

  it('fails when a Secret is listed twice', async () => {
    const result = await run(['synth', '--env', 'staging'], {
      env: 'staging',
      mutate: [set(['services', 'model-service', 'envFromSecrets'], ['api-key', 'api-key'])],
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('services.model-service.envFromSecrets[1]');
    expect(result.stderr).toContain('api-key');
  });
});
