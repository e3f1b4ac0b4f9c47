import { DriftApprovalPolicy } from '../../constructs/drift/approval-policy';
import { DriftApproverRole } from '../../constructs/drift/approver-role';
import { DriftViewerRole } from '../../constructs/drift/viewer-role';
import { DriftRecordCrd, IMMUTABLE_RECORD_MESSAGE } from '../../constructs/drift/drift-record-crd';
import { synthesizeEnvironment } from '../../render/environment';
import { ENVIRONMENTS } from '../../model/constants';
import { KubeObject } from '../../model/objects';
import { expectOneLine, lineOf, Mutation, run, set, useScratchFolder } from '../config/bad-input-helpers';
import { ofKind, only, synthObjects } from '../helpers';

/*
 * Authenticated decisions on held drifts: the API server's policy on who a decision names, the
 * immutable records, and the per-environment approver Role bound to the stack file's approvers.
 */

interface Validation {
  expression: string;
  message: string;
  messageExpression?: string;
}
interface PolicySpec {
  failurePolicy: string;
  matchConstraints: {
    namespaceSelector: unknown;
    resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[];
  };
  variables: { name: string; expression: string }[];
  validations: Validation[];
}
const specOf = (o: KubeObject) => o.spec as PolicySpec;

describe('DriftApprovalPolicy', () => {
  const objects = synthObjects(
    (chart) => new DriftApprovalPolicy(chart, 'Decisions', { environment: 'prod' }),
  );
  const policy = only(objects, 'ValidatingAdmissionPolicy');
  const spec = specOf(policy);

  it('makes the API server check who a decision names, failing closed', () => {
    expect(objects).toMatchSnapshot();
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.metadata.name).toBe('converge-drift-decisions-prod');
    expect(spec.failurePolicy).toBe('Fail');
    expect(spec.matchConstraints).toEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'converge-system' } },
      resourceRules: [
        {
          apiGroups: ['converge.dev'],
          apiVersions: ['*'],
          operations: ['CREATE'],
          resources: ['driftrecords'],
        },
      ],
    });
    expect(spec.variables).toEqual([
      { name: 'decision', expression: "object.spec.event in ['approved', 'rejected']" },
    ]);
  });

  it('requires a decision to name its requester, and any other record to come from the controller', () => {
    expect(spec.validations.map((v) => v.expression)).toEqual([
      '!variables.decision || object.spec.actor == request.userInfo.username',
      '!variables.decision || !has(object.spec.groups) || object.spec.groups.all(g, g in request.userInfo.groups)',
      "variables.decision || request.userInfo.username == 'system:serviceaccount:converge-system:converge-drift' || 'system:masters' in request.userInfo.groups",
    ]);
    expect(spec.validations[0].message).toContain('spec.actor must be your Kubernetes username');
    expect(spec.validations[2].message).toBe(
      'only the drift controller (system:serviceaccount:converge-system:converge-drift) records DriftRecords other than approved and rejected',
    );
  });

  it('binds the policy to deny, in the namespace and with the ServiceAccount given', () => {
    const objs = synthObjects(
      (chart) =>
        new DriftApprovalPolicy(chart, 'Decisions', {
          environment: 'staging',
          namespace: 'drift',
          controllerServiceAccount: 'watcher',
        }),
    );
    expect(only(objs, 'ValidatingAdmissionPolicyBinding')).toMatchObject({
      metadata: { name: 'converge-drift-decisions-staging' },
      spec: { policyName: 'converge-drift-decisions-staging', validationActions: ['Deny'] },
    });
    const s = specOf(only(objs, 'ValidatingAdmissionPolicy'));
    expect(s.matchConstraints.namespaceSelector).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'drift' },
    });
    expect(s.validations[2].expression).toContain("'system:serviceaccount:drift:watcher'");
  });

  it('fails when the namespace is not a DNS label', () => {
    expect(() =>
      synthObjects(
        (chart) => new DriftApprovalPolicy(chart, 'D', { environment: 'dev', namespace: 'Drift_NS' }),
      ),
    ).toThrow('\'namespace\' is "Drift_NS"');
  });
});

describe('DriftRecordCrd', () => {
  const crd = only(
    synthObjects((chart) => new DriftRecordCrd(chart, 'Records')),
    'CustomResourceDefinition',
  );
  interface SpecSchema {
    'x-kubernetes-validations': unknown;
    properties: Record<string, unknown>;
  }
  const schema = (
    crd.spec as { versions: { schema: { openAPIV3Schema: { properties: { spec: SpecSchema } } } }[] }
  ).versions[0].schema.openAPIV3Schema;

  it('refuses any change of a record: a transition rule on the spec', () => {
    expect(schema.properties.spec['x-kubernetes-validations']).toEqual([
      { rule: 'self == oldSelf', message: 'DriftRecords are never changed; record a new event instead' },
    ]);
    expect(IMMUTABLE_RECORD_MESSAGE).toBe('DriftRecords are never changed; record a new event instead');
  });

  it("stores a decision's groups", () => {
    expect(schema.properties.spec.properties.groups).toMatchObject({
      type: 'array',
      items: { type: 'string' },
    });
  });
});

