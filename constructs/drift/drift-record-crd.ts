import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { DRIFT_RECORD, LABELS, PART_OF } from '../../model/constants';
import { CHANGE_TYPES, DRIFT_ACTIONS, DRIFT_EVENTS, SEVERITIES } from '../../model/drift-policy';

const str = { type: 'string' };
const anyValue = { 'x-kubernetes-preserve-unknown-fields': true };

/** What the API server answers to any change of a record's spec. */
export const IMMUTABLE_RECORD_MESSAGE = 'DriftRecords are never changed; record a new event instead';

/**
 * The CRD of Converge's audit trail: one append-only DriftRecord per drift and per action (who,
 * what, when, the diff, the decision, the outcome). Records are created, never updated: a
 * transition rule refuses any change of the spec, and no Role grants update, patch or delete.
 */
export class DriftRecordCrd extends Construct {
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: `${DRIFT_RECORD.plural}.${DRIFT_RECORD.group}`,
        labels: { [LABELS.partOf]: PART_OF },
      },
      spec: {
        group: DRIFT_RECORD.group,
        scope: 'Namespaced',
        names: {
          kind: DRIFT_RECORD.kind,
          listKind: 'DriftRecordList',
          plural: DRIFT_RECORD.plural,
          singular: 'driftrecord',
          shortNames: ['drift'],
        },
        versions: [
          {
            name: DRIFT_RECORD.version,
            served: true,
            storage: true,
            additionalPrinterColumns: [
              { name: 'Drift', type: 'string', jsonPath: '.spec.driftId' },
              { name: 'Event', type: 'string', jsonPath: '.spec.event' },
              { name: 'Kind', type: 'string', jsonPath: '.spec.object.kind' },
              { name: 'Object', type: 'string', jsonPath: '.spec.object.name' },
              { name: 'Severity', type: 'string', jsonPath: '.spec.severity' },
              { name: 'Action', type: 'string', jsonPath: '.spec.action' },
              { name: 'Actor', type: 'string', jsonPath: '.spec.actor' },
              { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            ],
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    // A transition rule: it runs on updates only, so creating a record is unaffected.
                    'x-kubernetes-validations': [
                      { rule: 'self == oldSelf', message: IMMUTABLE_RECORD_MESSAGE },
                    ],
                    required: ['driftId', 'event', 'object', 'at'],
                    properties: {
                      driftId: str,
                      event: { type: 'string', enum: [...DRIFT_EVENTS] },
                      environment: str,
                      object: {
                        type: 'object',
                        required: ['apiVersion', 'kind', 'name'],
                        properties: { apiVersion: str, kind: str, namespace: str, name: str },
                      },
                      application: str,
                      change: { type: 'string', enum: [...CHANGE_TYPES] },
                      fields: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['path'],
                          properties: { path: str, from: anyValue, to: anyValue },
                        },
                      },
                      severity: { type: 'string', enum: [...SEVERITIES] },
                      action: { type: 'string', enum: [...DRIFT_ACTIONS] },
                      rule: str,
                      who: { type: 'string', description: 'Field manager or user that made the change.' },
                      onset: { type: 'string', description: 'When the drift started (RFC 3339).' },
                      at: { type: 'string', description: 'When this event happened (RFC 3339).' },
                      actor: {
                        type: 'string',
                        description:
                          "Who took this action: converge, argocd, or a person's Kubernetes username (the API server checks a decision's).",
                      },
                      groups: {
                        type: 'array',
                        items: str,
                        description:
                          "A decision's author's Kubernetes groups, as the API server authenticated them.",
                      },
                      outcome: str,
                      detail: str,
                    },
                  },
                },
              },
            },
          },
        ],
      },
    });
  }
}
