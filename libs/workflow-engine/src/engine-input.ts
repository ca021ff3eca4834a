import { z } from 'zod';
import { type JsonValue } from './json-value';

const jsonValue: z.ZodType<JsonValue> = z.json();
const stepId = z.string().min(1);
const run = z.number().int().min(1);
const attempt = z.number().int().min(1);
const actor = z.string().min(1);

/**
 * Schema of everything that can happen to an instance. The shell validates inbound messages with it; `transition`
 * validates again, so a malformed message can never reach instance state. `run` and `attempt` echo the command
 * that caused the input and let the core recognise late or duplicate deliveries.
 */
export const workflowInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), instanceId: z.string().min(1).max(200), input: jsonValue }),
  z.strictObject({ type: z.literal('task.succeeded'), stepId, run, attempt, output: jsonValue }),
  z.strictObject({
    type: z.literal('task.failed'),
    stepId,
    run,
    attempt,
    error: z.string(),
    retryable: z.boolean(),
  }),
  z.strictObject({
    type: z.literal('task.timedOut'),
    stepId,
    run,
    attempt,
    /** Which limit the attempt broke; `startToClose` when omitted (a connector that gave up). */
    timeout: z.enum(['scheduleToStart', 'startToClose', 'heartbeat']).optional(),
  }),
  z.strictObject({ type: z.literal('timer.fired'), timerId: z.string().min(1) }),
  z.strictObject({
    type: z.literal('approval.granted'),
    stepId,
    run,
    by: actor,
    reason: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('approval.rejected'),
    stepId,
    run,
    by: actor,
    reason: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('decision.received'),
    stepId,
    run,
    decision: jsonValue,
    by: actor.optional(),
    rationale: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('cancel'), reason: z.string().min(1), by: actor.optional() }),
  z.strictObject({ type: z.literal('compensation.succeeded'), stepId, run, attempt }),
  z.strictObject({
    type: z.literal('compensation.failed'),
    stepId,
    run,
    attempt,
    error: z.string(),
    retryable: z.boolean(),
  }),
  z.strictObject({ type: z.literal('retryStep'), stepId, by: actor }),
  z.strictObject({ type: z.literal('rerunFrom'), stepId, by: actor }),
]);

/** An event into the engine. */
export type WorkflowInput = z.infer<typeof workflowInputSchema>;

/** The input that creates an instance. */
export type StartInput = Extract<WorkflowInput, { type: 'start' }>;

/** The input of a given type. */
export type InputOfType<Type extends WorkflowInput['type']> = Extract<WorkflowInput, { type: Type }>;
