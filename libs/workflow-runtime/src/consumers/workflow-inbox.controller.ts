import {
  type ApprovalEvent,
  type CloudEvent,
  type DecisionRecord,
  type WorkflowCommand,
  approvalAnswerTypes,
  serviceSource,
} from '@keel/contracts';
import { InvalidWorkflowDecisionError, workflowStartOf } from '@keel/decision-policy';
import { KafkaEventContext, KafkaEventHandlers, NonRetryableError } from '@keel/messaging';
import { type JsonValue, WorkflowEngineError, type WorkflowInput } from '@keel/workflow-engine';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { WorkflowExecutor } from '../execution/workflow-executor';
import { jsonValueSchema } from '../json-value.schema';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import { ownerOf } from './owner-of';

/**
 * What the workflow service consumes: decisions to act on, workflow commands, and approval answers. Each
 * handler changes instances inside the consumer's transaction, so the processed-event record, the
 * checkpoint and the outbox rows commit together. A request that can never succeed (unknown workflow or
 * instance, a signal the engine cannot take) is dead-lettered; the partition moves on.
 */
@KafkaEventHandlers()
export class WorkflowInboxController {
  constructor(private readonly executor: WorkflowExecutor) {}

  @EventPattern('decisions')
  async onDecision(
    @Payload() event: CloudEvent<DecisionRecord>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const decision = event.data;
    const start = actOn(() => workflowStartOf(decision));
    if (!start.acted) return;
    await guard(() =>
      this.executor.start(context.manager, {
        instanceId: decision.decisionId,
        workflow: start.template,
        ...(start.templateVersion === undefined ? {} : { version: start.templateVersion }),
        input: asObject(start.input),
        owner: ownerOf(event),
        causationId: event.id,
      }),
    );
  }

  @EventPattern('workflowCommands')
  async onCommand(
    @Payload() event: CloudEvent<WorkflowCommand>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const command = event.data;
    if (command.command === 'start') {
      await guard(() =>
        this.executor.start(context.manager, {
          instanceId: command.instanceId,
          workflow: command.template,
          ...(command.templateVersion === undefined ? {} : { version: command.templateVersion }),
          input: jsonOrThrow(command.input),
          owner: ownerOf(event),
          causationId: event.id,
        }),
      );
      return;
    }
    await guard(() =>
      this.executor.apply(context.manager, command.instanceId, inputOf(command, event), event.id),
    );
  }

  @EventPattern('approvals')
  async onApproval(
    @Payload() event: CloudEvent<ApprovalEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const approval = event.data;
    // `requested` records are this service's own output, read by governance's approvals inbox.
    if (approval.status === 'requested') return;
    // Only governance answers for people: anything else on the topic (a template, a misconfigured client)
    // must never move an approval step.
    const expectedType = approvalAnswerTypes[approval.status];
    if (event.source !== serviceSource('governance') || event.type !== expectedType) {
      throw new NonRetryableError(
        `approval answers are accepted only from ${serviceSource('governance')} as '${expectedType}'; ` +
          `got source '${event.source}', type '${event.type}'`,
      );
    }
    const input: WorkflowInput = {
      type: approval.status === 'granted' ? 'approval.granted' : 'approval.rejected',
      stepId: approval.stepId,
      run: approval.run,
      by: approval.decidedBy,
      ...(approval.reason ? { reason: approval.reason } : {}),
    };
    await guard(() => this.executor.apply(context.manager, approval.instanceId, input, event.id));
  }
}

function inputOf(command: Exclude<WorkflowCommand, { command: 'start' }>, event: CloudEvent): WorkflowInput {
  const actor = event.source;
  switch (command.command) {
    case 'cancel':
      return { type: 'cancel', reason: command.reason, by: actor };
    case 'retry-step':
      return { type: 'retryStep', stepId: command.stepId, by: actor };
    case 'rerun-from':
      return { type: 'rerunFrom', stepId: command.stepId, by: actor };
    case 'signal':
      return signalInput(command);
  }
}

/** Signals answer a waiting step: `decision` (the agent's answer to a decision step). */
function signalInput(command: Extract<WorkflowCommand, { command: 'signal' }>): WorkflowInput {
  const { run, decision, rationale } = command.payload;
  if (command.signal !== 'decision')
    throw new NonRetryableError(`unknown signal '${command.signal}'; known: decision`);
  if (!command.stepId || typeof run !== 'number') {
    throw new NonRetryableError('a decision signal needs stepId and payload.run');
  }
  return {
    type: 'decision.received',
    stepId: command.stepId,
    run,
    decision: jsonOrThrow(decision ?? null),
    ...(typeof rationale === 'string' ? { rationale } : {}),
  };
}

/** A decision the policy refuses can never start anything. */
function actOn<T>(decide: () => T): T {
  try {
    return decide();
  } catch (error) {
    if (error instanceof InvalidWorkflowDecisionError)
      throw new NonRetryableError(error.message, { cause: error });
    throw error;
  }
}

function asObject(value: unknown): Record<string, JsonValue> {
  const json = jsonOrThrow(value ?? {});
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new NonRetryableError('workflow input must be an object');
  return json;
}

function jsonOrThrow(value: unknown): JsonValue {
  const parsed = jsonValueSchema.safeParse(value);
  if (!parsed.success) throw new NonRetryableError(`not a JSON value: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Requests that name what does not exist, or that the engine rejects as malformed, cannot succeed later. A
 * version not stored yet can: the replica publishing it may still be starting, so it is retried.
 */
async function guard(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof WorkflowRuntimeError && error.code === 'unknown-version') throw error;
    if (error instanceof WorkflowRuntimeError || error instanceof WorkflowEngineError) {
      throw new NonRetryableError(error.message, { cause: error });
    }
    throw error;
  }
}
