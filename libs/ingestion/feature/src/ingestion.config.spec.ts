import { ConfigError, loadConfig } from '@keel/config';
import { ingestionConfigSchema } from './ingestion.config';

describe('ingestion config', () => {
  it('defaults every limit, an empty variable meaning unset', () => {
    const config = loadConfig(ingestionConfigSchema, {
      INGESTION_MAX_BODY_BYTES: '',
      INGESTION_RATE_LIMIT: ' ',
      ACCESS_SHARED_KEY: 'ingestion-config-spec-key-0123456789abcdef',
    });

    expect(config).toMatchObject({
      PORT: 3001,
      INGESTION_MAX_BODY_BYTES: 1_048_576,
      INGESTION_MAX_BATCH_EVENTS: 500,
      INGESTION_MAX_PAYLOAD_DEPTH: 12,
      INGESTION_RATE_LIMIT: 1_200,
      INGESTION_RATE_WINDOW_MS: 60_000,
      INGESTION_MAX_PUBLISH_LAG_MS: 10_000,
      INGESTION_DEDUPE_RETENTION_HOURS: 168,
    });
    expect(config.INGESTION_SOURCES_DIR).toBeUndefined();
  });

  it('names each limit it cannot use', () => {
    const attempt = () =>
      loadConfig(ingestionConfigSchema, {
        INGESTION_MAX_BATCH_EVENTS: '0',
        INGESTION_MAX_PAYLOAD_DEPTH: 'deep',
      });

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/INGESTION_MAX_BATCH_EVENTS: [\s\S]*INGESTION_MAX_PAYLOAD_DEPTH: /);
  });

  it('follows governance only with both its URL and an API key, every 2 s unless told', () => {
    const key = { ACCESS_SHARED_KEY: 'ingestion-config-spec-key-0123456789abcdef' };

    expect(loadConfig(ingestionConfigSchema, key)).toMatchObject({ INGESTION_SCHEMA_REFRESH_MS: 2_000 });
    expect(loadConfig(ingestionConfigSchema, key).GOVERNANCE_URL).toBeUndefined();
    expect(
      loadConfig(ingestionConfigSchema, {
        ...key,
        GOVERNANCE_URL: 'http://governance:3005',
        GOVERNANCE_API_KEY: 'k',
      }),
    ).toMatchObject({ GOVERNANCE_URL: 'http://governance:3005', GOVERNANCE_TIMEOUT_MS: 5_000 });
    expect(() =>
      loadConfig(ingestionConfigSchema, { ...key, GOVERNANCE_URL: 'http://governance:3005' }),
    ).toThrow(/GOVERNANCE_API_KEY: GOVERNANCE_URL and GOVERNANCE_API_KEY go together/);
  });
});
