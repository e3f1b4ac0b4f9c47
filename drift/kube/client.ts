import { KubeConfig } from '@kubernetes/client-node';
import { request as httpsRequest, RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConvergeError, firstLine, isSystemError, systemErrorLine } from '../../model/errors';
import { groupOf } from '../../model/objects';
import { redactCredentials, redactUrl } from '../../model/urls';
import { kubeconfigFileOf, plainOrQuoted } from './kubeconfig';

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

/** A host name or address of this machine only: nothing sent there crosses a network. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host.toLowerCase() === '0:0:0:0:0:0:0:1';
}

/**
 * Checks the kubeconfig's current context before any request, so a bad one is one line naming it:
 * a context, a cluster and a server URL that exist, and no plain http across a network. Returns the
 * warnings to show: a non-loopback cluster that skips TLS verification.
 *
 * Plain http is refused except to loopback (`kubectl proxy`, a local test server): elsewhere the
 * token or client key would cross the network in the clear. client-node itself allows it only
 * with `insecure-skip-tls-verify: true`, so loopback http needs that too.
 */
export function checkKubeConfig(kc: KubeConfig): string[] {
  const contextName = kc.getCurrentContext();
  const names = kc.getContexts().map((c) => c.name);
  const choose = names.length
    ? `pass --context with one of ${names.map(plainOrQuoted).join(', ')}, or run \`kubectl config use-context <name>\``
    : 'add a context to it, or pass another --kubeconfig';
  if (!contextName) throw new ConvergeError(`the kubeconfig has no current context; ${choose}`);
  const context = kc.getContextObject(contextName);
  if (!context)
    throw new ConvergeError(
      `the kubeconfig's current context ${JSON.stringify(contextName)} is not defined in it; ${choose}`,
    );
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new ConvergeError(
      `context ${JSON.stringify(contextName)} names cluster ${JSON.stringify(context.cluster)}, which the kubeconfig does not define; add it under clusters, or pass another --context`,
    );
  // Never the password a server URL may carry: every message shows it redacted.
  const server = redactUrl(cluster.server ?? '');
  let url: URL | undefined;
  try {
    url = new URL(cluster.server);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname)
    throw new ConvergeError(
      `cluster ${JSON.stringify(cluster.name)} of context ${JSON.stringify(contextName)} has server ${redactCredentials(JSON.stringify(cluster.server ?? ''))}, which is not an http(s) URL; set it to the API server's address, e.g. https://10.0.0.1:6443`,
    );
  const loopback = isLoopback(url.hostname);
  if (url.protocol === 'http:' && !loopback)
    throw new ConvergeError(
      `cluster ${JSON.stringify(cluster.name)} of context ${JSON.stringify(contextName)} has server ${server}: plain http to another machine would send the credentials unencrypted; use the API server's https address (plain http is allowed only to loopback, e.g. kubectl proxy)`,
    );
  if (url.protocol === 'http:' && !cluster.skipTLSVerify)
    throw new ConvergeError(
      `cluster ${JSON.stringify(cluster.name)} of context ${JSON.stringify(contextName)} has server ${server}: client-node sends plain http only with insecure-skip-tls-verify: true; set that on this loopback cluster, or use its https address`,
    );
  checkTlsMaterial(kc, cluster.name);
  return cluster.skipTLSVerify && !loopback
    ? [
        `${plainOrQuoted(contextName)} skips TLS verification (insecure-skip-tls-verify: true), so anyone between here and ${server} can read and change what converge sends, credentials included; set certificate-authority-data and remove insecure-skip-tls-verify`,
      ]
    : [];
}

/**
 * The current user's client key and certificate and the cluster's CA parse, so a broken one is a
 * line naming its file, entry and key; OpenSSL would fail later inside the request, naming nothing.
 */
