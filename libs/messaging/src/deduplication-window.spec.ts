import { ConfigError, commonConfigSchema, loadConfig } from '@keel/config';
import { allTopics, recordLifetimeMs, topics } from '@keel/contracts';
import { assertDeduplicationCovers } from './deduplication-window';

describe('assertDeduplicationCovers', () => {
  const consumed = [topics.decisions, topics.workflowCommands];

  it('refuses a window shorter than a consumed topic keeps a record, naming the setting and the topic retention', () => {
    const attempt = () => assertDeduplicationCovers(24 * 3_600_000, consumed);

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /PROCESSED_EVENTS_RETENTION_HOURS: 24 h is shorter than keel\.decisions\.v1 may keep a record \(retention\.ms 259200000 \+ segment\.ms 86400000 = 96 h\); set it to at least 96/,
    );
    expect(attempt).toThrow(/keel\.workflow\.commands\.v1/);
  });

  it('accepts a window as long as the longest a consumed topic keeps a record', () => {
    const longest = Math.max(...consumed.map(recordLifetimeMs));
    expect(() => assertDeduplicationCovers(longest, consumed)).not.toThrow();
  });

  it('passes by default for every registry topic', () => {
    const { PROCESSED_EVENTS_RETENTION_HOURS } = loadConfig(commonConfigSchema, {});
    expect(() =>
      assertDeduplicationCovers(PROCESSED_EVENTS_RETENTION_HOURS * 3_600_000, allTopics),
    ).not.toThrow();
  });
});
