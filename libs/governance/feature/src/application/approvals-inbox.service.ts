import {
  type ApprovalEvent,
  type CaseEvent,
  type CloudEvent,
  type DecisionRecord,
  type WorkflowEvent,
  approvalAnswerTypes,
  buildEvent,
} from '@keel/contracts';
import { workflowStartOf } from '@keel/decision-policy';
import {
  type Answerer,
  type ApprovalItem,
  type CaseLineage,
  GovernanceError,
  type InboxAnswer,
  type JsonValue,
  answerApproval,
  caseLineage,
  casePartiesOf,
  inboxAuditTopic,
  requestedAgain,
} from '@keel/governance-domain';
import { type OutboxWriter, type Topics } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import { type ApprovalFilter, type ApprovalItems } from '../persistence/approval-items.repository';
import { type Transactions } from '../persistence/transactions';
import { type AuditService } from './audit.service';

export interface ApprovalsInboxDeps {
  readonly items: ApprovalItems;
  readonly transactions: Transactions;
  readonly outbox: OutboxWriter;
  readonly topics: Pick<Topics, 'approvals' | 'workflowCommands'>;
  readonly audit: AuditService;
  /** CloudEvents `source` of the answers (`urn:keel:governance`: the only source workflow accepts them from). */
  readonly source: string;
  readonly now: () => Date;
  /** How long a hold waits before it is escalated, and to which approver role. */
  readonly holdTimeoutMs: number;
  readonly holdEscalateTo: string;
}

/** Holds escalated per transaction by one sweep. */
const escalationBatch = 100;
/** The approval request's `stepId` for a hold: it answers no workflow step (workflow ignores requests). */
const holdStep = 'guardrail-hold';

/** An inbox item with the case's lineage, for the approver to judge. */
export interface ApprovalWithLineage {
  readonly item: ApprovalItem;
  readonly lineage: CaseLineage;
}

/** Workflow transitions that close an approval step without the inbox (timeout, cancel, rerun). */
const closingTransitions: Readonly<Record<string, ApprovalItem['status']>> = {
  'approval.granted': 'granted',
  'approval.rejected': 'rejected',
  'approval.withdrawn': 'withdrawn',
};

/**
 * The approvals inbox: fed by the consumer (workflow approval requests and their escalations, decisions the
 * guardrails held for a person, workflow transitions that close a step, the case parties of case events);
 * answered by approvers over HTTP, published through the outbox — a workflow step's answer as
 * `keel.approval.granted|rejected` on the approvals topic, an approved hold of a `start_workflow` decision as
 * the workflow `start` command the decision would have been — and never by one of the people who asked.
 */
export class ApprovalsInboxService {
  constructor(private readonly deps: ApprovalsInboxDeps) {}

  /** A workflow's approval request (or, for a pending item, its escalation to a new role). */
  async onApprovalEvent(manager: EntityManager, event: CloudEvent<ApprovalEvent>): Promise<void> {
    const approval = event.data;
    // Answers on the topic are governance's own (already recorded when given) or refused by workflow.
    if (approval.status !== 'requested') return;
    const { items } = this.deps;
    const at = this.deps.now().toISOString();
    const existing = await items.find(manager, event.tenant, approval.approvalId, true);
    if (existing !== undefined) {
      const next = requestedAgain(existing, approval, at);
      if (next !== existing) await items.update(manager, next);
      return;
    }
    await items.insert(manager, {
      tenant: event.tenant,
      id: approval.approvalId,
      kind: 'workflow-step',
      caseId: event.subject,
      status: 'pending',
      title: approval.title,
      approverRole: approval.approverRole,
      dueAt: approval.dueAt,
      escalated: false,
      instanceId: approval.instanceId,
      stepId: approval.stepId,
      run: approval.run,
      requestedAt: event.time,
      requestedBy: [],
      context: {
        title: approval.title,
        instanceId: approval.instanceId,
        stepId: approval.stepId,
        run: approval.run,
        dueAt: approval.dueAt,
        requestEventId: event.id,
      },
    });
  }

