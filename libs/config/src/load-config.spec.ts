import { z } from 'zod';
import { ConfigError, loadConfig, serviceConfigSchema } from '@keel/config';

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const config = loadConfig(serviceConfigSchema(3001), {});
    expect(config.PORT).toBe(3001);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.DB_RUN_MIGRATIONS).toBe(true);
  });

  it('listens on the interface HOST names', () => {
    expect(loadConfig(serviceConfigSchema(1), { HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  it('reads an empty or blank variable as unset: the default applies, a required one is missing', () => {
    const config = loadConfig(serviceConfigSchema(3001), {
      PORT: '',
      HOST: ' ',
      PROCESSED_EVENTS_RETENTION_HOURS: '',
      DB_RUN_MIGRATIONS: '',
    });
    expect(config.PORT).toBe(3001);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.PROCESSED_EVENTS_RETENTION_HOURS).toBe(24 * 7);
    expect(config.DB_RUN_MIGRATIONS).toBe(true);
    expect(() => loadConfig(z.object({ API_KEY: z.string() }), { API_KEY: '' })).toThrow(/API_KEY: /);
  });

  it('declares no setting that nothing reads', () => {
    const settings = serviceConfigSchema(1).shape;
    expect(settings).not.toHaveProperty('NODE_ENV');
    expect(settings).not.toHaveProperty('KAFKA_CLIENT_ID');
  });

  it('splits a broker list', () => {
    const config = loadConfig(serviceConfigSchema(1), { KAFKA_BROKERS: 'a:1, b:2' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('names every bad setting in one error', () => {
    const attempt = () =>
      loadConfig(serviceConfigSchema(1), { PORT: 'eighty', KAFKA_BROKERS: 'no-port', DATABASE_URL: 'x' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT: /m);
      expect(problems).toMatch(/^KAFKA_BROKERS\.0: expected host:port/m);
      expect(problems).toMatch(/^DATABASE_URL: /m);
    }
  });

  it('reports a missing required setting by name', () => {
    expect(() => loadConfig(z.object({ API_KEY: z.string() }), {})).toThrow(/API_KEY: /);
  });
});
