import { DRIFT_RECORD } from '../model/constants';
import { DriftEvent, ChangeType, DriftAction, FieldChange, Severity } from '../model/drift-policy';
import { DriftFinding } from './engine/find-drift';
import { redactFields } from './engine/redact';
import { ObjectRef } from '../model/objects';
import { KubeApiError, KubeClient } from './kube/client';

/*
 * The audit trail: one DriftRecord per drift and per action, created once and never changed.
 * Record names are derived from the drift id and the event, so writing the same record twice
 * (after a restart, say) is a no-op rather than a duplicate.
 */

export interface AuditRecord {
  readonly driftId: string;
  readonly event: DriftEvent;
  readonly environment: string;
  readonly object: ObjectRef;
  readonly application?: string;
  readonly change?: ChangeType;
  readonly fields?: readonly FieldChange[];
  readonly severity?: Severity;
  readonly action?: DriftAction;
  readonly rule?: string;
  readonly who?: string;
  readonly onset?: string;
  /** When the event happened (RFC 3339). */
  readonly at: string;
  /** Who took the action: `converge`, `argocd`, or a person's Kubernetes username. */
  readonly actor: string;
  /** A decision's author's Kubernetes groups, from the same SelfSubjectReview as `actor`. */
  readonly groups?: readonly string[];
  readonly outcome?: string;
  readonly detail?: string;
  /** Heal attempts are numbered, so each one gets its own record. */
  readonly attempt?: number;
}

/** A record as the cluster stores it: named after its drift and event, the attempt in its name. */
export interface StoredRecord extends Omit<AuditRecord, 'attempt'> {
  readonly name: string;
}

export const recordName = (driftId: string, event: DriftEvent, attempt?: number) =>
  `${driftId}-${event}${attempt ? `-${attempt}` : ''}`;

/** What a record says happened to its drift: its event, with the attempt (`healing-2`). */
export const eventOf = (rec: StoredRecord): string => rec.name.slice(rec.driftId.length + 1);

export const DRIFT_RECORD_API_VERSION = `${DRIFT_RECORD.group}/${DRIFT_RECORD.version}`;
const API_VERSION = DRIFT_RECORD_API_VERSION;
const DRIFT_ID_LABEL = 'converge.dev/drift-id';

/**
 * Values are stored redacted (findings already are; a record written from elsewhere is too), and
 * very large ones (whole objects) are cut to keep records small.
 */
function compactFields(
  object: ObjectRef,
  fields: readonly FieldChange[] | undefined,
): FieldChange[] | undefined {
  const cut = (v: unknown) => {
    const text = JSON.stringify(v);
    return text !== undefined && text.length > 2000 ? `${text.slice(0, 1997)}...` : v;
  };
  return (
    fields && redactFields(object, fields).map((f) => ({ path: f.path, from: cut(f.from), to: cut(f.to) }))
  );
}

export function recordFromFinding(
  finding: DriftFinding,
  event: DriftEvent,
  environment: string,
  at: Date,
  actor: string,
  extra: Partial<AuditRecord> = {},
): AuditRecord {
  return {
    driftId: finding.id,
    event,
    environment,
    object: finding.object,
    application: finding.application,
    change: finding.change,
    fields: finding.fields,
    severity: finding.severity,
    action: finding.action,
    rule: finding.rule,
    who: finding.who,
    onset: finding.onset,
    at: at.toISOString(),
    actor,
    ...extra,
  };
}

/** The record as stored: its name, large values cut, the attempt folded into the detail. */
export function storedForm(rec: AuditRecord): StoredRecord {
  const { attempt, ...spec } = rec;
  return {
    ...spec,
    name: recordName(rec.driftId, rec.event, attempt),
    fields: compactFields(spec.object, spec.fields),
    ...(attempt ? { detail: `${spec.detail ? `${spec.detail}; ` : ''}attempt ${attempt}` } : {}),
  };
}

/** The finding a drift's `detected` record holds. */
export function findingOf(detected: StoredRecord): DriftFinding {
  return {
    id: detected.driftId,
    object: detected.object,
    application: detected.application,
    change: detected.change ?? 'modified',
    fields: detected.fields ?? [],
    severity: detected.severity ?? 'low',
    action: detected.action ?? 'heal',
    rule: detected.rule ?? 'fallback',
    who: detected.who ?? 'unknown',
    onset: detected.onset,
  };
}

export class AuditLog {
  /** Records this process created (not those that already existed). */
  public created = 0;

  constructor(
    private readonly client: KubeClient,
    public readonly namespace: string,
  ) {}

  /** Creates the record; `false` when it already existed (the write is idempotent). */
  public async record(rec: AuditRecord): Promise<boolean> {
    const { name, ...spec } = storedForm(rec);
    const body = {
      apiVersion: API_VERSION,
      kind: DRIFT_RECORD.kind,
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [DRIFT_ID_LABEL]: rec.driftId, 'converge.dev/event': rec.event },
      },
      spec,
    };
    try {
      await this.client.request(
        'POST',
        await this.client.path(API_VERSION, DRIFT_RECORD.kind, this.namespace),
        body,
      );
      this.created++;
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** Every record in the namespace, oldest first. */
  public async list(): Promise<StoredRecord[]> {
    return this.query('');
  }

  /** The records of one drift (or failed sync), oldest first, by the id label each carries. */
  public async recordsOf(driftId: string): Promise<StoredRecord[]> {
    return this.query(`?labelSelector=${encodeURIComponent(`${DRIFT_ID_LABEL}=${driftId}`)}`);
  }

  private async query(query: string): Promise<StoredRecord[]> {
    const { items } = await this.client.request<{
      items: {
        metadata: { name: string; namespace: string; creationTimestamp: string };
        spec: AuditRecord;
      }[];
    }>('GET', `${await this.client.path(API_VERSION, DRIFT_RECORD.kind, this.namespace)}${query}`);
    return items
      .filter((i) => i.metadata.namespace === this.namespace)
      .map((i) => ({ ...i.spec, name: i.metadata.name }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.name.localeCompare(b.name));
  }

  public async path(): Promise<string> {
    return this.client.path(API_VERSION, DRIFT_RECORD.kind, this.namespace);
  }
}
