import { ConfigError } from '@keel/config';
import { type TopicDefinition, recordLifetimeMs, topicSegmentMs } from '@keel/contracts';

const hour = 3_600_000;

/**
 * Refuses to consume with a deduplication window (`PROCESSED_EVENTS_RETENTION_HOURS`) shorter than a consumed
 * topic may keep a record: a record redelivered after its processed id was pruned — a replay, a group reset,
 * a consumer down for days — would be applied a second time.
 */
export function assertDeduplicationCovers(windowMs: number, topics: readonly TopicDefinition[]): void {
  const problems = topics
    .filter((topic) => recordLifetimeMs(topic) > windowMs)
    .map(
      (topic) =>
        `PROCESSED_EVENTS_RETENTION_HOURS: ${windowMs / hour} h is shorter than ${topic.name} may keep a ` +
        `record (retention.ms ${topic.retentionMs} + segment.ms ${topicSegmentMs} = ` +
        `${recordLifetimeMs(topic) / hour} h); set it to at least ${Math.ceil(recordLifetimeMs(topic) / hour)}`,
    );
  if (problems.length > 0) throw new ConfigError(problems);
}
