import { KubeConfig } from '@kubernetes/client-node';
import type { PlatformConfig } from '../../config/schema';
import { imageWriteBackFile } from '../../model/image-updates';
import { KubeClient } from '../kube/client';
import { KindInformer } from '../kube/informer';
import { SyncFailPolicy, SyncFailResponder, SyncFailDeps } from './responder';

/* The wiring: a watch on the environment's Applications in Argo CD's namespace, feeding the responder. */

const APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;

/** Each service's hooks.syncFail, with its write-back file; none when no service declares one. */
export function syncFailPolicies(config: PlatformConfig): Map<string, SyncFailPolicy> {
  const policies = new Map<string, SyncFailPolicy>();
  for (const [name, service] of Object.entries(config.services)) {
    const syncFail = service.hooks?.syncFail;
    if (!syncFail) continue;
    policies.set(name, {
      notify: syncFail.notify,
      rollback: syncFail.rollback,
      // Where Image Updater writes the tag (constructs/platform/gitops-platform.ts names the same file).
      writeBackFile: `${service.chart ?? `charts/${name}`}/${imageWriteBackFile(config.environment)}`,
    });
  }
  return policies;
}

export class SyncFailWatch {
  private informer?: KindInformer;
  private readonly responder: SyncFailResponder;

  constructor(
    private readonly client: KubeClient,
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly deps: SyncFailDeps,
  ) {
    this.responder = new SyncFailResponder(deps);
  }

  /** Starts the watch; false (and a log line) when the cluster serves no Argo CD Applications. */
  public async start(): Promise<boolean> {
    if (!(await this.client.resource(APPLICATION.apiVersion, APPLICATION.kind))) {
      this.deps.log?.('failed syncs are not answered: the cluster serves no Argo CD Applications');
      return false;
    }
    const informer = new KindInformer(this.client, this.kc, APPLICATION, this.namespace, {
      log: this.deps.log,
    });
    informer.on((event, obj) => {
      if (event === 'delete') return;
      // A record the API server refused now is retried with the Application's next update or resync.
      this.responder
        .respond(obj as Parameters<SyncFailResponder['respond']>[0])
        .catch((err: Error) =>
          this.deps.log?.(
            `answering the failed sync of ${obj.metadata.name} failed: ${err.message}; retrying on its next update`,
          ),
        );
    });
    this.informer = informer;
    await informer.start();
    return true;
  }

  /** Looks at every Application again (the controller's resync): what failed to record is retried. */
  public resync(): void {
    for (const app of this.informer?.list() ?? [])
      void this.responder
        .respond(app as Parameters<SyncFailResponder['respond']>[0])
        .catch((err: Error) =>
          this.deps.log?.(`answering the failed sync of ${app.metadata.name} failed: ${err.message}`),
        );
  }

  public async stop(): Promise<void> {
    await this.informer?.stop();
  }
}
