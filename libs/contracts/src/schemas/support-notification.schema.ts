import { z } from 'zod';
import { identifierSchema } from './common.schema';

/** `keel.support.notifications.v1`: a support queue is told a ticket was assigned to it. */
export const supportNotificationSchema = z.object({
  ticketId: identifierSchema,
  queue: z.string().min(1).max(100),
  customerId: identifierSchema.optional(),
});
export type SupportNotification = z.infer<typeof supportNotificationSchema>;
