// The build recipe of every program tools/build.mjs builds: its Go package, version flags, and
// the run-time files copied out of its module. Node built-ins only, like build.mjs.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versions } from './paths.mjs';

/** tools/, where the wrapper modules are. */
export const here = dirname(fileURLToPath(import.meta.url));
const V = versions();
/** A family's entry in versions.json. */
export const fam = (f) => V.families[f];

/** -X flags that make a Kubernetes binary report its real version (else v0.0.0-master). */
function kubeVersionFlags() {
  const v = fam('kube').version;
  const [major, minor] = v.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
    `-X ${p}.gitVersion=${v}`,
    `-X ${p}.gitMajor=${major}`,
    `-X ${p}.gitMinor=${minor}`,
    `-X ${p}.gitTreeState=clean`,
  ]);
}

function argocdVersionFlags() {
  const p = 'github.com/argoproj/argo-cd/v3/common';
  const kubectl = readRequire('argocd', 'k8s.io/kubectl') || '';
  return [
    `-X ${p}.version=${fam('argocd').version.replace(/^v/, '')}`,
    `-X ${p}.gitTreeState=clean`,
    `-X ${p}.kubectlVersion=${kubectl}`,
  ];
}

const pulumiVersionFlag = () => [
  `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${fam('pulumi').version}`,
];

/**
 * Build recipes, in build order (most needed first). pkg is built inside tools/<family>/ unless
 * prepare() returns another directory (a scratch dir outside the repo).
 */
