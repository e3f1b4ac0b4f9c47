// The Pulumi program: `pulumi up --stack <env>` deploys one environment of the platform.
import * as pulumi from '@pulumi/pulumi';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { displayPath, parseStackConfig, stackFileLabel, yamlLineLocator } from '../config/stack-file';
import {
  BOOTSTRAP_MANIFESTS,
  MANIFESTS_DIR,
  PLATFORM_CONFIG_KEY,
  PLATFORM_MANIFEST,
} from '../model/constants';
import { ConvergeError } from '../model/errors';
import { synthesizeLoaded } from '../render/environment';
import { clusterProvider } from './cluster-provider';
import { PlatformStack } from './platform-stack';

/**
 * The stack file Pulumi read the config from: `<project>/<stackConfigDir>/Pulumi.<stack>.yaml`,
 * where the program runs in the project's folder. Its lines make errors point at the right place.
 */
function stackFile(stack: string): { file: string; text?: string } {
  const project = join(process.cwd(), 'Pulumi.yaml');
  const dir = existsSync(project)
    ? ((parse(readFileSync(project, 'utf8')) as { stackConfigDir?: string } | null)?.stackConfigDir ?? '.')
    : '.';
  const path = join(process.cwd(), dir, `Pulumi.${stack}.yaml`);
  return existsSync(path)
    ? { file: displayPath(path), text: readFileSync(path, 'utf8') }
    : { file: stackFileLabel(stack) };
}

function program() {
  const stack = pulumi.getStack();
  const { file, text } = stackFile(stack);
  const lineOf = text === undefined ? undefined : yamlLineLocator(text, ['config', PLATFORM_CONFIG_KEY]);
  // The same pipeline as `converge synth`: the same checks, the same errors, the same objects.
  const loaded = parseStackConfig(new pulumi.Config().getObject('platform'), {
    file,
    lineOf,
    environment: stack,
    declaredBy: 'stack',
  });
  const { platform, files } = synthesizeLoaded(loaded);
  // Bootstrap only: Argo CD, the namespaces and the root Application. The root pulls the rest
  // (projects, ApplicationSet, drift controller) from manifests/<env>/ in Git.
  const bootstrap = files.filter((f) => (BOOTSTRAP_MANIFESTS as readonly string[]).includes(f.name));
  const deployed = new PlatformStack(
    'platform',
    {
      objects: bootstrap.flatMap((f) => f.objects),
      skipAwait: new pulumi.Config().getBoolean('skipAwait') ?? false,
    },
    { provider: clusterProvider() },
  );
  return {
    environment: loaded.environment,
    argocdNamespace: platform.argoCd.namespace,
    argocdVersion: platform.argoCd.version,
    rootApplication: platform.root.name,
    platformManifests: `${MANIFESTS_DIR}/${loaded.environment}/${PLATFORM_MANIFEST}`,
    gitRevision: loaded.config.git.revision,
    serviceNamespaces: platform.project.destinations.map((d) => d.namespace),
    resourceCount: deployed.resourceCount,
  };
}

function run() {
  try {
    return program();
  } catch (err) {
    // Bad input ends with its one-line message, not a stack trace.
    if (err instanceof ConvergeError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const outputs = run();
export const environment = outputs.environment;
export const argocdNamespace = outputs.argocdNamespace;
export const argocdVersion = outputs.argocdVersion;
export const rootApplication = outputs.rootApplication;
export const platformManifests = outputs.platformManifests;
export const gitRevision = outputs.gitRevision;
export const serviceNamespaces = outputs.serviceNamespaces;
export const resourceCount = outputs.resourceCount;
