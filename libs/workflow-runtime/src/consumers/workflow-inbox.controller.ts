import {
  type ApprovalEvent,
  type CloudEvent,
  type DecisionRecord,
  type WorkflowCommand,
  approvalAnswerTypes,
  serviceSource,
} from '@keel/contracts';
import { InvalidWorkflowDecisionError, workflowStartOf } from '@keel/decision-policy';
import {
  EventRunPattern,
  KafkaEventContext,
  KafkaEventHandlers,
  KafkaEventRunContext,
} from '@keel/messaging';
import { inTraceOf } from '@keel/tracing';
import type { JsonValue, WorkflowInput } from '@keel/workflow-engine';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type StartRequest, WorkflowExecutor } from '../execution/workflow-executor';
import { jsonValueSchema } from '../json-value.schema';
import { WorkflowRuntimeError } from '../workflow-runtime.error';
import { ownerOf } from './owner-of';

/**
 * What the workflow service consumes: decisions to act on, workflow commands, and approval answers. Each
 * handler changes instances inside the consumer's transaction, so the processed-event record, the
 * checkpoint and the outbox rows commit together; decisions and commands come as runs of a partition, whose
 * starts are applied together (one statement per table for the run, ADR 0021). What the consumer does with a request that fails is
 * the error's own: a `WorkflowRuntimeError` or `WorkflowEngineError` carries its handling in its catalog
 * (an unknown workflow or instance is dead-lettered with its code, a version not stored yet waited for).
 */
@KafkaEventHandlers()
export class WorkflowInboxController {
  constructor(private readonly executor: WorkflowExecutor) {}

  /** A partition's run of decisions: the ones that start a workflow start together (`startAll`). */
  @EventRunPattern('decisions')
  async onDecisions(
    @Payload() events: ReadonlyArray<CloudEvent<DecisionRecord>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    const starts = events.flatMap((event): StartRequest[] => {
      const decision = event.data;
      const start = actOn(() => workflowStartOf(decision));
      if (!start.acted) return [];
      return [
        {
          instanceId: decision.decisionId,
          workflow: start.template,
          ...(start.templateVersion === undefined ? {} : { version: start.templateVersion }),
          input: asObject(start.input),
          ...origin(event),
        },
      ];
    });
    await this.executor.startAll(context.manager, starts);
  }

  /**
   * A partition's run of commands, in order: consecutive starts go in together (`startAll`); any other
   * command applies on its own once the starts before it are in, since it may be for one of them.
   */
  @EventRunPattern('workflowCommands')
  async onCommands(
    @Payload() events: ReadonlyArray<CloudEvent<WorkflowCommand>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    const starts: StartRequest[] = [];
    for (const event of events) {
      const command = event.data;
      if (command.command === 'start') {
        starts.push({
          instanceId: command.instanceId,
          workflow: command.template,
          ...(command.templateVersion === undefined ? {} : { version: command.templateVersion }),
          input: jsonOrThrow(command.input),
          ...origin(event),
        });
        continue;
      }
      await this.executor.startAll(context.manager, starts.splice(0));
      const input = inputOf(command, event);
      await inTraceOf(
        event.traceparent,
        `workflow ${command.command}`,
        { 'keel.workflow.instance': command.instanceId },
        () => this.executor.apply(context.manager, command.instanceId, input, event.id),
      );
    }
    await this.executor.startAll(context.manager, starts);
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
      throw new WorkflowRuntimeError(
        'invalid-request',
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
    await this.executor.apply(context.manager, approval.instanceId, input, event.id);
  }
}

/** Whom a start works for, what caused it and the trace it continues: the command's own. */
function origin(event: CloudEvent): Pick<StartRequest, 'owner' | 'causationId' | 'traceparent'> {
  return {
    owner: ownerOf(event),
    causationId: event.id,
    ...(event.traceparent === undefined ? {} : { traceparent: event.traceparent }),
  };
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
    throw new WorkflowRuntimeError('invalid-request', `unknown signal '${command.signal}'; known: decision`);
  if (!command.stepId || typeof run !== 'number') {
    throw new WorkflowRuntimeError('invalid-request', 'a decision signal needs stepId and payload.run');
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
      throw new WorkflowRuntimeError('invalid-request', error.message, { cause: error });
    throw error;
  }
}

function asObject(value: unknown): Record<string, JsonValue> {
  const json = jsonOrThrow(value ?? {});
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new WorkflowRuntimeError('invalid-request', 'workflow input must be an object');
  return json;
}

function jsonOrThrow(value: unknown): JsonValue {
  const parsed = jsonValueSchema.safeParse(value);
  if (!parsed.success)
    throw new WorkflowRuntimeError('invalid-request', `not a JSON value: ${parsed.error.message}`);
  return parsed.data;
}
