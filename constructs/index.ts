// The importable library. Re-exports only; importing it has no side effects.
export * from './constants';
export * from './validators';
export * from './canary/canary-weights';
export * from './config/platform-config';
export * from './config/parse-config';
export * from './argocd/sync-policy';
export * from './argocd/notifications';
export * from './argocd/argocd-install';
export * from './argocd/argocd-project';
export * from './argocd/helm-application';
export * from './argocd/environment-application-set';
export * from './istio/istio-canary';
export * from './platform/gitops-platform';
export * as argo from './imports/argoproj.io';
export * as istio from './imports/networking.istio.io';
export * from './synth/synthesize';
