#!/usr/bin/env node
// `npm run demo`: builds what is missing, starts the local control plane, and deploys the dev
// stack with the real Pulumi CLI, from this repo served by the local Git server. Then it prints
// how to look around. Run it again to redeploy; `npm run cluster:down` stops everything.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, toolsBinDir } from './paths.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
const step = (what) => console.log(`\n== ${what}`);

step('building the tools (cached after the first time)');
run('node', ['tools/build.mjs']);
step('compiling');
run('npm', ['run', '--silent', 'build']);
step('starting the control plane, with Istio CRDs and this repo on the Git server');
await require(join(root, 'test', 'cluster', 'global-setup.js'))();

const dir = join(cacheRoot(), 'demo');
const kubeconfig = join(process.env.CONVERGE_RUN_DIR ?? join(cacheRoot(), 'run'), 'kubeconfig');
const gitURL = `git://127.0.0.1:${process.env.CONVERGE_GIT_PORT ?? 29418}/converge.git`;
mkdirSync(dir, { recursive: true });
const yaml = require('yaml');
const { pulumiHome } = require(join(root, 'tools', 'pulumi-home.js'));
writeFileSync(
  join(dir, 'Pulumi.yaml'),
  yaml.stringify({
    name: 'converge',
    runtime: { name: 'nodejs', options: { typescript: false } },
    main: join(root, 'dist', 'stacks', 'index.js'),
  }),
);
// Argo CD pulls dev from the Git server: commit dev's stack file pointed there, with its rendered
// manifests, as a developer would (once; a rerun finds it committed).
const releases = require(join(root, 'dist', 'tools', 'cluster', 'releases.js'));
if (releases.platformOnServer('dev').git?.repoURL !== gitURL) {
  step('committing dev, served by the local Git server, with its manifests');
  releases.release('dev', { 'git.repoURL': gitURL }, 'dev: served by the local Git server');
}
const stackFile = join(dir, 'Pulumi.dev.yaml');
const stack = yaml.parse(
  execFileSync('git', ['--git-dir', releases.BARE_REPO, 'show', 'main:stacks/Pulumi.dev.yaml'], {
    encoding: 'utf8',
  }),
);
stack.config['kubernetes:kubeconfig'] = kubeconfig;
const previous = existsSync(stackFile) ? yaml.parse(readFileSync(stackFile, 'utf8')) : {};
writeFileSync(
  stackFile,
  yaml.stringify({
    ...(previous?.encryptionsalt ? { encryptionsalt: previous.encryptionsalt } : {}),
    config: stack.config,
  }),
);

const env = {
  ...process.env,
  PATH: `${toolsBinDir()}:${process.env.PATH}`,
  PULUMI_BACKEND_URL: `file://${dir}`,
  PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? 'converge-demo',
  PULUMI_SKIP_UPDATE_CHECK: 'true',
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  PULUMI_HOME: pulumiHome(join(dir, '.pulumi-home')),
};
step('pulumi up --stack dev');
try {
  execFileSync('pulumi', ['stack', 'select', 'dev', '--create', '--non-interactive'], {
    cwd: dir,
    env,
    stdio: 'ignore',
  });
} catch {
  /* selected or created */
}
run('pulumi', ['up', '--stack', 'dev', '--yes', '--skip-preview', '--non-interactive'], { cwd: dir, env });
// Argo CD's controller reads argocd-cm / argocd-cmd-params-cm when it starts (as its pods would be
// rolled after a config change): restart it so self-heal runs with the platform's settings.
step("restarting Argo CD's application-controller with the platform's settings");
run('node', ['tools/cluster/main.mjs', 'restart', 'application-controller']);

console.log(`
The dev platform is bootstrapped. Argo CD applies manifests/dev/ and syncs app-service and
model-service from ${gitURL}; a change is a commit there (stack file plus \`converge synth\`).

  export KUBECONFIG=${kubeconfig} PATH=${toolsBinDir()}:$PATH
  kubectl get applications -n argocd                          # sync and health status of each service
  kubectl get pods -n dev-web                                 # stable and canary Pods (on kwok's fake nodes)
  kubectl scale deploy app-service -n dev-web --replicas=5   # drift: Argo CD puts it back
  npx converge drift --env dev --stacks-dir ${dir}            # Git against the cluster, by severity
  npx converge watch --env dev --stacks-dir ${dir}            # the drift controller (Ctrl-C to stop)

  pulumi stack output --cwd ${dir}                             # (with the env above and PULUMI_BACKEND_URL=file://${dir})
  npm run cluster:down                                         # stop everything
`);
