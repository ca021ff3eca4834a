import { z } from 'zod';
import { identifierSchema } from './common.schema';

const approvalTarget = {
  approvalId: identifierSchema,
  instanceId: identifierSchema,
  stepId: identifierSchema,
  /** Which run of the step asks: a rerun asks again, and a late answer to an older run is ignored. */
  run: z.number().int().min(1),
};

/** `keel.governance.approvals.v1`: an approval asked of humans and how they answered. */
export const approvalEventSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('requested'),
    ...approvalTarget,
    title: z.string().min(1).max(500),
    approverRole: z.string().min(1).max(100),
    dueAt: z.iso.datetime({ offset: true }),
  }),
  z.object({
    status: z.literal('granted'),
    ...approvalTarget,
    decidedBy: identifierSchema,
    reason: z.string().max(2000).optional(),
  }),
  z.object({
    status: z.literal('rejected'),
    ...approvalTarget,
    decidedBy: identifierSchema,
    reason: z.string().max(2000).optional(),
  }),
]);
export type ApprovalEvent = z.infer<typeof approvalEventSchema>;
