import { type CloudEvent, type TopicDefinition, decodeEvent, namespacedTopics } from '@keel/contracts';
import type { KafkaConsumerPort, KafkaPort } from '@keel/messaging';
import type { EachBatchPayload } from 'kafkajs';
import type { KpiMetrics } from './kpi.metrics';

const terminal = new Set(['completed', 'failed', 'compensated', 'cancelled']);

/**
 * The KPIs no target system sees, read from the platform's own events: escalation latency (the case event's
 * time to the workflow's `approval.requested`), SLA breaches (support routing asking a lead after the SLA
 * ran out) and exception-handling throughput (finished instances). A plain consumer group of its own on
 * the case and workflow topics (a real broker or the in-process bus alike); it keeps no state worth
 * persisting, so it starts from the beginning and commits nothing.
 */
export class WorkflowKpiObserver {
  private consumer: KafkaConsumerPort | undefined;
  private readonly caseSeenAt = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly topics: { caseEvents: TopicDefinition; workflowEvents: TopicDefinition };

  constructor(
    private readonly kafka: KafkaPort,
    private readonly kpis: KpiMetrics,
    private readonly options: { readonly namespace?: string; readonly groupId?: string } = {},
  ) {
    const registry = namespacedTopics(options.namespace ?? '');
    this.topics = { caseEvents: registry.caseEvents, workflowEvents: registry.workflowEvents };
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.options.groupId ?? 'keel-kpi-observer' });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.topics.caseEvents.name, this.topics.workflowEvents.name],
      fromBeginning: true,
    });
    await consumer.run({ eachBatch: (payload) => this.observe(payload) });
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private observe({ batch }: EachBatchPayload): Promise<void> {
    const topic =
      batch.topic === this.topics.caseEvents.name ? this.topics.caseEvents : this.topics.workflowEvents;
    for (const message of batch.messages) {
      let event: CloudEvent;
      try {
        event = decodeEvent(topic, {
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
        });
      } catch {
        // Not a valid event: the services' own consumers dead-letter it; nothing to measure here.
        continue;
      }
      if (topic === this.topics.caseEvents) this.onCaseEvent(event);
      else this.onWorkflowEvent(event as CloudEvent<WorkflowEventData>);
    }
    return Promise.resolve();
  }

  private onCaseEvent(event: CloudEvent): void {
    if (!this.caseSeenAt.has(event.subject)) this.caseSeenAt.set(event.subject, Date.parse(event.time));
  }

  private onWorkflowEvent(event: CloudEvent<WorkflowEventData>): void {
    const { template, transition, stepId, status, instanceId } = event.data;
    if (transition === 'approval.requested') {
      const since = this.caseSeenAt.get(event.subject);
      if (since !== undefined) {
        this.kpis.escalationLatency.observe(
          { workflow: template },
          Math.max(0, Date.parse(event.time) - since) / 1000,
        );
      }
      if (template === 'support-routing' && stepId === 'escalate') this.kpis.slaBreaches.inc();
    }
    if (template === 'exception-handling' && terminal.has(status) && !this.finished.has(instanceId)) {
      this.finished.add(instanceId);
      this.kpis.exceptionsHandled.inc({ status });
    }
  }
}

interface WorkflowEventData {
  readonly instanceId: string;
  readonly template: string;
  readonly transition: string;
  readonly stepId?: string;
  readonly status: string;
}
