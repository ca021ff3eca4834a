/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { createHash } from 'node:crypto';
import { loadConfig } from '@keel/config';
import {
  type CloudEvent,
  type ContextQueryResponse,
  type KnowledgeDocument,
  buildEvent,
  contextQueryPath,
  deadLetterTopicName,
  namespacedTopics,
} from '@keel/contracts';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import {
  type ScratchDatabase,
  readTopic,
  scratchDatabase,
  silentLogger,
  testKafka,
  testAccessEnv,
  testKafkaBrokers,
  testTokens,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import { type INestApplication } from '@nestjs/common';
import { retrievalService } from './retrieval.service';
import { startServiceApp } from '@keel/observability';
import { Client } from 'pg';

/**
 * The retrieval service on real Kafka and Postgres with the embedded index and the local MiniLM model:
 * knowledge documents in, context queries answered over HTTP, versions replaced, stale and conflicting
 * versions handled, tenants kept apart, deletion.
 */
describe('retrieval service', () => {
  const namespace = testTopicScope('retrieval');
  const topics = namespacedTopics(namespace);
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    database = await scratchDatabase('keel_retrieval');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(topics)));
    const config = loadConfig(retrievalConfigSchema, {
      ...testAccessEnv,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      KEEL_TOPIC_NAMESPACE: namespace,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      CONSUMER_MAX_ATTEMPTS: '1',
      PORT: '0',
    });
    app = await startServiceApp(retrievalService, config, silentLogger('retrieval'));
    url = await app.getUrl();
  }, 180_000);

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

  let sequence = 0;
  function knowledge(
    tenant: string,
    data: Omit<KnowledgeDocument, 'contentHash'>,
  ): CloudEvent<KnowledgeDocument> {
    sequence += 1;
    const id = `${namespace}-${sequence}`;
    return buildEvent(topics.knowledgeDocuments, {
      id,
      source: 'urn:keel:ingestion',
      type: 'keel.knowledge.document.published',
      time: new Date().toISOString(),
      subject: data.documentId,
      tenant,
      correlationid: data.documentId,
      idempotencykey: id,
      data: { ...data, contentHash: createHash('sha256').update(data.content).digest('hex') },
    });
  }

  /** As a viewer of the tenant the query names (`acme` when it names none). */
  async function post(body: unknown): Promise<{ status: number; json: { error?: string } }> {
    const tenant = (body as { tenant?: string }).tenant ?? 'acme';
    const response = await fetch(`${url}${contextQueryPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await testTokens.headers(tenant, 'viewer')) },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as { error?: string } };
  }

  async function ask(body: unknown): Promise<{ json: ContextQueryResponse }> {
    const { status, json } = await post(body);
    if (status !== 200) throw new Error(`context query answered ${status}: ${JSON.stringify(json)}`);
    return { json: json as ContextQueryResponse };
  }

  const refunds = (version: number, content: string) => ({
    documentId: 'refunds',
    version,
    title: 'Refund policy',
    mediaType: 'text/markdown' as const,
    content,
    tags: ['policy'],
  });

  it('indexes a document and answers a context query with provenance', async () => {
    await publisher.publish(topics.knowledgeDocuments, [
      knowledge('acme', refunds(1, '# Window\nRefunds are paid within thirty days of delivery.')),
    ]);
    const answer = await waitFor(async () => {
      const { json } = await ask({ tenant: 'acme', query: 'how long do refunds take' });
      return json.chunks.length > 0 && json;
    });
    expect(answer.chunks[0]).toMatchObject({
      documentId: 'refunds',
      version: 1,
      chunkId: 'refunds@1#0',
      chunkHash: createHash('sha256')
        .update('Refunds are paid within thirty days of delivery.')
        .digest('hex'),
      title: 'Refund policy',
      headingPath: ['Window'],
      tags: ['policy'],
    });
  });

  it('replaces the chunks with a newer version, skips an older one, and dead-letters a rewritten version', async () => {
    await publisher.publish(topics.knowledgeDocuments, [
      knowledge('acme', refunds(2, '# Window\nRefunds are paid within fourteen days.')),
    ]);
    await waitFor(
      async () => (await ask({ tenant: 'acme', query: 'refunds' })).json.chunks[0]?.version === 2,
    );
    const stale = knowledge('acme', refunds(1, '# Window\nRefunds are paid within thirty days of delivery.'));
    const conflicting = knowledge('acme', refunds(2, 'Refunds are never paid.'));
    await publisher.publish(topics.knowledgeDocuments, [stale, conflicting]);
    const [dead] = await readTopic(
      kafka,
      deadLetterTopicName(topics.knowledgeDocuments.name),
      1,
      (message) => message.headers?.ce_id?.toString() === conflicting.id,
    );
    expect(dead).toBeDefined();
    const { json } = await ask({ tenant: 'acme', query: 'refunds paid', mode: 'sparse' });
    expect(json.chunks.map((chunk) => [chunk.version, chunk.text])).toEqual([
      [2, 'Refunds are paid within fourteen days.'],
    ]);
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM "retrieval"."documents" WHERE tenant = 'acme' AND document_id = 'refunds'`,
    );
    expect(rows).toEqual([{ version: 2 }]);
  });

  it('keeps tenants apart, refuses a malformed query, and forgets a deleted document', async () => {
    expect((await ask({ tenant: 'globex', query: 'refunds' })).json.chunks).toEqual([]);
    const malformed = await post({ query: 'no tenant' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBe('invalid-request');
    const remove = async () =>
      fetch(`${url}/v1/tenants/acme/documents/refunds`, {
        method: 'DELETE',
        headers: await testTokens.headers('acme', 'operator'),
      });
    const asGlobex = await testTokens.headers('globex', 'admin');
    const foreignQuery = await fetch(`${url}${contextQueryPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asGlobex },
      body: JSON.stringify({ tenant: 'acme', query: 'refunds' }),
    });
    expect([foreignQuery.status, ((await foreignQuery.json()) as { error: string }).error]).toEqual([
      403,
      'wrong-tenant',
    ]);
    const foreignDelete = await fetch(`${url}/v1/tenants/acme/documents/refunds`, {
      method: 'DELETE',
      headers: asGlobex,
    });
    expect(foreignDelete.status).toBe(403);
    expect((await remove()).status).toBe(204);
    expect((await ask({ tenant: 'acme', query: 'refunds' })).json.chunks).toEqual([]);
    expect((await remove()).status).toBe(404);
  });
});
