import { z } from 'zod';
import { isKubernetesNamespace } from '../model/constants';
import {
  isApiGroup,
  isDnsLabel,
  isGitRepoUrl,
  isHelmChartName,
  isHelmRepoUrl,
  isKind,
  isNonEmptyString,
  isRepoPath,
  isGitRevision,
  isRevision,
} from '../model/validators';
import { hasNoCredentials } from '../model/urls';
import { checked, redactedUrl } from './checked';
import { chartValues } from './inline-secrets';

/*
 * The schema of `addons.<name>`: third-party charts the platform team runs besides its services
 * (a mesh, cert-manager, monitoring). Each becomes an Application in an AppProject of its own that
 * allows exactly the add-on's repo, its namespace and the cluster-scoped kinds it declares.
 */

const addonRepoUrl = checked(
  z.string(),
  (v) =>
    v.includes('*')
      ? 'wildcards allow any repo; use the one repo URL the add-on reads from'
      : isGitRepoUrl(v) === undefined
        ? hasNoCredentials(v)
        : /^file:/i.test(v)
          ? isGitRepoUrl(v)
          : 'it must be a Helm repo URL (https://...) or a Git URL (https://, ssh://, git:// or git@host:path); use the URL of the repo that holds the chart',
  redactedUrl,
);

/** An add-on gets a namespace of its own: never one Kubernetes keeps for itself. */
const addonNamespace = checked(
  z.string(),
  (v) =>
    isDnsLabel(v) ??
    (isKubernetesNamespace(v)
      ? 'Kubernetes keeps it (and every "kube-" namespace) for itself, and the add-on\'s project would grant access to it; give the add-on a namespace of its own, e.g. "istio-system"'
      : undefined),
);

const wildcard = (what: string) =>
  `wildcards allow every ${what}; list each group and kind the add-on needs, e.g. { group: apiextensions.k8s.io, kind: CustomResourceDefinition }`;

/** A kind an add-on's project allows, named exactly: no `*`. */
const groupKindSchema = z.strictObject({
  group: checked(z.string(), isApiGroup(wildcard('group'))),
  kind: checked(z.string(), isKind(wildcard('kind'))),
});

const kindList = z.array(groupKindSchema).superRefine((kinds, ctx) => {
  kinds.forEach((gk, j) => {
    const i = kinds.findIndex((o) => o.group === gk.group && o.kind === gk.kind);
    if (i !== j) {
      ctx.addIssue({
        code: 'custom',
        path: [j],
        input: gk,
        message: `it is listed already at [${i}]; drop one`,
      });
    }
  });
});

const nonEmpty = checked(z.string(), isNonEmptyString);

/** Live fields Argo CD neither compares nor (with RespectIgnoreDifferences) syncs back. */
const ignoreDifferenceSchema = z
  .strictObject({
    group: z.string().optional(),
    kind: nonEmpty,
    name: z.string().optional(),
    namespace: z.string().optional(),
    jsonPointers: z
      .array(
        checked(z.string(), (v) =>
          v.startsWith('/')
            ? undefined
            : 'it must be a JSON pointer starting with "/", e.g. "/spec/replicas"',
        ),
      )
      .min(1)
      .optional(),
    jqPathExpressions: z.array(nonEmpty).min(1).optional(),
    managedFieldsManagers: z.array(nonEmpty).min(1).optional(),
  })
  .refine((r) => r.jsonPointers ?? r.jqPathExpressions ?? r.managedFieldsManagers, {
    message: 'name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers',
  });

export const addonSchema = z
  .strictObject({
    /** Helm repo (for `chart`) or Git repo (for `path`); the add-on's project allows this repo only. */
    repoURL: addonRepoUrl,
    /** Chart name in the Helm repo at repoURL, e.g. "base". Exactly one of chart and path. */
    chart: checked(z.string(), isHelmChartName).optional(),
    /** Folder of a Helm chart in the Git repo at repoURL. Exactly one of chart and path. */
    path: checked(z.string(), isRepoPath).optional(),
    /** Chart version for `chart`; branch, tag or commit for `path`. */
    revision: checked(z.string(), isRevision),
    /** Where the chart is installed: the only destination its project allows. */
    namespace: addonNamespace,
    /**
     * Whether the platform creates the namespace, as it does the services'. Argo CD never does
     * (CreateNamespace stays off, so no project needs Namespace): one owner per object. Set false
     * when something else owns it, e.g. the chart renders its own Namespace (then list that kind).
     */
    createNamespace: z.boolean().default(true),
    /** Chart values, passed to Helm as they are; secrets go in a Secret the chart references. */
    values: chartValues.default({}),
    /** Cluster-scoped kinds the chart renders, e.g. CustomResourceDefinition; none unless listed. */
    clusterResources: kindList.default([]),
    /** Namespaced kinds the chart may render. @default any kind, in the add-on's namespace only */
    namespaceResources: kindList.min(1).optional(),
    /** Fields a controller changes after install (a webhook's caBundle); Argo CD leaves them alone. */
    ignoreDifferences: z.array(ignoreDifferenceSchema).default([]),
    /** Over the environment's `sync`, for this add-on only. @default the environment's */
    sync: z
      .strictObject({
        /** Delete live objects the chart no longer renders. */
        prune: z.boolean().optional(),
        /** Revert changes made outside Git; off for a chart whose operator rewrites its own objects. */
        selfHeal: z.boolean().optional(),
      })
      .prefault({}),
  })
  .superRefine((addon, ctx) => {
    if (addon.chart !== undefined && addon.path !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        input: addon.path,
        message:
          "chart is set too; an add-on reads either a chart from a Helm repo ('chart') or a chart folder from a Git repo ('path'); keep one",
      });
    } else if (addon.chart === undefined && addon.path === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['chart'],
        input: undefined,
        message:
          "set 'chart' (the chart's name in the Helm repo at repoURL) or 'path' (the chart's folder in the Git repo at repoURL)",
      });
    } else if (addon.chart !== undefined && addonRepoUrl.safeParse(addon.repoURL).success) {
      const rule = isHelmRepoUrl(addon.repoURL);
      if (rule) ctx.addIssue({ code: 'custom', path: ['repoURL'], input: addon.repoURL, message: rule });
    }
    // A chart folder in Git: the revision is a branch, tag or commit (a chart's version stays semver-ish).
    if (addon.path !== undefined && addon.chart === undefined && isRevision(addon.revision) === undefined) {
      const rule = isGitRevision(addon.revision);
      if (rule) ctx.addIssue({ code: 'custom', path: ['revision'], input: addon.revision, message: rule });
    }
  });
