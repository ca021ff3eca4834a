import { namespacedTopics } from '@keel/contracts';
import { ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  callJson,
  scratchDatabase,
  type ScratchDatabase,
  testKafka,
  testTokens,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import { ServiceProcess } from '../../../test/e2e/fixtures/service.process';
import orderSystemV2 from '../../../libs/ingestion/domain/src/sources/order-system.v2.json';

const tenant = 'acme';

async function call(url: string, method: string, role: 'operator' | 'admin' | 'viewer', body?: unknown) {
  return callJson<Record<string, unknown>>(method, url, {
    authorization: await testTokens.bearer(tenant, role),
    body,
  });
}

/** An order of order-system in the payload shape of `schemaVersion` (v1; v2 and the v3 registered here). */
const order = (eventId: string, schemaVersion: number) => ({
  tenant,
  system: 'order-system',
  eventType: 'order.placed',
  schemaVersion,
  payload: {
    eventId,
    orderId: `O-${eventId.replace(/[^A-Za-z0-9-]/g, '-')}`,
    occurredAt: '2026-12-01T09:00:00Z',
    region: 'EU',
    address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
    lines: [{ sku: 'sku-1', quantity: 1 }],
    ...(schemaVersion === 1
      ? { customerId: 'c-1', weightKg: 2 }
      : { customer: { id: 'c-1' }, weightGrams: 2000 }),
  },
});

/**
 * Source schemas from governance's registry, on real Kafka and Postgres with both services as processes:
 * a version registered in governance is accepted by the running ingestion service within seconds, beside
 * the versions already in force; an unknown version is refused naming it; a restarted ingestion service
 * admits the adopted version with governance gone, from its own schema.
 */
describe('ingestion follows event-schema versions in governance', () => {
  const namespace = testTopicScope('schemas');
  let governanceDb: ScratchDatabase;
  let ingestionDb: ScratchDatabase;
  let governance: ServiceProcess | undefined;
  let ingestion: ServiceProcess | undefined;
  const post = (body: unknown) => call(`${ingestion?.url}/v1/events`, 'POST', 'operator', body);

  beforeAll(async () => {
    await ensureTopics(testKafka(), topicSpecsWithDeadLetters(Object.values(namespacedTopics(namespace))));
    governanceDb = await scratchDatabase('keel_governance_schemas');
    ingestionDb = await scratchDatabase('keel_ingestion_schemas');
    governance = new ServiceProcess('governance', {
      DATABASE_URL: governanceDb.url,
      KEEL_TOPIC_NAMESPACE: namespace,
      GOVERNANCE_AUDIT_KEY: 'ingestion-schemas-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
    });
    await governance.start();
    const key = await call(`${governance.url}/v1/api-keys`, 'POST', 'admin', {
      client: 'ingestion-service',
      roles: ['viewer'],
    });
    ingestion = new ServiceProcess('ingestion', {
      DATABASE_URL: ingestionDb.url,
      KEEL_TOPIC_NAMESPACE: namespace,
      GOVERNANCE_URL: governance.url,
      GOVERNANCE_API_KEY: String(key.body.key),
      INGESTION_SCHEMA_REFRESH_MS: '200',
    });
    await ingestion.start();
  }, 300_000);

  afterAll(async () => {
    await ingestion?.stop();
    await governance?.stop();
    await ingestionDb?.drop();
    await governanceDb?.drop();
  });

  it('refuses an unknown version with 422 naming it, then accepts it within seconds of its registration', async () => {
    const refused = await post(order('v3-before', 3));
    expect(refused).toMatchObject({
      status: 422,
      body: {
        error: 'unknown-schema-version',
        message: 'order-system has no schema version 3',
        violations: [{ path: 'schemaVersion', message: 'unknown version; known: 1, 2' }],
      },
    });

    const v3 = { ...orderSystemV2, version: 3, description: 'Order system v3: v2 with an optional channel.' };
    const registered = await call(
      `${governance?.url}/v1/artifacts/event-schema/order-system/versions`,
      'POST',
      'operator',
      { content: v3 },
    );
    expect(registered.status).toBe(201);
    const registeredAt = Date.now();
    const accepted = await waitFor(
      async () => {
        const answer = await post(order(`v3-${Date.now()}`, 3));
        return answer.status === 202 ? answer : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'order-system@3 accepted' },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${ingestion?.output() ?? ''}`);
    });
    const seconds = (Date.now() - registeredAt) / 1000;
    process.stdout.write(`event-schema registered → accepted by ingestion in ${seconds.toFixed(2)} s\n`);
    expect(accepted.body).toMatchObject({ outcome: 'accepted' });

    // The versions already in force stay live beside it: a submission names the one it is built for.
    expect(await post(order('v1-after', 1))).toMatchObject({ status: 202 });
    expect(await post(order('v2-after', 2))).toMatchObject({ status: 202 });
    const sources = (await fetch(`${ingestion?.url}/v1/sources`, {
      headers: await testTokens.headers(tenant, 'viewer'),
    }).then((response) => response.json())) as Array<{ system: string; versions: number[] }>;
    expect(sources.find((source) => source.system === 'order-system')?.versions).toEqual([1, 2, 3]);
    expect(await (await fetch(`${ingestion?.url}/metrics`)).text()).toMatch(
      /^keel_ingestion_schema_versions_total\{[^}]*outcome="adopted"[^}]*\} 1$/m,
    );
  });

  it('refuses a registry version that would change a version already in force, keeping the old one', async () => {
    const changed = { ...orderSystemV2, version: 3, eventTypes: ['order.cancelled'] };
    await call(`${governance?.url}/v1/artifacts/event-schema/order-system/versions`, 'POST', 'operator', {
      content: changed,
    });

    await waitFor(
      async () =>
        /^keel_ingestion_schema_versions_total\{[^}]*outcome="conflict"[^}]*\} 1$/m.test(
          await (await fetch(`${ingestion?.url}/metrics`)).text(),
        ),
      { timeoutMs: 10_000, intervalMs: 100, what: 'the conflicting version looked at' },
    );
    expect(await post(order('v3-still', 3))).toMatchObject({ status: 202 });
  });

  it('admits the adopted version after a restart with governance gone, from its own schema', async () => {
    await governance?.stop();
    governance = undefined;
    await ingestion?.stop();
    await ingestion?.start();

    expect(await post(order('v3-restarted', 3))).toMatchObject({ status: 202 });
    expect(await post(order('v4-restarted', 4))).toMatchObject({
      status: 422,
      body: { error: 'unknown-schema-version', violations: [{ path: 'schemaVersion' }] },
    });
  });
});
