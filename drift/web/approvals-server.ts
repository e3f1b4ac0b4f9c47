import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { DRIFT_APPROVERS_ROLE, DRIFT_RECORD, DRIFT_VIEWERS_ROLE } from '../../model/constants';
import { redactCredentials } from '../../model/urls';
import { AuditLog, eventOf, StoredRecord } from '../audit';
import { driftsOf, DriftState } from '../controller/audit-trail';
import {
  Decision,
  DecisionError,
  DecisionProblem,
  Identity,
  mayNotDecide,
  recordDecision,
} from '../decisions';
import { redactFields } from '../engine/redact';
import { KubeApiError, KubeClient } from '../kube/client';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page';

/*
 * The approvals page's server: the page, and a JSON API it calls with the viewer's own Kubernetes
 * token. Each call is authenticated by a TokenReview and authorised by a SubjectAccessReview (list
 * to view, create to decide), and a decision is written with the viewer's token, so the API
 * server's RBAC and DriftApprovalPolicy judge the real requester, as for `converge approve`.
 * Node's http module is enough for four routes; a framework would add a dependency to audit.
 */

export interface ApprovalsServerOptions {
  readonly environment: string;
  /**
   * Where the DriftRecords are; undefined until the controller has read its stack file (the page
   * is bound before, so a port in use fails at once), and API calls answer 503 meanwhile.
   */
  readonly namespace: () => string | undefined;
  /** The controller's client: it asks the TokenReviews and SubjectAccessReviews. */
  readonly client: KubeClient;
  /** Every record the controller knows (its trail), for the list. */
  readonly records: () => readonly StoredRecord[];
  /** Finished drifts listed under "recent". @default 20 */
  readonly recent?: number;
  readonly log?: (line: string) => void;
}

/** What the list answers for one drift: its finding, redacted, and its records as a timeline. */
export interface DriftView {
  readonly id: string;
  readonly object: StoredRecord['object'];
  readonly application?: string;
  readonly change: string;
  readonly severity: string;
  readonly action: string;
  readonly rule: string;
  readonly who: string;
  readonly onset?: string;
  readonly detectedAt: string;
  readonly held: boolean;
  readonly closed: boolean;
  readonly fields: StoredRecord['fields'];
  readonly timeline: readonly {
    readonly event: string;
    readonly at: string;
    readonly actor: string;
    readonly groups?: readonly string[];
    readonly outcome?: string;
    readonly detail?: string;
  }[];
}

/** A refusal with its HTTP status; the message is what the page shows. */
class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF: Record<DecisionProblem, number> = {
  malformed: 400,
  unknown: 404,
  decided: 409,
  'not-held': 409,
  conflict: 409,
  forbidden: 403,
};

/** No inline script or style anywhere, so the policy needs no hash or nonce. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Nothing is cached: API answers name people and drifts, and the page is tiny.
  'Cache-Control': 'no-store',
};

const STATIC: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: PAGE_JS },
  '/app.css': { type: 'text/css; charset=utf-8', body: PAGE_CSS },
};

const MAX_BODY = 16 * 1024;
const MAX_REASON = 1000;
const DECIDE = /^\/api\/drifts\/([^/]+)\/(approve|reject)$/;

/**
 * A Host header this server answers: its own address, `localhost`, or any IP literal. A DNS
 * rebinding page reaches it under the attacker's host name, which is refused; the port is not
 * compared, since `kubectl port-forward` may map the page to another local port.
 */
export function hostAllowed(header: string | undefined, boundHost: string): boolean {
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === boundHost.toLowerCase() || bare === 'localhost' || isIP(bare) !== 0;
}

/** A KubeConfig for the same API server (URL, CA) that authenticates as the viewer's token. */
export function viewerConfig(kc: KubeConfig, token: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new HttpError(500, "the controller's kubeconfig has no current cluster");
  const viewer = new KubeConfig();
  viewer.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.server,
        caData: cluster.caData,
        caFile: cluster.caFile,
        skipTLSVerify: cluster.skipTLSVerify,
        tlsServerName: cluster.tlsServerName,
      },
    ],
    users: [{ name: 'viewer', token }],
    contexts: [{ name: 'viewer', cluster: cluster.name, user: 'viewer' }],
    currentContext: 'viewer',
  });
  return viewer;
}