function checkTlsMaterial(kc: KubeConfig, clusterName: string): void {
  const user = kc.getCurrentUser();
  const cluster = kc.getCluster(clusterName);
  const key = (b: Buffer) => createPrivateKey(b);
  const cert = (b: Buffer) => new X509Certificate(b);
  const items = [
    {
      kind: 'user',
      name: user?.name,
      key: 'client-key-data',
      data: user?.keyData,
      parse: key,
      what: 'a PEM private key',
    },
    {
      kind: 'user',
      name: user?.name,
      key: 'client-key',
      path: user?.keyFile,
      parse: key,
      what: 'a PEM private key',
    },
    {
      kind: 'user',
      name: user?.name,
      key: 'client-certificate-data',
      data: user?.certData,
      parse: cert,
      what: 'a PEM certificate',
    },
    {
      kind: 'user',
      name: user?.name,
      key: 'client-certificate',
      path: user?.certFile,
      parse: cert,
      what: 'a PEM certificate',
    },
    {
      kind: 'cluster',
      name: cluster?.name,
      key: 'certificate-authority-data',
      data: cluster?.caData,
      parse: cert,
      what: 'a PEM CA certificate',
    },
    {
      kind: 'cluster',
      name: cluster?.name,
      key: 'certificate-authority',
      path: cluster?.caFile,
      parse: cert,
      what: 'a PEM CA certificate',
    },
  ] as const;
  for (const item of items) {
    if (item.name === undefined) continue;
    const raw = 'data' in item ? item.data : item.path;
    if (!raw) continue;
    const file = kubeconfigFileOf(kc, item.kind, item.name) ?? 'the kubeconfig';
    const where = `${file}: ${item.kind} ${JSON.stringify(item.name)}`;
    let bytes: Buffer;
    try {
      bytes = 'data' in item ? Buffer.from(raw, 'base64') : readFileSync(raw);
    } catch (err) {
      throw new ConvergeError(
        `${where}: ${item.key} ${isSystemError(err) ? systemErrorLine(err, JSON.stringify(raw)) : 'cannot be read'}; point it at the file, or embed it as ${item.key}-data`,
      );
    }
    try {
      item.parse(bytes);
    } catch {
      // The value itself is never shown: it may be a real key.
      throw new ConvergeError(
        `${where}: ${item.key} is not ${item.what}${'data' in item ? ' in base64' : ` (${JSON.stringify(raw)})`}; replace it with the ${item.kind === 'user' ? 'credentials your cluster issued' : "cluster's CA"}, e.g. \`kubectl config set-${item.kind === 'user' ? 'credentials' : 'cluster'} ${item.name} --${item.key.replace(/-data$/, '')}=<file> --embed-certs\``,
      );
    }
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
    let url: URL;
    const server = redactUrl(cluster.server ?? '');
    const options: RequestOptions = { method, headers: { Accept: 'application/json' } };
    try {
      url = new URL(path, cluster.server);
      await this.kc.applyToHTTPSOptions(options);
    } catch (err) {
      // An unusable server URL, CA, client certificate or auth plugin: client-node's own words, once.
      throw new ConvergeError(
        `cannot use the kubeconfig's cluster ${JSON.stringify(server)}: ${redactCredentials(firstLine((err as Error).message))}; fix the kubeconfig or pass --context`,
      );
    }
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (data !== undefined)
      options.headers = {
        ...options.headers,
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(data),
      };
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      const send = () =>
        (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
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
              try {
                resolve((text ? JSON.parse(text) : undefined) as T);
              } catch {
                reject(
                  new KubeApiError(
                    status,
                    `${method} ${path}: ${server} answered HTTP ${status} with something that is not JSON; is it a Kubernetes API server? check --kubeconfig and --context`,
                  ),
                );
              }
            }
          });
        });
      let req: ReturnType<typeof send>;
      try {
        req = send();
      } catch (err) {
        // Node builds the TLS context here: a key or certificate OpenSSL refuses throws at once.
        reject(
          new KubeApiError(
            0,
            `cannot use the kubeconfig's credentials for ${server} (${redactCredentials(firstLine((err as Error).message))}); fix the user's client key and certificate, or pass --context`,
          ),
        );
        return;
      }
      // No answer at all (refused, unknown host, TLS): say which server, once, instead of a socket trace.
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new KubeApiError(
            0,
            err.code === 'ECONNREFUSED'
              ? `cannot reach the cluster at ${server} (ECONNREFUSED: nothing listens there); is the cluster up? check --kubeconfig and --context, or start the cluster`
              : `cannot reach the cluster at ${server} (${err.code ?? redactCredentials(firstLine(err.message))}); check --kubeconfig and --context, or start the cluster`,
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
