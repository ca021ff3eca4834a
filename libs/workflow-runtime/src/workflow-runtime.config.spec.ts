import { ConfigError, loadConfig } from '@keel/config';
import { workflowConfigSchema } from '@keel/workflow-runtime';

const access = { ACCESS_SHARED_KEY: 'workflow-config-spec-key-0123456789abcdef' };

describe('workflowConfigSchema', () => {
  it('needs a way to verify bearer tokens', () => {
    expect(() => loadConfig(workflowConfigSchema, {})).toThrow(/ACCESS_SHARED_KEY: set ACCESS_JWKS_URL/);
  });

  it('reads the named base URLs of HTTP services', () => {
    const config = loadConfig(workflowConfigSchema, {
      ...access,
      WORKFLOW_HTTP_SERVICES: 'inventory=http://inventory:8080, carriers=https://carriers.example/api',
    });
    expect(config.WORKFLOW_HTTP_SERVICES).toEqual({
      inventory: 'http://inventory:8080',
      carriers: 'https://carriers.example/api',
    });
    expect(config.PORT).toBe(3004);
  });

  it('keeps a base URL with = in it (a query string)', () => {
    const config = loadConfig(workflowConfigSchema, {
      ...access,
      WORKFLOW_HTTP_SERVICES: 'carriers=https://carriers.example/api?region=eu&tier=1',
    });
    expect(config.WORKFLOW_HTTP_SERVICES).toEqual({
      carriers: 'https://carriers.example/api?region=eu&tier=1',
    });
  });

  it('reads an empty retention as unset, never as "delete at once"', () => {
    const config = loadConfig(workflowConfigSchema, {
      ...access,
      WORKFLOW_RETENTION_HOURS: '',
      PORT: '',
    });
    expect(config.WORKFLOW_RETENTION_HOURS).toBe(24 * 7);
    expect(config.PORT).toBe(3004);
  });

  it('names a malformed service entry', () => {
    expect(() =>
      loadConfig(workflowConfigSchema, {
        ...access,
        WORKFLOW_HTTP_SERVICES: 'inventory',
      }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig(workflowConfigSchema, {
        ...access,
        WORKFLOW_HTTP_SERVICES: 'inventory',
      }),
    ).toThrow(/WORKFLOW_HTTP_SERVICES: expected name=url, got 'inventory'/);
  });
});
