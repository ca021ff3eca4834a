import type { ApprovalEvent } from './schemas/approval.schema';
import type { ServiceName } from './topic-registry';

/** The CloudEvents `source` of everything a Keel service emits. */
export function serviceSource(service: ServiceName): string {
  return `urn:keel:${service}`;
}

/** The CloudEvents `type` of a human's answer to an approval request; only governance emits these. */
export const approvalAnswerTypes = {
  granted: 'keel.approval.granted',
  rejected: 'keel.approval.rejected',
} as const satisfies Record<Exclude<ApprovalEvent['status'], 'requested'>, string>;
