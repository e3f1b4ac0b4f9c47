import { API_KINDS } from './api-kinds.generated';
import { DRIFT_RECORD } from './constants';
import { closest } from './suggest';

/*
 * The kinds a drift rule may name: the pinned Kubernetes API and the CRDs the platform knows
 * (generated from the bindings), Converge's DriftRecord, and the custom resources a stack file
 * declares under drift.customResources.
 */

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

export class ApiKinds {
  private readonly kinds: readonly GroupKind[];

  constructor(custom: readonly GroupKind[] = []) {
    const generated = API_KINDS.map((gk) => {
      const slash = gk.lastIndexOf('/');
      return { group: gk.slice(0, slash), kind: gk.slice(slash + 1) };
    });
    this.kinds = [...generated, { group: DRIFT_RECORD.group, kind: DRIFT_RECORD.kind }, ...custom];
  }

  private groups(): Set<string> {
    return new Set(this.kinds.map((k) => k.group));
  }

  /** Why a rule's group is unknown, or undefined. `*` is any group. */
  groupProblem(group: string): string | undefined {
    if (group === '*' || this.groups().has(group)) return undefined;
    const near = closest(
      group,
      [...this.groups()].filter((g) => g !== ''),
    );
    return `no kind the platform knows is in this API group${near ? `; did you mean "${near}"?` : ''}; fix it, use "" for the core group, or declare the kind under drift.customResources`;
  }

  /** Why a rule's kind (a name or `*` glob) names no known kind in `group` (undefined: any group). */
  kindProblem(kind: string, group: string | undefined): string | undefined {
    const inGroup = this.kinds.filter((k) => group === undefined || group === '*' || k.group === group);
    const re = new RegExp(`^${kind.split('*').map(escape).join('.*')}$`);
    if (inGroup.some((k) => re.test(k.kind))) return undefined;
    const where = group === undefined || group === '*' ? '' : ` in group "${group}"`;
    if (kind.includes('*'))
      return `the pattern matches no kind${where}; fix it or declare the kind under drift.customResources`;
    const elsewhere = this.kinds.filter((k) => k.kind === kind).map((k) => `"${k.group}"`);
    if (elsewhere.length > 0) {
      return `${kind} is not${where}; it is in group ${[...new Set(elsewhere)].join(', ')} ("" is core); fix match.group`;
    }
    const near = closest(
      kind,
      inGroup.map((k) => k.kind),
    );
    return `no kind${where} is named so${near ? `; did you mean "${near}"?` : ''}; fix it or declare the kind under drift.customResources`;
  }
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
