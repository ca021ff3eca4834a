import {
  type ApprovalEvent,
  type CaseEvent,
  type CloudEvent,
  type DecisionRecord,
  type TopicKey,
  type WorkflowEvent,
  topics,
} from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ApprovalsInboxService } from '../application/approvals-inbox.service';
import { AuditService } from '../application/audit.service';

/**
 * The audit log's intake (and the approvals inbox's: approval requests, held decisions, closing workflow
 * transitions, case parties, in the same transaction): one handler per platform topic, each staging the validated event for its tenant's
 * chain on the consumer's transaction; the run's rows are appended together when it commits (`AuditCommitFlush`),
 * so a redelivered event is recognised by its processed-event id and recorded once. A new topic in the
 * registry needs a handler here.
 */
@KafkaEventHandlers()
export class AuditConsumer {
  constructor(
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ApprovalsInboxService) private readonly inbox: ApprovalsInboxService,
  ) {}

  @EventPattern('sourceRaw' satisfies TopicKey)
  async onSourceRaw(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('sourceRaw', event, context);
  }

  @EventPattern('caseEvents' satisfies TopicKey)
  async onCaseEvent(
    @Payload() event: CloudEvent<CaseEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.recorded('caseEvents', event, context);
    await this.inbox.onCaseEvent(context.manager, event);
  }

  @EventPattern('knowledgeDocuments' satisfies TopicKey)
  async onKnowledgeDocument(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('knowledgeDocuments', event, context);
  }

  @EventPattern('decisions' satisfies TopicKey)
  async onDecision(
    @Payload() event: CloudEvent<DecisionRecord>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.recorded('decisions', event, context);
    await this.inbox.onDecision(context.manager, event);
  }

  @EventPattern('workflowCommands' satisfies TopicKey)
  async onWorkflowCommand(@Payload() event: CloudEvent, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.recorded('workflowCommands', event, context);
  }

  @EventPattern('workflowEvents' satisfies TopicKey)
  async onWorkflowEvent(
    @Payload() event: CloudEvent<WorkflowEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.recorded('workflowEvents', event, context);
    await this.inbox.onWorkflowEvent(context.manager, event);
  }

  @EventPattern('approvals' satisfies TopicKey)
  async onApproval(
    @Payload() event: CloudEvent<ApprovalEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    await this.recorded('approvals', event, context);
    await this.inbox.onApprovalEvent(context.manager, event);
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

  private recorded(key: TopicKey, event: CloudEvent, context: KafkaEventContext): Promise<void> {
    // The registry's name, not the deployment's namespaced one, so exports read the same everywhere.
    this.audit.stage(context.manager, topics[key].name, event);
    return Promise.resolve();
  }
}