  /** A workflow transition that closes a pending step (timed out, withdrawn by a cancel or rerun). */
  async onWorkflowEvent(manager: EntityManager, event: CloudEvent<WorkflowEvent>): Promise<void> {
    const { transition, stepId, instanceId, detail } = event.data;
    const status = closingTransitions[transition];
    if (status === undefined || stepId === undefined || typeof detail.run !== 'number') return;
    const item = await this.deps.items.find(
      manager,
      event.tenant,
      `${instanceId}/${stepId}/${detail.run}`,
      true,
    );
    if (item?.status !== 'pending') return;
    await this.deps.items.update(manager, {
      ...item,
      status,
      decidedBy: typeof detail.by === 'string' ? detail.by : 'workflow',
      decidedAt: event.time,
      ...(typeof detail.reason === 'string' ? { reason: detail.reason } : {}),
    });
  }

  /** A production decision the guardrails sent to a person. */
  async onDecision(manager: EntityManager, event: CloudEvent<DecisionRecord>): Promise<void> {
    const decision = event.data;
    if (decision.mode !== 'production' || !decision.requiresApproval) return;
    await this.deps.items.insert(manager, {
      tenant: event.tenant,
      id: `hold:${decision.decisionId}`,
      kind: 'guardrail-hold',
      caseId: decision.caseId,
      status: 'pending',
      title: `${decision.action.tool} held for approval (risk ${decision.risk})`,
      approverRole: 'approver',
      dueAt: new Date(Date.parse(event.time) + this.deps.holdTimeoutMs).toISOString(),
      escalated: false,
      decisionId: decision.decisionId,
      requestedAt: event.time,
      requestedBy: [],
      context: JSON.parse(
        JSON.stringify({
          decisionEventId: event.id,
          correlationId: event.correlationid,
          action: decision.action,
          rationale: decision.rationale,
          confidence: decision.confidence,
          risk: decision.risk,
          versions: decision.versions,
          rulesEvaluated: decision.rulesEvaluated ?? [],
          // Kept whole: approving it starts what the decision would have started.
          decision: {
            mode: decision.mode,
            requiresApproval: decision.requiresApproval,
            caseId: decision.caseId,
          },
        }),
      ) as JsonValue,
    });
  }

  /**
   * Escalates, once, the holds whose deadline passed: the item is routed to the escalation role with a fresh
   * deadline, and the new role is told the way a workflow step's escalation tells it — an approval `requested`
   * event naming the role, on the approvals topic (workflow ignores requests; the audit log and lineage keep
   * it). Returns whether there may be more to escalate.
   */
  escalateDueHolds(): Promise<boolean> {
    return this.deps.transactions.run(async (manager) => {
      const now = this.deps.now();
      const due = await this.deps.items.dueHolds(manager, now, escalationBatch);
      const { topics } = this.deps;
      const requests = [];
      for (const item of due) {
        const dueAt = new Date(now.getTime() + this.deps.holdTimeoutMs).toISOString();
        const escalated = requestedAgain(
          item,
          { approverRole: this.deps.holdEscalateTo, dueAt },
          now.toISOString(),
        );
        await this.deps.items.update(manager, escalated);
        requests.push(
          buildEvent(topics.approvals, {
            ...this.envelope(escalated, 'keel.approval.requested'),
            id: `approval/${item.id}/escalated`,
            idempotencykey: `approval/${item.id}/escalated`,
            time: now.toISOString(),
            data: {
              status: 'requested',
              approvalId: item.id,
              instanceId: item.decisionId ?? item.id,
              stepId: holdStep,
              run: 1,
              title: item.title,
              approverRole: escalated.approverRole,
              dueAt,
            },
          }),
        );
      }
      await this.deps.outbox.enqueue(manager, topics.approvals, requests);
      return due.length === escalationBatch;
    });
  }

  /** Remembers who a case event names as having raised the case (`author`, `requestedBy`, …). */
  async onCaseEvent(manager: EntityManager, event: CloudEvent<CaseEvent>): Promise<void> {
    const parties = casePartiesOf(event.data.attributes);
    await this.deps.items.addParties(manager, event.tenant, event.subject, parties);
  }

  list(tenant: string, filter: ApprovalFilter): Promise<ApprovalItem[]> {
    return this.deps.transactions.run((manager) => this.deps.items.list(manager, tenant, filter));
  }

  /** The item with its case's lineage. */
  async get(tenant: string, id: string): Promise<ApprovalWithLineage> {
    const item = await this.deps.transactions.run((manager) => this.deps.items.find(manager, tenant, id));
    if (item === undefined) throw new GovernanceError('not-found', `no approval '${id}'`);
    const rows = await this.deps.audit.lineageRows(tenant, item.caseId);
    return { item, lineage: caseLineage(item.caseId, rows) };
  }

