import type { z } from 'zod';
import { approvalEventSchema } from './schemas/approval.schema';
import { caseEventSchema } from './schemas/case-event.schema';
import { decisionRecordSchema } from './schemas/decision.schema';
import { knowledgeDocumentSchema } from './schemas/knowledge-document.schema';
import { releaseEventSchema } from './schemas/release.schema';
import { sourceRawEventSchema } from './schemas/source-raw.schema';
import { supportNotificationSchema } from './schemas/support-notification.schema';
import { workflowCommandSchema } from './schemas/workflow-command.schema';
import { workflowEventSchema } from './schemas/workflow-event.schema';

export type ServiceName = 'ingestion' | 'retrieval' | 'decisioning' | 'workflow' | 'governance';

/** One topic: who writes it, how it is keyed and partitioned, and the one schema its data must satisfy. */
export interface TopicDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly owners: readonly (ServiceName | 'source-systems')[];
  /** What the Kafka key (= CloudEvents subject) carries; always a case id so a case is processed in order. */
  readonly key: 'caseId';
  readonly partitions: number;
  /**
   * Kafka `retention.ms`: how long the broker keeps a record. Every consumer's deduplication window must
   * outlast it (see `recordLifetimeMs`), or a record redelivered after its id was forgotten is applied twice.
   */
  readonly retentionMs: number;
  /** `dataschema` attribute every event on this topic carries; a new version means a new entry, never an edit. */
  readonly dataschema: string;
  readonly schema: Schema;
  /**
   * Whether workflow templates may publish here (Kafka tasks). Templates are written outside the platform
   * team, so the topics that steer the platform — approvals, commands, decisions, releases — are never writable.
   */
  readonly writableByTemplates?: true;
}

const day = 86_400_000;
const threeDays = 3 * day;

/**
 * Kafka `segment.ms` of the platform topics. The broker deletes whole segments, once the newest record in
 * one is older than the retention, so a record can outlive `retention.ms` by up to one segment.
 */
export const topicSegmentMs = day;

/** `retention.ms` of the dead-letter twins: long enough for someone to look at a dead letter and replay it. */
export const deadLetterRetentionMs = 28 * day;

/** The longest a record of `topic` can stay on the broker, so be redelivered: retention plus one segment. */
export function recordLifetimeMs(topic: Pick<TopicDefinition, 'retentionMs'>): number {
  return topic.retentionMs + topicSegmentMs;
}

function defineTopic<Schema extends z.ZodType>(definition: TopicDefinition<Schema>): TopicDefinition<Schema> {
  return Object.freeze(definition);
}

/** Every topic of the platform. Schemas evolve by adding versions (`.v2` topics or `@2` data schemas). */
export const topics = {
  sourceRaw: defineTopic({
    name: 'keel.source.raw.v1',
    owners: ['source-systems'],
    key: 'caseId',
    partitions: 6,
    retentionMs: threeDays,
    dataschema: 'keel.source.raw@1',
    schema: sourceRawEventSchema,
  }),
  caseEvents: defineTopic({
    name: 'keel.cases.events.v1',
    owners: ['ingestion'],
    key: 'caseId',
    partitions: 6,
    retentionMs: threeDays,
    dataschema: 'keel.case.event@1',
    schema: caseEventSchema,
  }),
  knowledgeDocuments: defineTopic({
    name: 'keel.knowledge.documents.v1',
    owners: ['ingestion'],
    key: 'caseId',
    partitions: 3,
    retentionMs: threeDays,
    dataschema: 'keel.knowledge.document@1',
    schema: knowledgeDocumentSchema,
  }),
  decisions: defineTopic({
    name: 'keel.decisions.v1',
    owners: ['decisioning'],
    key: 'caseId',
    partitions: 6,
    retentionMs: threeDays,
    dataschema: 'keel.decision@1',
    schema: decisionRecordSchema,
  }),
  workflowCommands: defineTopic({
    name: 'keel.workflow.commands.v1',
    owners: ['decisioning', 'governance'],
    key: 'caseId',
    partitions: 6,
    retentionMs: threeDays,
    dataschema: 'keel.workflow.command@1',
    schema: workflowCommandSchema,
  }),
  workflowEvents: defineTopic({
    name: 'keel.workflow.events.v1',
    owners: ['workflow'],
    key: 'caseId',
    partitions: 6,
    retentionMs: threeDays,
    dataschema: 'keel.workflow.event@1',
    schema: workflowEventSchema,
  }),
  approvals: defineTopic({
    name: 'keel.governance.approvals.v1',
    owners: ['governance', 'workflow'],
    key: 'caseId',
    partitions: 3,
    retentionMs: threeDays,
    dataschema: 'keel.governance.approval@1',
    schema: approvalEventSchema,
  }),
  supportNotifications: defineTopic({
    name: 'keel.support.notifications.v1',
    owners: ['workflow'],
    key: 'caseId',
    partitions: 3,
    retentionMs: threeDays,
    dataschema: 'keel.support.notification@1',
    schema: supportNotificationSchema,
    writableByTemplates: true,
  }),
  releases: defineTopic({
    name: 'keel.governance.releases.v1',
    owners: ['governance'],
    key: 'caseId',
    partitions: 1,
    retentionMs: threeDays,
    dataschema: 'keel.governance.release@1',
    schema: releaseEventSchema,
  }),
} as const;

export type TopicKey = keyof typeof topics;
export type AnyTopic = (typeof topics)[TopicKey];
/** The data type of a topic, inferred from its schema. */
export type TopicData<T extends TopicDefinition> = z.infer<T['schema']>;

export const allTopics: readonly AnyTopic[] = Object.values(topics);

/** Suffix of the dead-letter topic beside each consumed topic. */
export const deadLetterSuffix = '.dlq';

export function deadLetterTopicName(topicName: string): string {
  return `${topicName}${deadLetterSuffix}`;
}

/**
 * The registry with every topic name prefixed by `namespace.` — one broker can then host isolated
 * environments (a test run, a preview). An empty namespace returns the registry unchanged.
 */
export function namespacedTopics(namespace: string): typeof topics {
  if (namespace === '') return topics;
  if (!/^[a-z0-9_-]+$/.test(namespace)) throw new Error(`invalid topic namespace '${namespace}'`);
  return Object.fromEntries(
    Object.entries(topics).map(([key, topic]) => [
      key,
      Object.freeze({ ...topic, name: `${namespace}.${topic.name}` }),
    ]),
  ) as unknown as typeof topics;
}
