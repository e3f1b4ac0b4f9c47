import { objectKey } from '../../model/objects';
import { AuditLog, AuditRecord, eventOf, findingOf, StoredRecord, storedForm } from '../audit';
import { DriftFinding } from '../engine/find-drift';

/*
 * The audit trail is the controller's memory: what it detected, decided and did, and what people
 * decided, per object. The reconciler reads a drift's state from its records every time (level
 * based), so a restarted controller carries on where the last one stopped.
 */

/** What the reconciler needs of the trail: an object's records, and a way to add one. */
export interface AuditTrail {
  /** Records of one object's drifts (by `objectKey`), oldest first. */
  recordsOf(key: string): readonly StoredRecord[];
  /** Creates a record; false when it already existed (writes are idempotent by name). */
  record(rec: AuditRecord): Promise<boolean>;
}

/** Events after which a drift is over: healed and verified, accepted by a person, or ignored. */
const CLOSING = ['restored', 'rejected', 'ignored'];

/** One drift as its records tell it. */
export class DriftState {
  public readonly events: ReadonlySet<string>;

  constructor(
    public readonly finding: DriftFinding,
    public readonly detectedAt: string,
    records: readonly StoredRecord[],
  ) {
    this.events = new Set(records.map(eventOf));
  }

  public get id(): string {
    return this.finding.id;
  }

  public has(event: string): boolean {
    return this.events.has(event);
  }

  /** Heals applied so far (`healed-N` records). */
  public get heals(): number {
    return [...this.events].filter((e) => /^healed-\d+$/.test(e)).length;
  }

  public get closed(): boolean {
    return CLOSING.some((e) => this.events.has(e));
  }

  /** Held, and neither approved nor rejected yet. */
  public get pending(): boolean {
    return this.has('held') && !this.has('approved') && !this.closed;
  }
}

/** Every drift of an object that has a `detected` record, oldest first. */
export function driftsOf(records: readonly StoredRecord[]): DriftState[] {
  const byId = new Map<string, StoredRecord[]>();
  for (const r of records) byId.set(r.driftId, [...(byId.get(r.driftId) ?? []), r]);
  const drifts: DriftState[] = [];
  for (const [, mine] of byId) {
    const detected = mine.find((r) => r.event === 'detected');
    if (detected) drifts.push(new DriftState(findingOf(detected), detected.at, mine));
  }
  return drifts.sort((a, b) => a.detectedAt.localeCompare(b.detectedAt));
}

/** The object's drift still in progress, if any: the latest one not over. */
export function openDrift(records: readonly StoredRecord[]): DriftState | undefined {
  return driftsOf(records)
    .filter((d) => !d.closed)
    .pop();
}

/** Whether a person rejected this drift, or the policy ignores it: its live state stands. */
export function accepted(records: readonly StoredRecord[], driftId: string): boolean {
  return records.some((r) => r.driftId === driftId && (r.event === 'rejected' || r.event === 'ignored'));
}

/** When the object was healed since a moment (ms), oldest first, across all its drifts. */
export function healTimes(records: readonly StoredRecord[], sinceMs: number): number[] {
  return records
    .filter((r) => r.event === 'healed')
    .map((r) => Date.parse(r.at))
    .filter((t) => t >= sinceMs)
    .sort((a, b) => a - b);
}

/** Whether a "recurring" alert went out for the object since a moment (ms). */
export function alertedSince(records: readonly StoredRecord[], sinceMs: number): boolean {
  return records.some((r) => r.event === 'recurring' && Date.parse(r.at) >= sinceMs);
}

/**
 * The trail in memory, indexed by object: loaded once from the cluster, fed by a watch on the
 * records (approvals from `converge approve` arrive that way) and by this process's own writes,
 * which count at once rather than when their watch event comes back.
 */
export class IndexedAuditTrail implements AuditTrail {
  private readonly byObject = new Map<string, StoredRecord[]>();
  private readonly names = new Set<string>();

  constructor(private readonly log: Pick<AuditLog, 'namespace' | 'record'>) {}

  public get namespace(): string {
    return this.log.namespace;
  }

  /** Adds a stored record; false when it is known already. */
  public add(rec: StoredRecord): boolean {
    if (this.names.has(rec.name)) return false;
    this.names.add(rec.name);
    const key = objectKey(rec.object);
    const list = this.byObject.get(key) ?? [];
    // In time order; records of the same moment stay in the order they were written.
    let i = list.length;
    while (i > 0 && list[i - 1].at > rec.at) i--;
    list.splice(i, 0, rec);
    this.byObject.set(key, list);
    return true;
  }

  public recordsOf(key: string): readonly StoredRecord[] {
    return this.byObject.get(key) ?? [];
  }

  public async record(rec: AuditRecord): Promise<boolean> {
    const created = await this.log.record(rec);
    this.add(storedForm(rec));
    return created;
  }

  /** Objects with a drift in progress. */
  public openKeys(): string[] {
    return [...this.byObject.keys()].filter((key) => openDrift(this.recordsOf(key)));
  }

  /** When (ms) the longest-waiting drift still held for a person was held; undefined when none waits. */
  public oldestPendingSince(): number | undefined {
    let oldest: number | undefined;
    for (const key of this.byObject.keys()) {
      const open = openDrift(this.recordsOf(key));
      if (!open?.pending) continue;
      const held = this.recordsOf(key).find((r) => r.driftId === open.id && r.event === 'held');
      const at = held ? Date.parse(held.at) : NaN;
      if (!Number.isNaN(at) && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }

  /** Every record known, oldest first (the DORA figures and the approvals page read them). */
  public all(): StoredRecord[] {
    return [...this.byObject.values()].flat().sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Drifts in progress, and those of them waiting for a person. */
  public counts(): { active: number; pending: number } {
    let active = 0;
    let pending = 0;
    for (const key of this.byObject.keys()) {
      const open = openDrift(this.recordsOf(key));
      if (!open) continue;
      active++;
      if (open.pending) pending++;
    }
    return { active, pending };
  }
}
