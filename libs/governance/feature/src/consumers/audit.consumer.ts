import {
  type ApprovalEvent,
  type CaseEvent,
  type CloudEvent,
  type DecisionRecord,
  type TopicKey,
  type WorkflowEvent,
  topics,
} from '@keel/contracts';
import { EventRunPattern, KafkaEventHandlers, KafkaEventRunContext } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import { ApprovalsInboxService } from '../application/approvals-inbox.service';
import { AuditService } from '../application/audit.service';

/**
 * How long a partition read to its end waits between fetches. The audit log and the approvals inbox are off a
 * case's latency path, and a run costs six statements however few events it holds: paced, the events of a
 * case spread over several topics' partitions, and a fetch each brought one or two (ADR 0032). Approval
 * requests are not held back: few, and a step's closing transition (on the gathered workflow events) should
 * find its item already in the inbox.
 */
const auditGatherMs = 1_000;

/**
 * The audit log's intake (and the approvals inbox's: approval requests, held decisions, closing workflow
 * transitions, case parties, in the same transaction): one run handler per platform topic. A run's events are
 * staged in partition order (the inbox's own audit rows among them, where it adds any) and appended at the
 * end of the call — one head lock and one multi-row insert per tenant per run — inside the transaction that
 * records their processed-event ids, so a redelivered event is recognised and recorded once. A failing run is
 * redone a record at a time by the consumer, so one bad event is dead-lettered alone. A new topic in the
 * registry needs a handler here.
 */
@KafkaEventHandlers()
export class AuditConsumer {
  constructor(
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ApprovalsInboxService) private readonly inbox: ApprovalsInboxService,
  ) {}

  @EventRunPattern('sourceRaw' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onSourceRaw(
    @Payload() events: ReadonlyArray<CloudEvent>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('sourceRaw', events, context);
  }

  @EventRunPattern('caseEvents' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onCaseEvents(
    @Payload() events: ReadonlyArray<CloudEvent<CaseEvent>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('caseEvents', events, context, (manager, event) =>
      this.inbox.onCaseEvent(manager, event),
    );
  }

  @EventRunPattern('knowledgeDocuments' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onKnowledgeDocuments(
    @Payload() events: ReadonlyArray<CloudEvent>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('knowledgeDocuments', events, context);
  }

  @EventRunPattern('decisions' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onDecisions(
    @Payload() events: ReadonlyArray<CloudEvent<DecisionRecord>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('decisions', events, context, (manager, event) =>
      this.inbox.onDecision(manager, event),
    );
  }

  @EventRunPattern('workflowCommands' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onWorkflowCommands(
    @Payload() events: ReadonlyArray<CloudEvent>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('workflowCommands', events, context);
  }

  @EventRunPattern('workflowEvents' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onWorkflowEvents(
    @Payload() events: ReadonlyArray<CloudEvent<WorkflowEvent>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('workflowEvents', events, context, (manager, event) =>
      this.inbox.onWorkflowEvent(manager, event),
    );
  }

  @EventRunPattern('approvals' satisfies TopicKey)
  async onApprovals(
    @Payload() events: ReadonlyArray<CloudEvent<ApprovalEvent>>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('approvals', events, context, (manager, event) =>
      this.inbox.onApprovalEvent(manager, event),
    );
  }

  @EventRunPattern('supportNotifications' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onSupportNotifications(
    @Payload() events: ReadonlyArray<CloudEvent>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('supportNotifications', events, context);
  }

  @EventRunPattern('releases' satisfies TopicKey, { gatherMs: auditGatherMs })
  async onReleases(
    @Payload() events: ReadonlyArray<CloudEvent>,
    @Ctx() context: KafkaEventRunContext,
  ): Promise<void> {
    await this.recorded('releases', events, context);
  }

  /** Stages the run's events (each followed by its inbox effect, in order), then appends them in one go. */
  private async recorded<E extends CloudEvent>(
    key: TopicKey,
    events: readonly E[],
    { manager }: KafkaEventRunContext,
    after?: (manager: EntityManager, event: E) => Promise<void>,
  ): Promise<void> {
    // The registry's name, not the deployment's namespaced one, so exports read the same everywhere.
    const topic = topics[key].name;
    try {
      for (const event of events) {
        this.audit.stage(manager, topic, event);
        if (after) await after(manager, event);
      }
      await this.audit.flushStaged(manager);
    } catch (error) {
      // A redone record shares the transaction (under a savepoint): what it staged must not reach the next.
      this.audit.discardStaged(manager);
      throw error;
    }
  }
}
