import { type CaseEvent, type CloudEvent, type WorkflowEvent } from '@keel/contracts';
import { decisionIdOf } from '@keel/decisioning-agent';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { caseEventTrigger, workflowDecisionTrigger } from '../decision-triggers';
import { DecisionWorker } from '../decision-worker';
import { DecisionQueueRepository } from '../persistence/decision-queue.repository';

/**
 * What the decisioning service consumes: every normalized case event, and the workflow's decision requests
 * (every other workflow transition is skipped). The consumer's transaction only remembers the event and queues
 * its trigger, with the processed-event mark; the decision is made outside it by the `DecisionWorker`, so a slow
 * model never holds a transaction or a pool connection.
 */
@KafkaEventHandlers()
export class DecisioningInboxController {
  constructor(
    @Inject(DecisionQueueRepository) private readonly queue: DecisionQueueRepository,
    @Inject(DecisionWorker) private readonly worker: DecisionWorker,
  ) {}

  // Only another replica's leader needs a NOTIFY; a leader here hears the commit in process.
  private get notify(): { notify: boolean } {
    return { notify: !this.worker.leads };
  }

  @EventPattern('caseEvents')
  async onCaseEvent(
    @Payload() event: CloudEvent<CaseEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const trigger = caseEventTrigger(event);
    await this.queue.enqueue(
      context.manager,
      { decisionId: decisionIdOf(trigger), trigger, envelope: event },
      trigger,
      this.notify,
    );
  }

  @EventPattern('workflowEvents')
  async onWorkflowEvent(
    @Payload() event: CloudEvent<WorkflowEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    // A request that can never be answered throws a DecisioningServiceError: its catalog dead-letters it.
    const trigger = workflowDecisionTrigger(event);
    if (trigger)
      await this.queue.enqueue(
        context.manager,
        { decisionId: decisionIdOf(trigger), trigger, envelope: event },
        undefined,
        this.notify,
      );
  }
}
