import { type CaseEvent, type CloudEvent, type WorkflowEvent } from '@keel/contracts';
import { decisionIdOf } from '@keel/decisioning-agent';
import { EventRunPattern, KafkaEventHandlers, KafkaEventRunContext } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { caseEventTrigger, isDecisionRequest, workflowDecisionTrigger } from '../decision-triggers';
import { DecisionWorker } from '../decision-worker';
import { DecisionQueueRepository } from '../persistence/decision-queue.repository';

/**
 * How long a workflow-events partition read to its end waits between fetches: a decision request waits up to
 * this much longer, plus a fetch's wait (an agent's answer takes longer than that), and the other events of a
 * case come in a fetch or two instead of a fetch each (ADR 0028).
 */
const workflowEventsGatherMs = 200;

/**
 * What the decisioning service consumes: every normalized case event, and the workflow's decision requests
 * (every other workflow transition, most of that topic, is passed over by the consumer: no processed-event
 * mark, no delivery count, no transaction). The consumer's transaction only remembers the events and queues
 * their triggers, with the processed-event marks — a whole run of a partition in one statement; the decision is
 * made outside it by the `DecisionWorker`, so a slow model never holds a transaction or a pool connection.
 */
@KafkaEventHandlers()
export class DecisioningInboxController {
  constructor(
    @Inject(DecisionQueueRepository) private readonly queue: DecisionQueueRepository,
    @Inject(DecisionWorker) private readonly worker: DecisionWorker,
  ) {}

  // Only triggers of shards decided elsewhere need a NOTIFY; the worker here hears the commit in process.
  private get shardsDecidedHere(): { decidedHere: readonly number[] } {
    return { decidedHere: this.worker.decidedHere };
  }

  @EventRunPattern('caseEvents')
  async onCaseEvents(
    @Payload() events: ReadonlyArray<CloudEvent<CaseEvent>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    const items = events.map((event) => {
      const trigger = caseEventTrigger(event);
      return { queued: { decisionId: decisionIdOf(trigger), trigger, envelope: event }, remember: trigger };
    });
    await this.queue.enqueueAll(context.manager, items, this.shardsDecidedHere);
  }

  @EventRunPattern('workflowEvents', { accepts: isDecisionRequest, gatherMs: workflowEventsGatherMs })
  async onWorkflowEvents(
    @Payload() events: ReadonlyArray<CloudEvent<WorkflowEvent>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    // A request that can never be answered throws a DecisioningServiceError: the run is redone a record at a
    // time and its catalog dead-letters that one alone.
    const items = events.flatMap((event) => {
      const trigger = workflowDecisionTrigger(event);
      return trigger ? [{ queued: { decisionId: decisionIdOf(trigger), trigger, envelope: event } }] : [];
    });
    await this.queue.enqueueAll(context.manager, items, this.shardsDecidedHere);
  }
}
