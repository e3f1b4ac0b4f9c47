// The Pulumi program: `pulumi up --stack <env>` deploys one environment of the platform.
import * as pulumi from '@pulumi/pulumi';
import { App } from 'cdk8s';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../model/errors';
import { PLATFORM_CONFIG_KEY } from '../model/constants';
import { parsePlatformConfig } from '../config/parse';
import { GitOpsPlatform } from '../constructs/platform/gitops-platform';
import { synthesizeCharts } from '../render/synthesize';
import { stackFileLabel, yamlLineLocator } from '../config/stack-file';
import { loadArgoCdManifests, UpstreamMissingError } from '../render/upstream';
import { packageRoot } from '../config/package-root';
import { clusterProvider } from './cluster-provider';
import { PlatformStack } from './platform-stack';

function program() {
  const stack = pulumi.getStack();
  const file = stackFileLabel(stack);
  const path = join(packageRoot(), file);
  const lineOf = existsSync(path)
    ? yamlLineLocator(readFileSync(path, 'utf8'), ['config', PLATFORM_CONFIG_KEY])
    : undefined;
  const config = parsePlatformConfig(new pulumi.Config().getObject('platform'), { file, lineOf });
  // The stack names the environment being deployed; a config declaring another one would deploy it there.
  if (config.environment !== stack) {
    const line = lineOf?.(['environment']);
    throw new ConfigError([
      `${line === undefined ? file : `${file}:${line}`}: ${PLATFORM_CONFIG_KEY}.environment is "${config.environment}"; ` +
        `it must be "${stack}", the name of the stack being deployed; fix the value, or select the stack named "${config.environment}"`,
    ]);
  }
  const converge = new pulumi.Config();

  const app = new App();
  const platform = new GitOpsPlatform(app, config.environment, {
    config,
    argoCdManifests: loadArgoCdManifests({ ha: config.argocd.ha }),
  });
  const files = synthesizeCharts([platform.argoCdChart, platform.platformChart]);
  const deployed = new PlatformStack(
    'platform',
    { objects: files.flatMap((f) => f.objects), skipAwait: converge.getBoolean('skipAwait') ?? false },
    { provider: clusterProvider() },
  );
  return {
    environment: config.environment,
    argocdNamespace: platform.argoCd.namespace,
    argocdVersion: platform.argoCd.version,
    project: platform.project.name,
    applicationSet: platform.applicationSet.name,
    applications: platform.applicationSet.applications.map((a) => a.metadata.name),
    serviceNamespaces: platform.project.destinations.map((d) => d.namespace),
    resourceCount: deployed.resourceCount,
  };
}

function run() {
  try {
    return program();
  } catch (err) {
    // Bad input ends with its one-line message, not a stack trace.
    if (
      err instanceof ConfigError ||
      err instanceof UpstreamMissingError ||
      (err as Error).name === 'ValidationError'
    ) {
      throw new pulumi.RunError((err as Error).message);
    }
    throw err;
  }
}

const outputs = run();
export const environment = outputs.environment;
export const argocdNamespace = outputs.argocdNamespace;
export const argocdVersion = outputs.argocdVersion;
export const project = outputs.project;
export const applicationSet = outputs.applicationSet;
export const applications = outputs.applications;
export const serviceNamespaces = outputs.serviceNamespaces;
export const resourceCount = outputs.resourceCount;
