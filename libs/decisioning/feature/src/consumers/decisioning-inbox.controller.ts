import { type CaseEvent, type CloudEvent, type WorkflowEvent } from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DecideUseCase } from '../decide.usecase';
import { caseEventTrigger, workflowDecisionTrigger } from '../decision-triggers';

/**
 * What the decisioning service consumes: every normalized case event, and the workflow's decision requests
 * (every other workflow transition is skipped). Each decision commits with the consumer's processed-event mark.
 */
@KafkaEventHandlers()
export class DecisioningInboxController {
  constructor(private readonly decide: DecideUseCase) {}

  @EventPattern('caseEvents')
  async onCaseEvent(
    @Payload() event: CloudEvent<CaseEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.decide.execute(context.manager, caseEventTrigger(event), event);
  }

  @EventPattern('workflowEvents')
  async onWorkflowEvent(
    @Payload() event: CloudEvent<WorkflowEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    // A request that can never be answered throws a DecisioningServiceError: its catalog dead-letters it.
    const trigger = workflowDecisionTrigger(event);
    if (trigger) await this.decide.execute(context.manager, trigger, event);
  }
}
