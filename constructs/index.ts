// The importable constructs. Re-exports only; importing it has no side effects.
export * from './argocd/notifications';
export * from './argocd/argocd-install';
export * from './argocd/argocd-project';
export * from './argocd/helm-application';
export * from './argocd/environment-application-set';
export * from './argocd/platform-addon';
export * from './istio/istio-canary';
export * from './drift/drift-policy';
export * from './drift/drift-record-crd';
export * from './drift/drift-controller';
export * from './platform/gitops-platform';
export * as argo from './imports/argoproj.io';
export * as istio from './imports/networking.istio.io';