describe('DriftApproverRole', () => {
  it('lets the approvers create and read records, never change one, bound to the groups and users', () => {
    const objects = synthObjects(
      (chart) =>
        new DriftApproverRole(chart, 'Approvers', {
          environment: 'prod',
          groups: ['platform-oncall', 'sre', 'platform-oncall'],
          users: ['alice@example.org'],
        }),
    );
    expect(objects).toMatchSnapshot();
    const role = only(objects, 'Role');
    expect(role.metadata).toMatchObject({
      name: 'converge-drift-approvers-prod',
      namespace: 'converge-system',
    });
    expect((role as unknown as { rules: unknown[] }).rules).toEqual([
      { apiGroups: ['converge.dev'], resources: ['driftrecords'], verbs: ['create', 'get', 'list', 'watch'] },
    ]);
    const binding = only(objects, 'RoleBinding') as unknown as {
      metadata: { name: string; namespace: string };
      roleRef: unknown;
      subjects: unknown[];
    };
    expect(binding.metadata).toMatchObject({
      name: 'converge-drift-approvers-prod',
      namespace: 'converge-system',
    });
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'converge-drift-approvers-prod',
    });
    expect(binding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'platform-oncall' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'sre' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice@example.org' },
    ]);
  });

  it('binds nobody when no approvers are declared: only cluster admins decide', () => {
    const objects = synthObjects(
      (chart) => new DriftApproverRole(chart, 'Approvers', { environment: 'dev' }),
    );
    expect(ofKind(objects, 'Role')).toHaveLength(1);
    expect(ofKind(objects, 'RoleBinding')).toHaveLength(0);
  });

  it.each([
    ['groups', 'system:masters', 'is a Kubernetes built-in group far wider than a team'],
    ['groups', 'platform-*', 'RBAC matches group names exactly, so "*" is no wildcard'],
    ['users', '', 'it must be a non-empty user name'],
  ])('fails when %s holds %j', (key, value, rule) => {
    expect(() =>
      synthObjects((chart) => new DriftApproverRole(chart, 'A', { environment: 'dev', [key]: [value] })),
    ).toThrow(
      `'${key}[0]' is ${JSON.stringify(value)}; ${value === 'system:masters' ? value + ' ' : ''}${rule}`,
    );
  });
});

