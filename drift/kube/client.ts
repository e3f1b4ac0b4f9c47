import { KubeConfig } from '@kubernetes/client-node';
import { request as httpsRequest, RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { ConvergeError } from '../../model/errors';
import { groupOf } from '../../model/objects';

/*
 * Raw JSON requests on top of @kubernetes/client-node's KubeConfig (auth, TLS, contexts).
 * Drift needs objects exactly as the API server stores them: client-node's typed models rename
 * fields (`from` becomes `_from`) and turn timestamps into Dates, which would show as false drift.
 */

/** The cluster's answer to a request (or its silence): in the kubeconfig's or the cluster's hands. */
export class KubeApiError extends ConvergeError {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResource {
  readonly plural: string;
  readonly namespaced: boolean;
}

export class KubeClient {
  private readonly resources = new Map<string, Promise<Map<string, ApiResource>>>();
  /** Requests made, for reports and benchmarks. */
  public requests = 0;

  constructor(public readonly kc: KubeConfig) {}

  public async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster)
      throw new KubeApiError(0, 'the kubeconfig has no current cluster; pass --kubeconfig or --context');
    const url = new URL(path, cluster.server);
    const options: RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (data !== undefined)
      options.headers = {
        ...options.headers,
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(data),
      };
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 300) {
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              /* not JSON */
            }
            reject(new KubeApiError(status, `${method} ${path}: HTTP ${status}: ${message}`));
          } else {
            resolve((text ? JSON.parse(text) : undefined) as T);
          }
        });
      });
      // No answer at all (refused, unknown host, TLS): say which server, once, instead of a socket trace.
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new KubeApiError(
            0,
            `cannot reach the cluster at ${cluster.server} (${err.code ?? err.message}); check --kubeconfig and --context, or start the cluster`,
          ),
        ),
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  /** The REST resource of a kind, from discovery (one request per group version, cached). */
  public async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    let pending = this.resources.get(apiVersion);
    if (!pending) {
      const path = groupOf(apiVersion) ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        'GET',
        path,
      ).then(
        (list) =>
          new Map(
            list.resources
              .filter((r) => !r.name.includes('/'))
              .map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]),
          ),
        (err: unknown) => {
          if (err instanceof KubeApiError && err.status === 404) return new Map<string, ApiResource>();
          throw err;
        },
      );
      this.resources.set(apiVersion, pending);
    }
    return (await pending).get(kind);
  }

  public async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw new KubeApiError(404, `the cluster does not serve ${apiVersion} ${kind}`);
    const base = groupOf(apiVersion) ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${resource.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  /** Every object of a kind, across all namespaces (or in one), in one request. */
  public async list<T = Record<string, unknown>>(
    apiVersion: string,
    kind: string,
    query = '',
    namespace?: string,
  ): Promise<{ items: T[]; resourceVersion?: string }> {
    const list = await this.request<{ items: T[]; metadata?: { resourceVersion?: string } }>(
      'GET',
      `${await this.path(apiVersion, kind, namespace)}${query}`,
    );
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
  }
}