/** A drift for the page: the finding's values redacted again, whoever wrote its records. */
function viewOf(drift: DriftState, records: readonly StoredRecord[]): DriftView {
  const f = drift.finding;
  return {
    id: f.id,
    object: f.object,
    application: f.application,
    change: f.change,
    severity: f.severity,
    action: f.action,
    rule: f.rule,
    who: f.who,
    onset: f.onset,
    detectedAt: drift.detectedAt,
    held: drift.pending,
    closed: drift.closed,
    fields: redactFields(f.object, f.fields),
    timeline: records
      .filter((r) => r.driftId === f.id)
      .map((r) => ({
        event: eventOf(r),
        at: r.at,
        actor: r.actor,
        groups: r.groups,
        outcome: r.outcome,
        detail: r.detail === undefined ? undefined : redactCredentials(r.detail),
      })),
  };
}

/** Held drifts, oldest first; then the latest others, newest first. */
export function listDrifts(
  records: readonly StoredRecord[],
  recent: number,
): { held: DriftView[]; recent: DriftView[] } {
  const drifts = driftsOf(records);
  return {
    held: drifts.filter((d) => d.pending).map((d) => viewOf(d, records)),
    recent: drifts
      .filter((d) => !d.pending)
      .reverse()
      .slice(0, recent)
      .map((d) => viewOf(d, records)),
  };
}

export class ApprovalsServer {
  private readonly recent: number;

  constructor(private readonly o: ApprovalsServerOptions) {
    this.recent = o.recent ?? 20;
  }