  /**
   * Answers a pending item: refused (403 `four-eyes`) to the case's parties and — for a workflow step — to
   * whoever approved the hold that started the instance; published through the outbox in the same
   * transaction as the item's new state.
   */
  answer(by: Answerer, id: string, answer: InboxAnswer): Promise<ApprovalItem> {
    return this.deps.transactions.run(async (manager) => {
      const { items } = this.deps;
      const item = await items.find(manager, by.tenant, id, true);
      if (item === undefined) throw new GovernanceError('not-found', `no approval '${id}'`);
      const requestedBy = new Set([
        ...item.requestedBy,
        ...(await items.partiesOf(manager, by.tenant, item.caseId)),
      ]);
      if (item.instanceId !== undefined) {
        const startedBy = await items.find(manager, by.tenant, `hold:${item.instanceId}`);
        if (startedBy?.decidedBy !== undefined) requestedBy.add(startedBy.decidedBy);
      }
      const at = this.deps.now().toISOString();
      const answered = answerApproval({ ...item, requestedBy: [...requestedBy] }, by, answer, at);
      await items.update(manager, answered);
      if (answered.kind === 'workflow-step') await this.publishStepAnswer(manager, answered);
      else await this.settleHold(manager, answered);
      return answered;
    });
  }

  private async publishStepAnswer(manager: EntityManager, item: ApprovalItem): Promise<void> {
    const status = item.status === 'granted' ? 'granted' : 'rejected';
    const { topics } = this.deps;
    await this.deps.outbox.enqueue(manager, topics.approvals, [
      buildEvent(topics.approvals, {
        ...this.envelope(item, approvalAnswerTypes[status]),
        data: {
          status,
          approvalId: item.id,
          instanceId: item.instanceId ?? '',
          stepId: item.stepId ?? '',
          run: item.run ?? 1,
          decidedBy: item.decidedBy ?? '',
          ...(item.reason === undefined ? {} : { reason: item.reason }),
        },
      }),
    ]);
  }

  /**
   * A hold has no workflow step to answer: its answer goes into the tenant's audit chain (lineage shows it),
   * and an approved `start_workflow` decision is started the way workflow would have started it unheld — same
   * instance id (the decision id), same template and input.
   */
  private async settleHold(manager: EntityManager, item: ApprovalItem): Promise<void> {
    const context = item.context as { action?: DecisionRecord['action']; decisionEventId?: string };
    const status = item.status === 'granted' ? 'granted' : 'rejected';
    this.deps.audit.stage(manager, inboxAuditTopic, {
      ...this.envelope(item, approvalAnswerTypes[status]),
      specversion: '1.0',
      datacontenttype: 'application/json',
      dataschema: 'keel.governance.approval@1',
      data: {
        status,
        approvalId: item.id,
        decisionId: item.decisionId,
        decidedBy: item.decidedBy,
        ...(item.reason === undefined ? {} : { reason: item.reason }),
      },
    });
    if (status !== 'granted' || context.action === undefined || item.decisionId === undefined) return;
    const start = workflowStartOf(
      { mode: 'production', requiresApproval: true, action: context.action, caseId: item.caseId },
      { approved: true },
    );
    if (!start.acted) return;
    const { topics } = this.deps;
    await this.deps.outbox.enqueue(manager, topics.workflowCommands, [
      buildEvent(topics.workflowCommands, {
        ...this.envelope(item, 'keel.workflow.start'),
        ...(context.decisionEventId === undefined ? {} : { causationid: context.decisionEventId }),
        data: {
          command: 'start',
          instanceId: item.decisionId,
          template: start.template,
          ...(start.templateVersion === undefined ? {} : { templateVersion: start.templateVersion }),
          input: { ...start.input },
        },
      }),
    ]);
  }

  private envelope(item: ApprovalItem, type: string) {
    const id = `approval/${item.id}/${item.status}`;
    const context = item.context as { correlationId?: unknown };
    return {
      id,
      source: this.deps.source,
      type,
      time: item.decidedAt ?? this.deps.now().toISOString(),
      subject: item.caseId,
      tenant: item.tenant,
      correlationid: typeof context.correlationId === 'string' ? context.correlationId : item.caseId,
      idempotencykey: id,
    };
  }
}
