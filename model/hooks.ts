/* Argo CD resource hooks as the charts render them (charts/service-base/templates/_hooks.tpl). */

/** Marks an object as a hook: Argo CD runs it at a point of a sync and leaves it out of the diff. */
export const HOOK_ANNOTATION = 'argocd.argoproj.io/hook';

/** The phases a service's hooks run at, as the stack file names them and as Argo CD does. */
export const HOOK_PHASES = { preSync: 'PreSync', postSync: 'PostSync', syncFail: 'SyncFail' } as const;

/** Whether an object is an Argo CD hook (not part of what the Application keeps in sync). */
export const isHook = (object: { metadata?: { annotations?: Record<string, string> } }): boolean =>
  object.metadata?.annotations?.[HOOK_ANNOTATION] !== undefined;