describe('DriftViewerRole', () => {
  it('lets the viewers read records, never create or change one, bound to the groups and users', () => {
    const objects = synthObjects(
      (chart) =>
        new DriftViewerRole(chart, 'Viewers', {
          environment: 'prod',
          namespace: 'drift',
          groups: ['developers'],
          users: ['bob@example.org', 'bob@example.org'],
        }),
    );
    const role = only(objects, 'Role');
    expect(role.metadata).toMatchObject({ name: 'converge-drift-viewers-prod', namespace: 'drift' });
    expect((role as unknown as { rules: unknown[] }).rules).toEqual([
      { apiGroups: ['converge.dev'], resources: ['driftrecords'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = only(objects, 'RoleBinding') as unknown as { roleRef: unknown; subjects: unknown[] };
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'converge-drift-viewers-prod',
    });
    expect(binding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'developers' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob@example.org' },
    ]);
  });

  it('binds nobody when no viewers are declared', () => {
    const objects = synthObjects((chart) => new DriftViewerRole(chart, 'Viewers', { environment: 'dev' }));
    expect(ofKind(objects, 'Role')).toHaveLength(1);
    expect(ofKind(objects, 'RoleBinding')).toHaveLength(0);
  });

  it('fails when a viewer group is a built-in group, naming who it is for', () => {
    expect(() =>
      synthObjects(
        (chart) => new DriftViewerRole(chart, 'V', { environment: 'dev', groups: ['system:authenticated'] }),
      ),
    ).toThrow(
      `'groups[0]' is "system:authenticated"; system:authenticated is a Kubernetes built-in group far wider than a team; name the group of the people who read held drifts`,
    );
  });

  it('renders in every environment', () => {
    for (const env of ENVIRONMENTS) {
      const platform = synthesizeEnvironment(env).files[2].objects;
      expect(
        platform.filter((o) => o.kind === 'Role' && o.metadata.name === `converge-drift-viewers-${env}`),
      ).toHaveLength(1);
    }
  });
});

describe('the approvers of each environment', () => {
  const bindings = Object.fromEntries(
    ENVIRONMENTS.map((env) => {
      const platform = synthesizeEnvironment(env).files[2].objects;
      const role = platform.find(
        (o) => o.kind === 'Role' && o.metadata.name === `converge-drift-approvers-${env}`,
      );
      const binding = platform.find(
        (o) => o.kind === 'RoleBinding' && o.metadata.name === `converge-drift-approvers-${env}`,
      ) as unknown as { subjects: { kind: string; name: string }[] } | undefined;
      const policy = platform.find((o) => o.kind === 'ValidatingAdmissionPolicy');
      return [env, { role, policy, subjects: binding?.subjects.map((s) => `${s.kind}:${s.name}`) }];
    }),
  );

  it('has a Role and the decision policy in every environment', () => {
    for (const env of ENVIRONMENTS) {
      expect(bindings[env].role).toBeDefined();
      expect(bindings[env].policy?.metadata.name).toBe(`converge-drift-decisions-${env}`);
    }
  });

  it('binds the groups the stack files name: platform-team in staging, platform-oncall in prod, none in dev', () => {
    expect(bindings.dev.subjects).toBeUndefined();
    expect(bindings.staging.subjects).toEqual(['Group:platform-team']);
    expect(bindings.prod.subjects).toEqual(['Group:platform-oncall']);
  });
});

describe('drift.approvers in the stack file', () => {
  useScratchFolder();

  it.each<[string, Mutation[], string[]]>([
    [
      'an approver group is system:masters',
      [set(['drift', 'approvers'], { groups: ['system:masters'] })],
      [
        'drift.approvers.groups[0] is "system:masters"; system:masters is a Kubernetes built-in group far wider than a team; name the group of the people who approve, e.g. "platform-oncall"',
      ],
    ],
    [
      'an approver group is every authenticated user',
      [set(['drift', 'approvers'], { groups: ['system:authenticated'] })],
      [
        'drift.approvers.groups[0] is "system:authenticated"; system:authenticated is a Kubernetes built-in group',
      ],
    ],
    [
      'an approver group is a wildcard',
      [set(['drift', 'approvers'], { groups: ['*'] })],
      [
        'drift.approvers.groups[0] is "*"; RBAC matches group names exactly, so "*" is no wildcard; list each group by name',
      ],
    ],
    [
      'an approver user is empty',
      [set(['drift', 'approvers'], { users: [''] })],
      ['drift.approvers.users[0] is ""; it must be a non-empty user name without surrounding spaces'],
    ],
    [
      'an approver user is anonymous',
      [set(['drift', 'approvers'], { users: ['system:anonymous'] })],
      ['drift.approvers.users[0] is "system:anonymous"; system:anonymous is not a person'],
    ],
    [
      'an approver group is not a string',
      [set(['drift', 'approvers'], { groups: [42] })],
      ['drift.approvers.groups[0] is 42'],
    ],
  ])('fails when %s', async (_name, mutate, parts) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    expectOneLine(result, 'Pulumi.dev.yaml:', ...parts);
  });

  it.each<[string, Mutation[], string[]]>([
    [
      'a viewer group is every authenticated user',
      [set(['drift', 'viewers'], { groups: ['system:authenticated'] })],
      [
        'drift.viewers.groups[0] is "system:authenticated"; system:authenticated is a Kubernetes built-in group far wider than a team; name the group of the people who read held drifts',
      ],
    ],
    [
      'a viewer user is a node',
      [set(['drift', 'viewers'], { users: ['system:node:kwok-node-0'] })],
      ['drift.viewers.users[0] is "system:node:kwok-node-0"; system:node:kwok-node-0 is not a person'],
    ],
    ['drift.viewers is a list', [set(['drift', 'viewers'], ['developers'])], ['drift.viewers']],
  ])('fails when %s', async (_name, mutate, parts) => {
    const result = await run(['synth', '--env', 'dev'], { mutate });
    expectOneLine(result, 'Pulumi.dev.yaml:', ...parts);
  });

  it('takes drift.viewers groups and users', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['drift', 'viewers'], { groups: ['developers'], users: ['bob@example.org'] })],
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('fails when drift.approvers has an unknown key, naming its line', async () => {
    const result = await run(['synth', '--env', 'dev'], {
      mutate: [set(['drift', 'approvers'], { teams: ['platform-oncall'] })],
    });
    expectOneLine(
      result,
      `Pulumi.dev.yaml:${lineOf(result.text, 'approvers:')}: converge:platform.drift.approvers has unknown key 'teams'; remove it or fix its spelling`,
    );
  });
});
