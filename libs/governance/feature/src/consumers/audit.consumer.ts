import { type CloudEvent, type TopicKey, topics } from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { AuditService } from '../application/audit.service';

/**
 * The audit log's intake: one handler per platform topic, each appending the validated event to its tenant's
 * chain in the consumer's transaction (so a redelivered event is recognised by its processed-event id and
 * recorded once). A new topic in the registry needs a handler here.
 */
@KafkaEventHandlers()
export class AuditConsumer {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @EventPattern('sourceRaw' satisfies TopicKey)
  async onSourceRaw(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('sourceRaw', event, context);
  }

  @EventPattern('caseEvents' satisfies TopicKey)
  async onCaseEvent(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('caseEvents', event, context);
  }

  @EventPattern('knowledgeDocuments' satisfies TopicKey)
  async onKnowledgeDocument(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('knowledgeDocuments', event, context);
  }

  @EventPattern('decisions' satisfies TopicKey)
  async onDecision(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('decisions', event, context);
  }

  @EventPattern('workflowCommands' satisfies TopicKey)
  async onWorkflowCommand(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('workflowCommands', event, context);
  }

  @EventPattern('workflowEvents' satisfies TopicKey)
  async onWorkflowEvent(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('workflowEvents', event, context);
  }

  @EventPattern('approvals' satisfies TopicKey)
  async onApproval(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('approvals', event, context);
  }

  @EventPattern('supportNotifications' satisfies TopicKey)
  async onSupportNotification(
    @Payload() event: CloudEvent,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.recorded('supportNotifications', event, context);
  }

  @EventPattern('releases' satisfies TopicKey)
  async onRelease(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('releases', event, context);
  }

  private async recorded(key: TopicKey, event: CloudEvent, context: KafkaEventContext): Promise<void> {
    // The registry's name, not the deployment's namespaced one, so exports read the same everywhere.
    await this.audit.record(context.manager, topics[key].name, [event]);
  }
}