  /** Listens on the port (0 picks one) and host; resolves with the server, rejects on a bind error. */
  public listen(port: number, host = '127.0.0.1'): Promise<Server> {
    const server = createServer((req, res) => {
      this.handle(req, res, host).catch((err: unknown) => this.fail(res, err));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, boundHost: string): Promise<void> {
    if (!hostAllowed(req.headers.host, boundHost))
      throw new HttpError(
        421,
        `this page answers only to ${boundHost} or localhost; open it by that address (a request for another host name is refused, against DNS rebinding)`,
      );
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    const page = STATIC[path];
    if (page) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${path} takes GET`);
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type }).end(page.body);
      return;
    }
    if (path === '/api/drifts') {
      if (req.method !== 'GET') throw new HttpError(405, `${path} takes GET`);
      const namespace = this.namespace();
      const viewer = await this.authorise(req, 'list', namespace);
      this.json(res, 200, {
        environment: this.o.environment,
        namespace,
        viewer: viewer.identity,
        ...listDrifts(this.o.records(), this.recent),
      });
      return;
    }
    const decide = DECIDE.exec(path);
    if (decide) {
      if (req.method !== 'POST') throw new HttpError(405, `${path} takes POST`);
      const [, id, verb] = decide;
      const reason = await this.reasonOf(req);
      const namespace = this.namespace();
      const viewer = await this.authorise(req, 'create', namespace);
      const decision: Decision = verb === 'approve' ? 'approved' : 'rejected';
      const audit = new AuditLog(new KubeClient(viewerConfig(this.o.client.kc, viewer.token)), namespace);
      const record = await recordDecision(audit, {
        env: this.o.environment,
        id: decodeURIComponent(id),
        decision,
        identity: viewer.identity,
        reason,
      });
      this.o.log?.(`approvals page: ${record.driftId} ${decision} by ${record.actor}`);
      this.json(res, 200, {
        message: `${record.driftId} ${decision} by ${record.actor}: ${record.outcome}`,
        record: { driftId: record.driftId, event: record.event, actor: record.actor, groups: record.groups },
      });
      return;
    }
    throw new HttpError(404, `nothing at ${path}; the page is at /`);
  }

  /** `{"reason": "..."}` or nothing; a reason is optional, one line, at most 1000 characters. */
  private async reasonOf(req: IncomingMessage): Promise<string | undefined> {
    let text = '';
    for await (const chunk of req) {
      text += chunk;
      if (text.length > MAX_BODY) throw new HttpError(413, `the request body is over ${MAX_BODY} bytes`);
    }
    if (!text.trim()) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'the request body is not JSON; send {"reason": "..."} or nothing');
    }
    const reason = (body as { reason?: unknown } | null)?.reason;
    if (reason === undefined || reason === null || reason === '') return undefined;
    if (typeof reason !== 'string' || reason.length > MAX_REASON)
      throw new HttpError(400, `the reason must be text of at most ${MAX_REASON} characters`);
    return reason.trim() || undefined;
  }

  private namespace(): string {
    const namespace = this.o.namespace();
    if (namespace === undefined)
      throw new HttpError(
        503,
        'the controller is still loading its desired state; try again in a few seconds',
      );
    return namespace;
  }

  /**
   * Who the bearer token is (TokenReview) and whether they may `verb` DriftRecords in the records'
   * namespace (SubjectAccessReview), asked by the controller, which may ask (system:auth-delegator).
   */
  private async authorise(
    req: IncomingMessage,
    verb: 'list' | 'create',
    namespace: string,
  ): Promise<{ identity: Identity; token: string }> {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!token)
      throw new HttpError(
        401,
        'no token: paste your Kubernetes token (e.g. `kubectl create token <service-account>`, or the one in your kubeconfig) into the page; every call needs Authorization: Bearer <token>',
      );
    const review = await this.o.client.request<{
      status?: {
        authenticated?: boolean;
        error?: string;
        user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
      };
    }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const user = review?.status?.user;
    if (!review?.status?.authenticated || !user?.username)
      throw new HttpError(
        401,
        'the API server does not accept this token (TokenReview: not authenticated); paste a current token for this cluster',
      );
    const identity: Identity = { username: user.username, groups: user.groups ?? [] };
    const access = await this.o.client.request<{ status?: { allowed?: boolean; reason?: string } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          extra: user.extra,
          resourceAttributes: {
            namespace: namespace,
            verb,
            group: DRIFT_RECORD.group,
            resource: DRIFT_RECORD.plural,
          },
        },
      },
    );
    if (!access?.status?.allowed) {
      const why = `SubjectAccessReview: ${user.username} may not ${verb} ${DRIFT_RECORD.plural}.${DRIFT_RECORD.group} in ${namespace}`;
      throw new HttpError(
        403,
        verb === 'create'
          ? mayNotDecide(user.username, namespace, this.o.environment, why)
          : `${user.username} may not view drifts in ${namespace} (${why}); viewers need list on ${DRIFT_RECORD.plural}, which the Roles ${DRIFT_VIEWERS_ROLE}-${this.o.environment} and ${DRIFT_APPROVERS_ROLE}-${this.o.environment} grant to drift.viewers and drift.approvers in Pulumi.${this.o.environment}.yaml`,
      );
    }
    return { identity, token };
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res
      .writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' })
      .end(`${JSON.stringify(body)}\n`);
  }

  /** Every failure as `{"error": "..."}`, never a stack; unexpected ones are logged, tokens never are. */
  private fail(res: ServerResponse, err: unknown): void {
    const [status, message] =
      err instanceof HttpError
        ? [err.status, err.message]
        : err instanceof DecisionError
          ? [STATUS_OF[err.problem], err.message]
          : err instanceof KubeApiError && (err.status === 401 || err.status === 403)
            ? [
                502,
                `the controller may not review tokens or access (${err.message}); its ServiceAccount needs the ClusterRole system:auth-delegator`,
              ]
            : [500, (err as Error).message];
    if (status >= 500) this.o.log?.(`approvals page: ${message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.json(res, status, { error: message });
  }
}
