import type { CaseEvent, KnowledgeDocument, Violation } from '@keel/contracts';

/** Why a source event was refused; every code names a fault of the event, never of the platform. */
export type RejectionCode =
  | 'invalid-request'
  | 'payload-too-deep'
  | 'unknown-source'
  | 'unknown-schema-version'
  | 'unknown-event-type'
  | 'invalid-payload'
  | 'unmappable';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
  /** Where (`payload.lines.0.sku`) and why; at least one. */
  readonly violations: readonly Violation[];
}

/** What a source system hands over: its tenant, which schema the payload follows, and the payload. */
export interface SourceSubmission {
  readonly tenant: string;
  readonly system: string;
  readonly eventType: string;
  readonly schemaVersion: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

interface AdmittedBase {
  /** Kafka key and CloudEvents subject: the case id, or the document id. */
  readonly subject: string;
  /** `tenant/system/source event id`: the same source event is accepted once, however often it is sent. */
  readonly idempotencyKey: string;
  /** CloudEvents type of the envelope. */
  readonly type: string;
}

/** A source event that passed its schema and mapping: ready to be written to its topic. */
export type AdmittedRecord =
  | (AdmittedBase & { readonly topic: 'caseEvents'; readonly data: CaseEvent })
  | (AdmittedBase & { readonly topic: 'knowledgeDocuments'; readonly data: KnowledgeDocument });

export type Admission =
  | { readonly outcome: 'admitted'; readonly record: AdmittedRecord }
  | { readonly outcome: 'rejected'; readonly rejection: Rejection };

export function rejected(code: RejectionCode, message: string, violations: readonly Violation[]): Admission {
  return { outcome: 'rejected', rejection: { code, message, violations } };
}
