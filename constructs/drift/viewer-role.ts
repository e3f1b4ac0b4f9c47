import { Construct } from 'constructs';
import { DRIFT_VIEWERS_ROLE } from '../../model/constants';
import { DriftRecordsRole, DriftRecordsRoleProps } from './records-role';

export type DriftViewerRoleProps = DriftRecordsRoleProps;

/**
 * Who may read this environment's held and recent drifts without deciding (the approvals page
 * lists them for `list`; deciding needs `create`): a read-only Role on DriftRecords, bound to the
 * declared groups and users.
 */
export class DriftViewerRole extends DriftRecordsRole {
  constructor(scope: Construct, id: string, props: DriftViewerRoleProps) {
    super(scope, id, props, {
      rolePrefix: DRIFT_VIEWERS_ROLE,
      verbs: ['get', 'list', 'watch'],
      purpose: 'view',
    });
  }
}
