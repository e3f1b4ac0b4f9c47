import type * as Pulumi from '@pulumi/pulumi';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { synthesizeEnvironment } from '../../render/environment';
import { BOOTSTRAP_MANIFESTS, ENVIRONMENTS, PLATFORM_MANIFEST } from '../../model/constants';
import { KubeObject } from '../../model/objects';
import { DEPLOY_PHASES, phaseOf, planDeployment } from '../../stacks/deploy-plan';

/*
 * The Pulumi program under runtime mocks: what each stack creates, in which order, with which
 * inputs. GIVEN a stack file, WHEN the program runs, THEN the recorded resources say.
 */

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

interface Run {
  readonly resources: Registered[];
  /** Logical name -> names of the resources it explicitly depends on. */
  readonly dependsOn: Map<string, string[]>;
  readonly outputs: Record<string, unknown>;
}

function stackConfig(env: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(__dirname, '..', '..', 'stacks', `Pulumi.${env}.yaml`), 'utf8')) as {
    config: Record<string, unknown>;
  };
  return doc.config;
}

/** Runs the program for a stack with mocks; resolves once every expected resource is registered. */
async function runProgram(env: string, config: Record<string, unknown>, expected: number): Promise<Run> {
  const resources: Registered[] = [];
  const dependsOn = new Map<string, string[]>();
  let pulumi!: typeof Pulumi;
  let program: Record<string, unknown> = {};
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pulumi = require('@pulumi/pulumi');
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          resources.push({ type: args.type, name: args.name, inputs: args.inputs });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      'converge',
      env,
      false,
    );
    pulumi.runtime.setAllConfig(
      Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      ),
    );
    // Run as `pulumi up` does: inside the root stack, where stack transformations see every resource's options.
    program = (await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        const deps = ([] as Pulumi.Resource[]).concat(
          (args.opts.dependsOn as Pulumi.Resource[] | undefined) ?? [],
        );
        dependsOn.set(
          args.name,
          deps.map((r) => (r as unknown as { __name: string }).__name),
        );
        return undefined;
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { ...require('../../stacks/index') };
    })) as Record<string, unknown>;
  });
  for (
    let i = 0;
    i < 500 &&
    resources.filter((r) => r.type.startsWith('kubernetes:') && !r.type.startsWith('pulumi:')).length <
      expected;
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value)
      ? await new Promise((resolve) => value.apply(resolve))
      : value;
  }
  return { resources, dependsOn, outputs };
}

const kubeResources = (run: Run) => run.resources.filter((r) => r.type.startsWith('kubernetes:'));
const nameOf = (o: KubeObject) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

jest.setTimeout(60_000);

