import type { CloudEvent } from '@keel/contracts';
import type { InstanceOwner } from '../persistence/workflow-repositories';

/** The case, tenant and correlation an instance inherits from the event that started it. */
export function ownerOf(event: CloudEvent): InstanceOwner {
  return { caseId: event.subject, tenant: event.tenant, correlationId: event.correlationid };
}
