import {
  type TopicDefinition,
  buildEvent,
  ContractViolationError,
  topics as registry,
} from '@keel/contracts';
import type { EventPublisher } from '@keel/messaging';
import type { RenderedConnectorCall } from '@keel/workflow-engine';
import {
  type Connector,
  type ConnectorCallContext,
  type ConnectorOutputs,
  type ConnectorResult,
  errorText,
} from './connector';

type KafkaCall = Extract<RenderedConnectorCall, { type: 'kafka' }>;

function templateWritableTopics(): string {
  return Object.entries(registry)
    .filter(([, topic]) => topic.writableByTemplates)
    .map(([key]) => key)
    .join(', ');
}

/**
 * Publishes the rendered value as the data of a CloudEvent on a registry topic, named by its key
 * (`supportNotifications`) or its registry name (`keel.support.notifications.v1`); the deployment's
 * namespace applies either way. Only topics the registry marks `writableByTemplates` are accepted. The event id is the idempotency key, so consumers deduplicate a
 * re-issued attempt.
 */
export class KafkaConnector implements Connector<KafkaCall> {
  readonly type = 'kafka' as const;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly topics: Readonly<Partial<Record<string, TopicDefinition>>>,
    private readonly source: string,
  ) {}

  async execute(
    call: KafkaCall,
    context: ConnectorCallContext,
  ): Promise<ConnectorResult<ConnectorOutputs['kafka']>> {
    const key =
      call.topic in registry
        ? call.topic
        : Object.entries(registry).find(([, t]) => t.name === call.topic)?.[0];
    const topic = key === undefined ? undefined : this.topics[key];
    if (!topic)
      return { outcome: 'failed', error: `'${call.topic}' is not a topic of the registry`, retryable: false };
    if (!topic.writableByTemplates)
      return {
        outcome: 'failed',
        error: `'${call.topic}' is not writable by workflow templates (writable: ${templateWritableTopics()})`,
        retryable: false,
      };
    try {
      const event = buildEvent(topic, {
        id: context.idempotencyKey,
        source: this.source,
        type: 'keel.workflow.published',
        time: new Date().toISOString(),
        subject: call.key ?? context.caseId,
        tenant: context.tenant,
        correlationid: context.correlationId,
        idempotencykey: context.idempotencyKey,
        data: call.value,
      });
      // kafkajs has no per-send deadline; past the attempt's budget the outcome is unknown (the record may
      // still go out, under the idempotency key as its event id, which consumers deduplicate on).
      if (!(await settlesWithin(this.publisher.publish(topic, [event]), context.timeoutMs))) {
        return { outcome: 'timedOut' };
      }
      return { outcome: 'succeeded', output: { topic: topic.name, eventId: event.id } };
    } catch (error) {
      return {
        outcome: 'failed',
        error: errorText(error),
        retryable: !(error instanceof ContractViolationError),
      };
    }
  }
}

/** Whether `work` succeeds within `ms`; it rejects as it would. Past the budget it keeps going, unobserved. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(() => true as const);
  try {
    const settled = await Promise.race([done, expired]);
    if (!settled) done.catch(() => undefined);
    return settled;
  } finally {
    clearTimeout(timer);
  }
}
