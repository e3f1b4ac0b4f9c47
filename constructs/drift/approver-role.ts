import { Construct } from 'constructs';
import { DRIFT_APPROVERS_ROLE } from '../../model/constants';
import { DriftRecordsRole, DriftRecordsRoleProps } from './records-role';

export type DriftApproverRoleProps = DriftRecordsRoleProps;

/**
 * Who may decide on this environment's held drifts: a Role that creates and reads DriftRecords
 * (never updates or deletes one), bound to the declared groups and users. None declared, no
 * binding: only cluster admins decide. Who the decision names is checked by DriftApprovalPolicy.
 */
export class DriftApproverRole extends DriftRecordsRole {
  constructor(scope: Construct, id: string, props: DriftApproverRoleProps) {
    // Reads find the held drift; create records the decision. Records are never changed.
    super(scope, id, props, {
      rolePrefix: DRIFT_APPROVERS_ROLE,
      verbs: ['create', 'get', 'list', 'watch'],
      purpose: 'approve',
    });
  }
}