describe.each(ENVIRONMENTS)('pulumi up --stack %s (mocked)', (env) => {
  const synthesized = synthesizeEnvironment(env);
  const bootstrap = (name: string) => (BOOTSTRAP_MANIFESTS as readonly string[]).includes(name);
  // Pulumi bootstraps; Argo CD applies the platform file from Git.
  const objects = synthesized.files.filter((f) => bootstrap(f.name)).flatMap((f) => f.objects);
  const fromGit = synthesized.files.find((f) => f.name === PLATFORM_MANIFEST)!.objects;
  let run: Run;
  beforeAll(async () => {
    run = await runProgram(env, stackConfig(env), objects.length);
  });

  it('bootstraps only: Argo CD, the namespaces and the root Application, nothing Git owns', () => {
    const names = new Set(kubeResources(run).map((r) => r.name));
    expect(fromGit.length).toBeGreaterThan(0);
    for (const o of fromGit) expect(names.has(nameOf(o))).toBe(false);
    const kinds = kubeResources(run).map((r) => r.type);
    expect(kinds).not.toContain('kubernetes:argoproj.io/v1alpha1:ApplicationSet');
    const root = kubeResources(run).find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Application')!;
    expect(root.inputs).toMatchObject({
      metadata: { name: `${env}-root` },
      spec: {
        project: `${env}-platform`,
        source: {
          path: `manifests/${env}`,
          directory: { include: PLATFORM_MANIFEST },
          targetRevision: synthesized.loaded.config.git.revision,
        },
      },
    });
  });

  it('creates one provider, one Platform component and exactly the bootstrap objects', () => {
    expect(run.resources.filter((r) => r.type === 'converge:index:Platform')).toHaveLength(1);
    const provider = run.resources.filter((r) => r.type === 'pulumi:providers:kubernetes');
    expect(provider).toHaveLength(1);
    expect(provider[0].inputs).toMatchObject({ enableServerSideApply: 'true' });
    expect(kubeResources(run)).toHaveLength(objects.length);
    expect(
      kubeResources(run)
        .map((r) => r.name)
        .sort(),
    ).toEqual(objects.map(nameOf).sort());
  });

  it("passes each object to the provider unchanged, under its kind's type token", () => {
    const root = objects.find((o) => o.kind === 'Application')!;
    const registered = kubeResources(run).find(
      (r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Application',
    )!;
    expect(registered.inputs).toEqual(root);
    expect(kubeResources(run).find((r) => r.name === 'argocd')!.type).toBe('kubernetes:core/v1:Namespace');
  });

  it('applies namespaces, then CRDs, then Argo CD, then the root project, then the root Application', () => {
    const phaseOfName = new Map(objects.map((o) => [nameOf(o), phaseOf(o)]));
    const order = kubeResources(run).map((r) => DEPLOY_PHASES.indexOf(phaseOfName.get(r.name)!));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Each phase explicitly waits for the one before it.
    const crd = run.dependsOn.get('applications.argoproj.io')!;
    expect(crd).toContain('argocd');
    expect(run.dependsOn.get('argocd/argocd-repo-server')).toContain('applications.argoproj.io');
    expect(run.dependsOn.get(`argocd/${env}-platform`)).toContain('argocd/argocd-repo-server');
    expect(run.dependsOn.get(`argocd/${env}-root`)).toEqual([`argocd/${env}-platform`]);
  });

  it('exports what it created', () => {
    expect(run.outputs).toMatchObject({
      environment: env,
      argocdNamespace: 'argocd',
      argocdVersion: expect.stringMatching(/^v3\./),
      rootApplication: `${env}-root`,
      platformManifests: `manifests/${env}/${PLATFORM_MANIFEST}`,
      gitRevision: synthesized.loaded.config.git.revision,
      resourceCount: objects.length,
    });
  });
});

describe('pulumi program options', () => {
  it('marks objects skipAwait when converge:skipAwait is set', async () => {
    const config = { ...stackConfig('dev'), 'converge:skipAwait': 'true' };
    const objects = synthesizeEnvironment('dev')
      .files.filter((f) => (BOOTSTRAP_MANIFESTS as readonly string[]).includes(f.name))
      .flatMap((f) => f.objects);
    const run = await runProgram('dev', config, objects.length);
    for (const r of kubeResources(run)) {
      expect(
        (r.inputs.metadata as { annotations: Record<string, string> }).annotations['pulumi.com/skipAwait'],
      ).toBe('true');
    }
  });

  /** Runs the program for `stack` with `platform` as its config; returns what it threw. */
  function programError(stack: string, platform: unknown): { error: Error | undefined; isRunError: boolean } {
    let result = { error: undefined as Error | undefined, isRunError: false };
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pulumi: typeof Pulumi = require('@pulumi/pulumi');
      pulumi.runtime.setMocks(
        { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
        'converge',
        stack,
        false,
      );
      pulumi.runtime.setAllConfig({ 'converge:platform': JSON.stringify(platform) });
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../stacks/index');
      } catch (err) {
        // RunError is how a Pulumi program ends with a message and no stack trace.
        result = { error: err as Error, isRunError: err instanceof pulumi.RunError };
      }
    });
    return result;
  }

  it('fails when the stack config is bad, with the one-line message and no stack trace', () => {
    const config = stackConfig('dev') as {
      'converge:platform': { services: { 'app-service': { canary: { weight: number } } } };
    };
    config['converge:platform'].services['app-service'].canary.weight = 150;
    const { error, isRunError } = programError('dev', config['converge:platform']);
    expect(isRunError).toBe(true);
    expect(error!.message).toMatch(
      /^stacks\/Pulumi\.dev\.yaml:\d+: converge:platform\.services\.app-service\.canary\.weight is 150; it must be an integer between 0 and 100/,
    );
  });

  it('fails when a service redeclares a value the platform sets, naming the line as converge synth does', () => {
    // GIVEN a service whose chart values redeclare `image`, which the constructs (not the schema) refuse
    const config = stackConfig('dev') as {
      'converge:platform': { services: { 'app-service': { values?: Record<string, unknown> } } };
    };
    config['converge:platform'].services['app-service'].values = { image: { tag: 'x' } };
    const { error, isRunError } = programError('dev', config['converge:platform']);
    // THEN the Pulumi program reports it through the same pipeline: file, line, key path, fix
    expect(isRunError).toBe(true);
    const line = readFileSync(join(__dirname, '..', '..', 'stacks', 'Pulumi.dev.yaml'), 'utf8')
      .split('\n')
      .findIndex((l) => l.trim() === 'app-service:');
    expect(error!.message).toBe(
      `stacks/Pulumi.dev.yaml:${line + 1}: converge:platform.services.app-service.values.image is {"tag":"x"}; ` +
        "'image' is set by the platform from services.app-service; remove it from values",
    );
  });

  it('fails when the stack is not the environment its config declares', () => {
    // GIVEN the staging stack carrying dev's config
    const { error, isRunError } = programError('staging', stackConfig('dev')['converge:platform']);
    // THEN nothing is deployed, and the one line says which value and which stack disagree
    expect(isRunError).toBe(true);
    const line = readFileSync(join(__dirname, '..', '..', 'stacks', 'Pulumi.staging.yaml'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('environment: staging'));
    expect(error!.message).toBe(
      `stacks/Pulumi.staging.yaml:${line + 1}: converge:platform.environment is "dev"; it must be "staging", ` +
        'the name of the stack being deployed; fix the value, or select the stack named "dev"',
    );
  });
});

describe('planDeployment', () => {
  const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  it('groups objects by phase in synth order', () => {
    const plan = planDeployment([
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'ApplicationSet',
        metadata: { name: 'a', namespace: 'argocd' },
      },
      ns('x'),
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'argocd' } },
      ns('y'),
    ]);
    expect(plan.get('namespaces')!.map((o) => o.metadata.name)).toEqual(['x', 'y']);
    expect(plan.get('argocd')!.map((o) => o.metadata.name)).toEqual(['d']);
    expect(plan.get('applications')!.map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('fails when an object is synthesized twice', () => {
    expect(() => planDeployment([ns('x'), ns('x')])).toThrow(
      'v1/Namespace//x is synthesized twice; every object needs one owner',
    );
  });
});
