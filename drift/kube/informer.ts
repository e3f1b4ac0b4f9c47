import { KubeConfig, KubernetesListObject, ListWatch, Watch } from '@kubernetes/client-node';
import { KubeObject } from '../../model/objects';
import { KubeClient } from './client';
import { KindRef } from './live-state';

/*
 * A cache of one kind (in one namespace, or all) kept current by client-node's ListWatch: it
 * lists, then watches from that version, relists on 410 Gone and reports as deleted what vanished
 * while no watch ran. Lists go through KubeClient, so objects stay exactly as the API server
 * stores them (client-node's typed models rename fields and turn timestamps into Dates).
 */

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions {
  /** Wait before restarting a watch that ended in an error. @default 1000 */
  readonly retryMs?: number;
  readonly log?: (line: string) => void;
}

export class KindInformer {
  private informer?: ListWatch<KubeObject & { metadata: { name: string } }>;
  private readonly handlers: ((event: InformerEvent, obj: KubeObject) => void)[] = [];
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly kc: KubeConfig,
    public readonly kind: KindRef,
    public readonly namespace?: string,
    private readonly options: InformerOptions = {},
  ) {}

  /** Calls `handler` for every object added, changed or deleted, the first list included. */
  public on(handler: (event: InformerEvent, obj: KubeObject) => void): void {
    this.handlers.push(handler);
  }

  /** Lists and starts watching; resolves once the first list is in the cache. */
  public async start(): Promise<void> {
    const { apiVersion, kind } = this.kind;
    const path = await this.client.path(apiVersion, kind, this.namespace);
    const list = async (): Promise<KubernetesListObject<KubeObject & { metadata: { name: string } }>> => {
      const { items, resourceVersion } = await this.client.list<KubeObject>(
        apiVersion,
        kind,
        '',
        this.namespace,
      );
      // List items carry no apiVersion and kind; watch events do.
      return { metadata: { resourceVersion }, items: items.map((item) => ({ ...item, apiVersion, kind })) };
    };
    const informer = new ListWatch(path, new Watch(this.kc), list, false);
    const emit = (event: InformerEvent) => (obj: KubeObject) => {
      for (const h of this.handlers) h(event, { ...obj, apiVersion, kind });
    };
    informer.on('add', emit('add'));
    informer.on('update', emit('update'));
    informer.on('delete', emit('delete'));
    // ListWatch stops on an error other than 410: start it again, from a fresh list.
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.options.log?.(
        `watch of ${kind}${this.namespace ? ` in ${this.namespace}` : ''} ended: ${describe(err)}; restarting`,
      );
      setTimeout(() => {
        if (!this.stopped) void informer.start().catch(() => undefined);
      }, this.options.retryMs ?? 1000).unref();
    });
    this.informer = informer;
    await informer.start();
  }

  public get(namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.informer?.get(name, namespace);
    return obj && { ...obj, apiVersion: this.kind.apiVersion, kind: this.kind.kind };
  }

  public list(): KubeObject[] {
    return (this.informer?.list() ?? []).map((o) => ({
      ...o,
      apiVersion: this.kind.apiVersion,
      kind: this.kind.kind,
    }));
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
  }
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
