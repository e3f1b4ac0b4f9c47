#!/usr/bin/env node
// Local control plane for the end-to-end suite, as plain processes (no containers, no kubelet):
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes that run Pods),
// redis, Argo CD (repo-server, argocd-server, application-controller, applicationset-controller,
// notifications) and a `git daemon` serving a bare clone of this repo, so Argo CD fetches charts/
// over git; its post-receive hook posts each push to argocd-server's webhook.
//
//   node tools/cluster/main.mjs up [--core]     start everything, wait until each part is ready
//                                              (--core: Kubernetes and kwok only, no redis/git/Argo CD)
//   node tools/cluster/main.mjs status          each component: pid, alive/dead, endpoint
//   node tools/cluster/main.mjs down            stop exactly what `up` started, remove the run dir
//   node tools/cluster/main.mjs restart NAME    restart one component with the current env
//   node tools/cluster/main.mjs restore-argocd  Argo CD's CRDs, config and processes as `up` left
//                                              them, after a `pulumi destroy` removed them
//   node tools/cluster/main.mjs git-sync        bring this repo's branches to the served bare repo
//   node tools/cluster/main.mjs env             print shell exports (KUBECONFIG, PATH, ...)
//
// What runs, in which order, is components.mjs; env knobs are config.mjs; see tools/README.md.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { toolsBinDir } from '../paths.mjs';
import {
  apiserverURL,
  argocdServerAddress,
  argocdServerURL,
  CLI,
  CONFIG,
  fail,
  gitURL,
  paths,
  registryAddress,
  registryURL,
  webhookURL,
} from './config.mjs';
import { GitSyncConflict, syncBranches } from './git-server.mjs';
import { KubeError } from './kube.mjs';
import { down, restart, restoreArgocd, up } from './lifecycle.mjs';
import { alive, readPids, ReadyError, StartError } from './processes.mjs';

/** How to log in with the argocd CLI; the password stays in its file. */
const loginCommand = () =>
  `argocd login ${argocdServerAddress} --plaintext --username admin --password "$(cat ${paths.argocdPassword})"`;

function printUsage(core) {
  const argocd = core
    ? ''
    : `
  Git server   ${gitURL}   (bare clone of ${CONFIG.gitSource}; charts at path charts/...)
  Argo CD      namespace ${CONFIG.argocdNamespace}; repo URL for Applications: ${gitURL}
  Argo CD API  ${argocdServerURL}   (plaintext; user admin, password in ${paths.argocdPassword})
               ${loginCommand()}
  Webhook      ${webhookURL}   (the Git server's post-receive hook posts each push here)
  Registry     ${registryURL}   (plain http, no auth; push with: crane push --insecure ... ${registryAddress}/NAME:TAG)`;
  console.log(`
  export KUBECONFIG=${paths.kubeconfig}
  export PATH=${toolsBinDir()}:$PATH
  kubectl get nodes

  API server   ${apiserverURL}   (admin token in ${paths.token}, group system:masters)${argocd}
  Logs         ${paths.logs}/
  Stop         ${CLI} down`);
}

async function upCommand(args) {
  const core = args.includes('--core');
  const outcome = await up({ core });
  if (outcome === 'started') printUsage(core);
  return outcome === 'failed' ? 1 : 0;
}

function status() {
  const pids = readPids();
  const names = Object.keys(pids);
  if (!names.length) {
    console.log(`cluster: no cluster in ${CONFIG.runDir}`);
    return 1;
  }
  let dead = 0;
  for (const n of names) {
    const e = pids[n];
    const ok = alive(e);
    if (!ok) dead++;
    console.log(
      `${n.padEnd(26)} ${String(e.pid).padEnd(8)} ${(ok ? 'alive' : 'DEAD').padEnd(6)} ${e.endpoint || ''}`,
    );
  }
  console.log(`\nKUBECONFIG=${paths.kubeconfig}\ngit: ${gitURL}`);
  if (pids['argocd-server'])
    console.log(`argocd-server: ${argocdServerURL} (webhook ${webhookURL})\nargocd login: ${loginCommand()}`);
  return dead ? 1 : 0;
}

function gitSync() {
  if (!existsSync(paths.bareRepo)) fail(`no running git server; run: ${CLI} up`);
  try {
    for (const line of syncBranches(CONFIG.gitSource, paths.bareRepo)) console.log(`git-sync: ${line}`);
  } catch (err) {
    if (err instanceof GitSyncConflict) fail(err.message);
    throw err;
  }
  return 0;
}

function printEnv() {
  console.log(
    `export KUBECONFIG=${paths.kubeconfig}\nexport PATH=${toolsBinDir()}:$PATH\nexport CONVERGE_GIT_URL=${gitURL}\nexport CONVERGE_REGISTRY=${registryAddress}`,
  );
  // The argocd CLI's own variables: its default server, reached without TLS.
  console.log(`export ARGOCD_SERVER=${argocdServerAddress}\nexport ARGOCD_OPTS=--plaintext`);
  return 0;
}

const commands = {
  up: upCommand,
  status,
  down: () => down(),
  restart: ([name]) => restart(name),
  'restore-argocd': () => restoreArgocd(),
  'git-sync': gitSync,
  env: printEnv,
};

// Run only as a program: tools/test/ imports the modules beside this one.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, ...args] = process.argv.slice(2);
  if (!Object.hasOwn(commands, cmd ?? '')) {
    console.error(`usage: ${CLI} up|status|down|restart NAME|restore-argocd|git-sync|env`);
    process.exit(2);
  }
  Promise.resolve(commands[cmd](args)).then(
    (code) => process.exit(code ?? 0),
    (err) => {
      const known = err instanceof StartError || err instanceof ReadyError || err instanceof KubeError;
      fail(known ? err.message : err.stack || err.message);
    },
  );
}
