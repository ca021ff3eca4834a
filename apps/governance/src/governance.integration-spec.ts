import { type Role } from '@keel/access';
import { loadConfig } from '@keel/config';
import { decodeEvent, type KafkaRecord, namespacedTopics } from '@keel/contracts';
import { governanceConfigSchema } from '@keel/governance-feature';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import {
  type ScratchDatabase,
  readTopic,
  sampleEvent,
  scratchDatabase,
  silentLogger,
  testKafka,
  testKafkaBrokers,
  testTopicScope,
  validTopicData,
  waitFor,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { governanceService } from './governance.service';
import { startServiceApp } from '@keel/observability';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import agentPolicy from '../../../libs/decisioning/domain/src/policies/agent-policy.v1.json';
import guardrails from '../../../libs/decisioning/domain/src/policies/guardrails.v1.json';
import decidePrompt from '../../../libs/decisioning/domain/src/prompts/decide.prompt.v1.json';
import orderRouting from '../../../libs/workflow-engine/src/templates/order-routing.workflow.json';

const sharedKey = 'governance-integration-shared-key-0123456789';
const issuer = 'keel-governance';
const audience = 'keel';

interface Answer<Body = unknown> {
  readonly status: number;
  readonly body: Body;
}

/**
 * The governance service on real Kafka and Postgres: registry, releases with four-eyes, promotion and rollback
 * on `keel.governance.releases.v1`, the audit chain fed by the topics and its tamper detection, machine
 * tokens, and who may call what.
 */
describe('governance service', () => {
  const namespace = testTopicScope('e2e');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    database = await scratchDatabase('keel_governance');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    const config = loadConfig(governanceConfigSchema, {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: namespace,
      OUTBOX_POLL_MS: '50',
      PORT: '0',
      ACCESS_SHARED_KEY: sharedKey,
      GOVERNANCE_AUDIT_KEY: 'governance-integration-audit-key-0123456789',
      GOVERNANCE_RATE_LIMIT: '100000',
    });
    app = await startServiceApp(governanceService, config, silentLogger('governance'));
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await client?.end();
    await database?.drop();
    await sender.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) => name.startsWith(`${namespace}.`)),
    });
    await admin.disconnect();
  });

  function token(
    subject: string,
    tenant: string,
    roles: readonly Role[],
    options: { key?: string; expiresAt?: number } = {},
  ): Promise<string> {
    return new SignJWT({ tenant, roles })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 300)
      .sign(new TextEncoder().encode(options.key ?? sharedKey));
  }

  async function call<Body = unknown>(
    method: string,
    path: string,
    bearer?: string,
    body?: unknown,
  ): Promise<Answer<Body>> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      body: (type.includes('application/json') ? JSON.parse(text) : text) as Body,
    };
  }

  async function registerAll(bearer: string): Promise<void> {
    for (const [kind, name, content] of [
      ['agent-policy', 'support-agent', agentPolicy],
      ['prompt', 'decide', decidePrompt],
      ['guardrail-policy', 'guardrails', guardrails],
      ['workflow-template', 'order-routing', orderRouting],
    ] as const) {
      const answer = await call('POST', `/v1/artifacts/${kind}/${name}/versions`, bearer, { content });
      expect([kind, answer.status]).toEqual([kind, 201]);
    }
  }

  const proposal = (id: string) => ({
    id,
    agentPolicy: { name: 'support-agent', version: 1 },
    prompt: { name: 'decide', version: 1 },
    model: 'offline-planner@1',
    guardrailPolicy: { name: 'guardrails', version: 1 },
    workflowTemplates: [{ name: 'order-routing', version: 1 }],
  });

  describe('registry', () => {
    it('versions content by hash, lists every problem of an invalid template, and diffs two versions', async () => {
      const alice = await token('alice', 'registry-co', ['operator']);
      const first = await call<{ contentHash: string }>(
        'POST',
        '/v1/artifacts/workflow-template/order-routing/versions',
        alice,
        {
          content: orderRouting,
        },
      );
      expect(first).toMatchObject({
        status: 201,
        body: { version: 1, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      const again = await call('POST', '/v1/artifacts/workflow-template/order-routing/versions', alice, {
        content: orderRouting,
      });
      expect(again).toMatchObject({ status: 200, body: { version: 1, contentHash: first.body.contentHash } });

      // Two independent faults: a step no transition reaches, and a transition to a step that does not exist.
      const broken = {
        ...orderRouting,
        steps: {
          ...orderRouting.steps,
          stray: { kind: 'end' },
          reserveInventory: { ...orderRouting.steps.reserveInventory, next: 'nowhere' },
        },
      };
      const refused = await call<{ error: string; problems: { path: string }[] }>(
        'POST',
        '/v1/artifacts/workflow-template/order-routing/versions',
        alice,
        {
          content: broken,
        },
      );
      expect(refused.status).toBe(422);
      expect(refused.body.error).toBe('invalid-artifact');
      expect(refused.body.problems.map((problem) => problem.path)).toEqual(
        expect.arrayContaining(['steps.stray', 'steps.reserveInventory.next']),
      );

      const changed = { ...orderRouting, description: 'routes orders, reviewed' };
      const second = await call('POST', '/v1/artifacts/workflow-template/order-routing/versions', alice, {
        content: changed,
      });
      expect(second).toMatchObject({ status: 201, body: { version: 2 } });
      const diff = await call('GET', '/v1/artifacts/workflow-template/order-routing/diff?from=1&to=2', alice);
      expect(diff).toEqual({
        status: 200,
        body: [
          {
            path: 'description',
            change: 'changed',
            before: orderRouting.description,
            after: 'routes orders, reviewed',
          },
        ],
      });
    });
  });

  describe('releases', () => {
    it('refuses the author approving their own release, then promotes, rolls back and publishes each move', async () => {
      const alice = await token('alice', 'acme', ['operator', 'approver']);
      const bob = await token('bob', 'acme', ['approver', 'operator']);
      await registerAll(alice);

      for (const id of ['r1', 'r2']) {
        expect((await call('POST', '/v1/releases', alice, proposal(id))).status).toBe(201);
        expect((await call('POST', `/v1/releases/${id}/submit`, alice)).status).toBe(200);
        const own = await call('POST', `/v1/releases/${id}/approve`, alice);
        expect(own).toMatchObject({ status: 403, body: { error: 'four-eyes' } });
        expect(await call('POST', `/v1/releases/${id}/approve`, bob)).toMatchObject({
          status: 200,
          body: { state: 'approved', approvedBy: 'bob' },
        });
        expect((await call('POST', `/v1/releases/${id}/promote`, bob, { stage: 'shadow' })).status).toBe(200);
        expect(await call('POST', `/v1/releases/${id}/promote`, bob, { stage: 'production' })).toMatchObject({
          status: 200,
          body: { state: 'production' },
        });
      }
      expect(await call('POST', '/v1/releases/rollback', bob, { reason: 'refund spike' })).toMatchObject({
        status: 200,
        body: { id: 'r1', state: 'production' },
      });
      const listed = await call<{ id: string; state: string }[]>('GET', '/v1/releases', alice);
      expect(listed.body.map((release) => `${release.id}:${release.state}`)).toEqual([
        'r1:production',
        'r2:rolled-back',
      ]);

      // r1 shadow + production, r2 shadow + production, rollback: r2 rolled back and r1 promoted; 4 versions each.
      const messages = await readTopic(kafka, topics.releases.name, 24);
      const moves = messages
        .map((message) => decodeEvent(topics.releases, message as unknown as KafkaRecord).data)
        .filter((event) => event.artifactKind === 'agent-policy')
        .map((event) => `${event.release?.id}:${event.action}:${event.stage}`);
      expect(moves).toEqual([
        'r1:promoted:shadow',
        'r1:promoted:production',
        'r2:promoted:shadow',
        'r2:promoted:production',
        'r2:rolled_back:production',
        'r1:promoted:production',
      ]);
    });
  });

  describe('audit log', () => {
    const tenant = 'initech';
    const caseEvents = 12;

    beforeAll(async () => {
      const events = Array.from({ length: caseEvents }, (_, offset) =>
        sampleEvent(topics.caseEvents, validTopicData.caseEvents, {
          id: `${namespace}-case-${offset + 1}`,
          idempotencykey: `${namespace}-case-${offset + 1}`,
          subject: `case-${(offset + 1) % 3}`,
          tenant,
        }),
      );
      await publisher.publish(topics.caseEvents, events);
    });

    const rowsOf = async (): Promise<number> =>
      Number(
        (
          await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM governance.audit_log WHERE tenant = $1`,
            [tenant],
          )
        ).rows[0]?.n,
      );

    it('chains every consumed event per tenant and verifies the chain intact', async () => {
      await waitFor(async () => (await rowsOf()) === caseEvents, {
        what: 'the case events in the audit log',
      });
      const viewer = await token('ivy', tenant, ['viewer']);
      expect(await call('GET', '/v1/audit/verify', viewer)).toMatchObject({
        status: 200,
        body: { intact: true, rows: caseEvents, head: { position: caseEvents } },
      });
      const operator = await token('otto', tenant, ['operator']);
      const exported = await call<string>('GET', '/v1/audit/export', operator);
      const lines = exported.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { position: number });
      expect(lines.map((line) => line.position)).toEqual(
        Array.from({ length: caseEvents }, (_, index) => index + 1),
      );
      const ofCase = await call<{ eventId: string }[]>('GET', '/v1/audit/cases/case-1', viewer);
      expect(ofCase.body.map((row) => row.eventId)).toEqual(
        [1, 4, 7, 10].map((index) => `${namespace}-case-${index}`),
      );
    });

    it('fails verify at exactly the row that was updated, deleted or inserted', async () => {
      await waitFor(async () => (await rowsOf()) === caseEvents, {
        what: 'the case events in the audit log',
      });
      const viewer = await token('ivy', tenant, ['viewer']);
      const verify = async (): Promise<unknown> => (await call('GET', '/v1/audit/verify', viewer)).body;
      const table = 'governance.audit_log';

      const [original] = (
        await client.query(`SELECT event FROM ${table} WHERE tenant = $1 AND position = 5`, [tenant])
      ).rows;
      await client.query(
        `UPDATE ${table} SET event = jsonb_set(event, '{data,caseId}', '"forged"') WHERE tenant = $1 AND position = 5`,
        [tenant],
      );
      expect(await verify()).toMatchObject({ intact: false, position: 5, reason: 'hash-mismatch' });
      await client.query(`UPDATE ${table} SET event = $2::jsonb WHERE tenant = $1 AND position = 5`, [
        tenant,
        JSON.stringify(original.event),
      ]);
      expect(await verify()).toMatchObject({ intact: true });

      const [deleted] = (
        await client.query(`DELETE FROM ${table} WHERE tenant = $1 AND position = 7 RETURNING *`, [tenant])
      ).rows;
      expect(await verify()).toMatchObject({ intact: false, position: 7, reason: 'missing-row' });
      await client.query(
        `INSERT INTO ${table} SELECT * FROM jsonb_populate_record(NULL::${table}, $1::jsonb)`,
        [JSON.stringify(deleted)],
      );
      expect(await verify()).toMatchObject({ intact: true });

      // Room for a forged row at position 3: the rows from 3 on move one up.
      await client.query(
        `UPDATE ${table} SET position = position + 1000000 WHERE tenant = $1 AND position >= 3`,
        [tenant],
      );
      await client.query(
        `UPDATE ${table} SET position = position - 999999 WHERE tenant = $1 AND position > 1000000`,
        [tenant],
      );
      await client.query(
        `INSERT INTO ${table} (tenant, position, event_id, topic, type, subject, occurred_at, event, previous_hash, row_hash)
         SELECT tenant, 3, 'forged', topic, type, subject, occurred_at, event, row_hash, repeat('a', 64)
         FROM ${table} WHERE tenant = $1 AND position = 2`,
        [tenant],
      );
      expect(await verify()).toMatchObject({ intact: false, position: 3, reason: 'hash-mismatch' });
    });
  });

  describe('machine tokens', () => {
    it('mints a bearer token from an API key with the key roles, and refuses a wrong key', async () => {
      const admin = await token('root', 'acme', ['admin']);
      const created = await call<{ id: string; key: string }>('POST', '/v1/api-keys', admin, {
        client: 'erp-connector',
        roles: ['viewer'],
      });
      expect(created).toMatchObject({ status: 201, body: { key: expect.stringMatching(/^keel_/) } });
      const stored = await client.query(`SELECT secret_hash FROM governance.api_keys WHERE id = $1`, [
        created.body.id,
      ]);
      expect(created.body.key).not.toContain(stored.rows[0].secret_hash);

      const minted = await call<{ access_token: string }>('POST', '/v1/tokens', undefined, {
        apiKey: created.body.key,
      });
      expect(minted).toMatchObject({ status: 200, body: { token_type: 'Bearer', expires_in: 900 } });
      expect((await call('GET', '/v1/artifacts', minted.body.access_token)).status).toBe(200);
      expect(
        await call('POST', '/v1/releases/rollback', minted.body.access_token, { reason: 'x' }),
      ).toMatchObject({
        status: 403,
        body: { error: 'missing-role' },
      });
      const wrong = `${created.body.key.slice(0, -4)}AAAA`;
      expect(await call('POST', '/v1/tokens', undefined, { apiKey: wrong })).toMatchObject({
        status: 401,
        body: { error: 'invalid-api-key' },
      });
    });
  });

  describe('access', () => {
    // Every endpoint behind the guard with the least role it admits.
    const endpoints: ReadonlyArray<{ method: string; path: string; role: Role; body?: unknown }> = [
      { method: 'GET', path: '/v1/artifacts', role: 'viewer' },
      {
        method: 'POST',
        path: '/v1/artifacts/prompt/matrix/versions',
        role: 'operator',
        body: { content: decidePrompt },
      },
      { method: 'GET', path: '/v1/artifacts/prompt/decide/versions', role: 'viewer' },
      { method: 'GET', path: '/v1/artifacts/prompt/decide/versions/1', role: 'viewer' },
      { method: 'GET', path: '/v1/artifacts/prompt/decide/diff?from=1&to=1', role: 'viewer' },
      { method: 'GET', path: '/v1/releases', role: 'viewer' },
      { method: 'POST', path: '/v1/releases', role: 'operator', body: proposal('matrix') },
      { method: 'POST', path: '/v1/releases/matrix/submit', role: 'operator' },
      { method: 'POST', path: '/v1/releases/matrix/approve', role: 'approver' },
      { method: 'POST', path: '/v1/releases/matrix/reject', role: 'approver', body: { reason: 'no' } },
      { method: 'POST', path: '/v1/releases/matrix/promote', role: 'operator', body: { stage: 'shadow' } },
      { method: 'POST', path: '/v1/releases/rollback', role: 'operator', body: { reason: 'matrix' } },
      { method: 'GET', path: '/v1/audit/verify', role: 'viewer' },
      { method: 'GET', path: '/v1/audit/cases/case-1', role: 'viewer' },
      { method: 'GET', path: '/v1/audit/export', role: 'operator' },
      { method: 'POST', path: '/v1/api-keys', role: 'admin', body: { client: 'matrix', roles: ['viewer'] } },
    ];
    const admits: Readonly<Record<Role, readonly Role[]>> = {
      viewer: ['viewer', 'operator', 'approver', 'admin'],
      operator: ['operator', 'admin'],
      approver: ['approver', 'admin'],
      admin: ['admin'],
    };

    it('answers every endpoint × role × no/expired/forged token with 2xx, 401 or 403', async () => {
      const matrixTenant = 'matrix-co';
      await registerAll(await token('setup', matrixTenant, ['operator']));
      const expired = await token('eve', matrixTenant, ['admin'], {
        expiresAt: Math.floor(Date.now() / 1000) - 120,
      });
      const forged = await token('eve', matrixTenant, ['admin'], { key: 'f'.repeat(48) });
      const outcomes: string[] = [];
      const expected: string[] = [];
      for (const endpoint of endpoints) {
        const label = `${endpoint.method} ${endpoint.path}`;
        for (const [who, bearer] of [
          ['none', undefined],
          ['expired', expired],
          ['forged', forged],
        ] as const) {
          outcomes.push(
            `${label} ${who} ${(await call(endpoint.method, endpoint.path, bearer, endpoint.body)).status}`,
          );
          expected.push(`${label} ${who} 401`);
        }
        for (const role of ['viewer', 'operator', 'approver', 'admin'] as const) {
          const { status } = await call(
            endpoint.method,
            endpoint.path,
            await token(`${role}-user`, matrixTenant, [role]),
            endpoint.body,
          );
          const allowed = admits[endpoint.role].includes(role);
          // Admitted: the guard let it through; what the endpoint answers then is its own (2xx, or 409 for a step
          // the release's state does not allow when an earlier role already took it).
          outcomes.push(
            `${label} ${role} ${allowed ? (status < 300 || status === 409 ? 'admitted' : status) : status}`,
          );
          expected.push(`${label} ${role} ${allowed ? 'admitted' : 403}`);
        }
      }
      expect(outcomes).toEqual(expected);
    });

    it("never shows a tenant another tenant's data", async () => {
      const acmeOperator = await token('alice', 'acme', ['operator']);
      await call('POST', '/v1/artifacts/prompt/acme-only/versions', acmeOperator, { content: decidePrompt });
      const globex = await token('gina', 'globex', ['admin']);
      const listed = await call('GET', '/v1/artifacts', globex);
      expect(listed).toEqual({ status: 200, body: [] });
      expect((await call('GET', '/v1/artifacts/prompt/acme-only/versions/1', globex)).status).toBe(404);
      expect((await call('GET', '/v1/releases', globex)).body).toEqual([]);
      expect((await call('GET', '/v1/artifacts?tenant=acme', globex)).body).toMatchObject({
        error: 'wrong-tenant',
      });
      expect((await call('GET', '/v1/audit/verify', globex)).body).toMatchObject({ intact: true, rows: 0 });
      expect((await call('GET', '/v1/audit/cases/case-1', globex)).body).toEqual([]);
    });
  });
});
