import { describeRef } from '../../model/objects';
import { DriftFinding } from '../engine/find-drift';
import { describeField } from '../report';

/* What a drift notification says, whatever the channel. */

export type NoticeKind = 'drift' | 'recovered' | 'recurring';

export interface DriftNotice {
  readonly kind: NoticeKind;
  readonly environment: string;
  readonly finding: DriftFinding;
  /** Seconds from onset to restore, for "recovered". */
  readonly timeToRestoreSeconds?: number;
  readonly detail?: string;
}

/** Where a notice went, and whether it arrived. */
export interface Delivery {
  readonly target: string;
  readonly ok: boolean;
  readonly detail: string;
}

export function headline(n: DriftNotice): string {
  const f = n.finding;
  const what = `${describeRef(f.object)} in ${n.environment}`;
  switch (n.kind) {
    case 'recovered':
      return `[recovered] ${what} is back in its Git state${n.timeToRestoreSeconds !== undefined ? ` after ${n.timeToRestoreSeconds.toFixed(1)} s` : ''}`;
    case 'recurring':
      return `[${f.severity}] ${what} keeps drifting: something is fighting Git (${n.detail ?? 'repeated heals'})`;
    default:
      return `[${f.severity}] ${what} drifted from Git (${f.change}); policy: ${f.action} (rule ${f.rule}); by ${f.who}`;
  }
}

/** One bullet per changed field, Git → live. */
export const fieldLines = (f: DriftFinding): string =>
  f.fields.map((x) => `• ${describeField(x)}`).join('\n');