export const TOOLS = [
  {
    name: 'helm',
    pkg: 'helm.sh/helm/v4/cmd/helm',
    ldflags: () => [`-X helm.sh/helm/v4/internal/version.version=${fam('helm').version}`],
  },
  { name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3' },
  { name: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', ldflags: kubeVersionFlags },
  {
    name: 'kube-controller-manager',
    pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
    ldflags: kubeVersionFlags,
  },
  // No kubelet here: the scheduler binds Pods to kwok's fake Nodes.
  { name: 'kube-scheduler', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', ldflags: kubeVersionFlags },
  // Shares nearly all compiled packages with the two above, so it costs little; fresh machines lack it.
  { name: 'kubectl', pkg: 'k8s.io/kubernetes/cmd/kubectl', ldflags: kubeVersionFlags },
  { name: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwok', assets: kwokAssets, assetsRev: 1 },
  {
    name: 'argocd',
    pkg: 'github.com/argoproj/argo-cd/v3/cmd',
    ldflags: argocdVersionFlags,
    assets: argocdAssets,
    assetsRev: 2, // bump when argocdAssets changes, so caches refresh
    // Multi-call binary: the component is chosen by argv[0].
    aliases: [
      'argocd-application-controller',
      'argocd-applicationset-controller',
      'argocd-repo-server',
      'argocd-notifications',
      'argocd-server',
      'argocd-git-ask-pass',
    ],
  },
  {
    name: 'pulumi',
    pkg: 'github.com/pulumi/pulumi/pkg/v3/cmd/pulumi',
    tags: 'osusergo,grpcnotrace',
    ldflags: pulumiVersionFlag,
  },
  {
    name: 'pulumi-language-nodejs',
    pkg: fam('pulumi-language-nodejs').package,
    ldflags: () => [
      `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${fam('pulumi-language-nodejs').version}`,
    ],
  },
  {
    name: 'pulumi-resource-kubernetes',
    pkg: '.',
    prepare: preparePulumiKubernetes,
    // The provider reports a bare semver (4.25.0), as its release builds do.
    ldflags: () => [
      `-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${fam('pulumi-kubernetes').version.replace(/^v/, '')}`,
    ],
  },
  // The registry client the end-to-end suite pushes its test images with (no container runtime here).
  {
    name: 'crane',
    pkg: 'github.com/google/go-containerregistry/cmd/crane',
    ldflags: () => [
      `-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=${fam('crane').version}`,
    ],
  },
  // Blocked (see versions.json): kept so it builds the day its nested module is served. Its CRD
  // is copied out all the same (`up` applies it), since the module itself is served.
  {
    name: 'argocd-image-updater',
    pkg: 'github.com/argoproj-labs/argocd-image-updater/cmd',
    assets: imageUpdaterAssets,
    assetsRev: 1,
    ldflags: () => [
      `-X github.com/argoproj-labs/argocd-image-updater/pkg/version.version=${fam('argocd-image-updater').version.replace(/^v/, '')}`,
    ],
  },
];

export class BuildError extends Error {}

/** Version of a module as required in tools/<family>/go.mod (null if absent). */
export function readRequire(family, module) {
  const text = readFileSync(join(here, family, 'go.mod'), 'utf8');
  const esc = module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A replace pins the effective version, so it wins over the require line.
  const rep = text.match(new RegExp(`^\\s*(?:replace\\s+)?${esc}\\s*=>\\s*\\S+\\s+(v\\S+)`, 'm'));
  if (rep) return rep[1];
  const req = text.match(new RegExp(`^\\s*(?:require\\s+)?${esc}\\s+(v\\S+)`, 'm'));
  return req ? req[1] : null;
}

/** Module directory in the Go module cache, downloading it if needed. */
export function moduleDir(family) {
  const e = fam(family);
  const ref = `${e.module}@${e.moduleVersion || e.version}`;
  const r = spawnSync('go', ['mod', 'download', '-json', ref], {
    cwd: join(here, family),
    encoding: 'utf8',
    env: {
      ...process.env,
      GOTOOLCHAIN: e.goToolchain || 'local',
      ...(e.gonosumdb ? { GONOSUMDB: e.gonosumdb } : {}),
    },
  });
  let info = {};
  try {
    info = JSON.parse(r.stdout || '{}');
  } catch {
    /* reported below */
  }
  if (!info.Dir) throw new BuildError(`cannot download ${ref}: ${info.Error || (r.stderr || '').trim()}`);
  return info.Dir;
}

/** Copies a file out of the read-only module cache. */
function copyOut(src, dst) {
  mkdirSync(dirname(dst), { recursive: true });
  copyFileSync(src, dst);
  chmodSync(dst, 0o644);
}

/** kwok needs Stage objects (node/pod lifecycles); they ship as YAML in its module. */
function kwokAssets(outDir) {
  const dir = moduleDir('kwok');
  const files = ['node/fast', 'node/heartbeat-with-lease', 'pod/fast'].flatMap((sub) =>
    readdirSync(join(dir, 'kustomize', 'stage', sub))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .sort()
      .map((f) => join(dir, 'kustomize', 'stage', sub, f)),
  );
  const docs = files.map((f) =>
    readFileSync(f, 'utf8')
      .trim()
      .replace(/^---\n/, ''),
  );
  writeFileSync(join(outDir, 'stages.yaml'), docs.join('\n---\n') + '\n');
}

/**
 * Argo CD's CRDs and base config objects, applied by tools/cluster/main.mjs before its controllers
 * start; and git-verify-wrapper.sh, which the repo-server execs on every manifest generation
 * (its image ships it on PATH; without it every sync fails with "permission denied").
 */
function argocdAssets(outDir) {
  const dir = moduleDir('argocd');
  for (const sub of ['crds', 'base/config']) {
    for (const f of readdirSync(join(dir, 'manifests', sub))) {
      if (f.endsWith('.yaml') && f !== 'kustomization.yaml')
        copyOut(join(dir, 'manifests', sub, f), join(outDir, 'manifests', sub, f));
    }
  }
  copyOut(join(dir, 'hack', 'git-verify-wrapper.sh'), join(outDir, 'bin', 'git-verify-wrapper.sh'));
  chmodSync(join(outDir, 'bin', 'git-verify-wrapper.sh'), 0o755);
}

/** Image Updater's CRD (ImageUpdater), which `up` applies so synthesized ImageUpdater objects sync. */
function imageUpdaterAssets(outDir) {
  const dir = join(moduleDir('argocd-image-updater'), 'config', 'crd', 'bases');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')))
    copyOut(join(dir, f), join(outDir, 'crds', f));
}

/**
 * The provider's main package embeds schema files that are generated at release time and so are
 * missing from the module: build from a scratch copy of main.go with those files put beside it.
 */
function preparePulumiKubernetes(workDir) {
  const src = join(moduleDir('pulumi-kubernetes'), 'cmd', 'pulumi-resource-kubernetes');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  for (const f of readdirSync(src)) {
    if (f.endsWith('.go') && !f.endsWith('_test.go')) copyOut(join(src, f), join(workDir, f));
    if (f.endsWith('.json')) copyOut(join(src, f), join(workDir, f));
  }
  for (const [from, to] of [
    ['schema.json', 'schema-embed.json'],
    ['terraform-mapping.json', 'terraform-mapping-embed.json'],
  ]) {
    if (!existsSync(join(workDir, to))) {
      if (!existsSync(join(src, from)))
        throw new BuildError(`pulumi-kubernetes module has no cmd/pulumi-resource-kubernetes/${from}`);
      copyOut(join(src, from), join(workDir, to));
    }
  }
  // The scratch dir is its own copy of the wrapper module, so its requires and replaces apply.
  for (const f of ['go.mod', 'go.sum']) copyOut(join(here, 'pulumi-kubernetes', f), join(workDir, f));
  writeFileSync(
    join(workDir, 'go.mod'),
    readFileSync(join(workDir, 'go.mod'), 'utf8').replace(
      /^module .*$/m,
      'module converge.local/build/pulumi-resource-kubernetes',
    ),
  );
  return workDir;
}
