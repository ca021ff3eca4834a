import { sourceRawEventSchema } from '@keel/contracts';
import { z } from 'zod';

/**
 * One source event as `POST /v1/events` takes it and the producer's JSON-lines files hold it, one a line:
 * a raw source event plus the tenant it belongs to.
 */
export const eventSubmissionSchema = sourceRawEventSchema.extend({
  tenant: z.string().min(1).max(100),
});
export type EventSubmission = z.infer<typeof eventSubmissionSchema>;

/** A batch: `{ "events": [submission, …] }`; each item is judged on its own. */
export function eventBatchSchema(maxEvents: number) {
  return z.object({ events: z.array(z.unknown()).min(1).max(maxEvents) });
}
