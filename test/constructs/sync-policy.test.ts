import { SyncPolicy, SYNC_POLICY_PRESETS } from '../../model/sync-policy';

describe('SyncPolicy', () => {
  it('defaults to automated sync with prune, self-heal, retries and the safe sync options', () => {
    // GIVEN / WHEN
    const policy = new SyncPolicy();
    // THEN
    expect(policy.toJson()).toMatchSnapshot();
    expect(policy.toJson()).toMatchObject({
      automated: { enabled: true, prune: true, selfHeal: true, allowEmpty: false },
      retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
    });
    expect(policy.syncOptions).toEqual([
      'CreateNamespace=true',
      'ServerSideApply=true',
      'ApplyOutOfSyncOnly=true',
      'RespectIgnoreDifferences=true',
    ]);
  });

  it.each(Object.keys(SYNC_POLICY_PRESETS) as (keyof typeof SYNC_POLICY_PRESETS)[])(
    'has a %s preset that prunes and self-heals',
    (env) => {
      const policy = SyncPolicy.forEnvironment(env);
      expect(policy.prune).toBe(true);
      expect(policy.selfHeal).toBe(true);
    },
  );

  it('prunes last in prod and retries longer', () => {
    const prod = SyncPolicy.forEnvironment('prod');
    expect(prod.syncOptions).toContain('PruneLast=true');
    expect(prod.retry).toMatchObject({ limit: 10, backoffDuration: '10s', backoffMaxDuration: '5m' });
    expect(SyncPolicy.forEnvironment('dev').syncOptions).not.toContain('PruneLast=true');
  });

  it('applies overrides on top of a preset', () => {
    const policy = SyncPolicy.forEnvironment('prod', { selfHeal: false, retry: false });
    expect(policy.toJson().automated).toMatchObject({ prune: true, selfHeal: false });
    // Argo CD retries an automated sync 5 times when syncPolicy.retry is absent: off is limit 0.
    expect(policy.toJson().retry).toEqual({ limit: 0 });
  });

  it('leaves automation out entirely for manual sync', () => {
    const policy = new SyncPolicy({ automated: false, prune: undefined, selfHeal: undefined });
    expect(policy.toJson().automated).toBeUndefined();
  });

  it('round-trips through with() without losing options', () => {
    const policy = new SyncPolicy({ pruneLast: true, extraSyncOptions: ['Prune=confirm'] });
    expect(policy.with({}).syncOptions).toEqual(policy.syncOptions);
    expect(policy.with({ selfHeal: false }).selfHeal).toBe(false);
  });

  it("drops the preset's prune and self-heal when a preset is made manual", () => {
    // GIVEN / WHEN
    const policy = SyncPolicy.forEnvironment('prod', { automated: false });
    // THEN
    expect(policy.automated).toBe(false);
    expect(policy.toJson().automated).toBeUndefined();
    expect(policy.toProps()).toMatchObject({ prune: undefined, selfHeal: undefined, allowEmpty: undefined });
    // The rest of the preset still applies.
    expect(policy.retry).toMatchObject({ limit: 10, backoffDuration: '10s' });
    expect(policy.syncOptions).toContain('PruneLast=true');
  });

  it('keeps an explicit prune: false on a manual preset', () => {
    expect(SyncPolicy.forEnvironment('dev', { automated: false, prune: false }).automated).toBe(false);
  });

  it('lets undefined overrides keep the preset', () => {
    const policy = SyncPolicy.forEnvironment('prod', { retry: undefined, selfHeal: undefined });
    expect(policy.retry).toMatchObject({ limit: 10 });
    expect(policy.selfHeal).toBe(true);
  });

  it.each(['prune', 'selfHeal', 'allowEmpty'] as const)(
    'fails when %s is asked for without automated sync, naming it',
    (key) => {
      expect(() => new SyncPolicy({ automated: false, [key]: true })).toThrow(
        `'${key}' is true; it only acts on automated syncs, and automated is false; drop ${key} or set automated: true`,
      );
      expect(() => SyncPolicy.forEnvironment('staging', { automated: false, [key]: true })).toThrow(
        `'${key}' is true; it only acts on automated syncs`,
      );
    },
  );

  it('fails when allowEmpty is set without prune', () => {
    expect(() => new SyncPolicy({ prune: false, allowEmpty: true })).toThrow(
      "'allowEmpty' is true; it only applies when prune is true",
    );
  });

  it('fails when the retry limit is negative', () => {
    expect(() => new SyncPolicy({ retry: { limit: -1 } })).toThrow(
      "'retry.limit' is -1; it must be an integer from 0 to 100",
    );
  });

  it('fails when a backoff duration has no unit', () => {
    expect(() => new SyncPolicy({ retry: { backoffDuration: '5' } })).toThrow(
      `'retry.backoffDuration' is "5"; it must be a duration such as "30s"`,
    );
  });

  it('fails when an extra sync option is malformed', () => {
    expect(() => new SyncPolicy({ extraSyncOptions: ['Prune confirm'] })).toThrow(
      `'extraSyncOptions[0]' is "Prune confirm"; it must look like "Name=value"`,
    );
  });
});
