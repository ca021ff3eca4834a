/** @jest-environment ./libs/retrieval/data-access/src/onnx-runtime.test-environment.js */
import { createHash } from 'node:crypto';
import { loadConfig } from '@keel/config';
import {
  type CloudEvent,
  type ContextQueryResponse,
  type KnowledgeDocument,
  buildEvent,
  contextQueryPath,
  namespacedTopics,
} from '@keel/contracts';
import { EventPublisher, KafkaRecordSender, ensureTopics, topicSpecsWithDeadLetters } from '@keel/messaging';
import { startServiceApp } from '@keel/observability';
import { retrievalConfigSchema } from '@keel/retrieval-feature';
import {
  type ScratchDatabase,
  scratchDatabase,
  silentLogger,
  testAccessEnv,
  testKafka,
  testKafkaBrokers,
  testTokens,
  testTopicScope,
  waitFor,
} from '@keel/testing';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { retrievalService } from './retrieval.service';

/**
 * The embedded index across a restart, on real Kafka and Postgres with the local MiniLM model: the service
 * indexes, re-indexes and deletes, stops, and boots again on the same database but on topics where nothing
 * was published, so whatever it answers comes from the rows it kept, not from consuming again.
 */
describe('retrieval service restarted with the embedded index', () => {
  const kafka = testKafka();
  const sender = new KafkaRecordSender(kafka);
  const publisher = new EventPublisher(sender);
  const namespaces = [testTopicScope('retrieval-restart'), testTopicScope('retrieval-restart')];
  let database: ScratchDatabase;
  let client: Client;
  let app: INestApplication | undefined;
  let url: string;

  async function boot(namespace: string): Promise<void> {
    await ensureTopics(kafka, topicSpecsWithDeadLetters(Object.values(namespacedTopics(namespace))));
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
  }

  beforeAll(async () => {
    database = await scratchDatabase('keel_retrieval_restart');
    client = new Client({ connectionString: database.url });
    await client.connect();
    await boot(namespaces[0]);
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await client?.end();
    await database?.drop();
    await sender.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: (await admin.listTopics()).filter((name) =>
        namespaces.some((namespace) => name.startsWith(`${namespace}.`)),
      ),
    });
    await admin.disconnect();
  });

  let sequence = 0;
  function knowledge(tenant: string, data: Omit<KnowledgeDocument, 'contentHash'>): CloudEvent<KnowledgeDocument> {
    sequence += 1;
    const id = `${namespaces[0]}-${sequence}`;
    return buildEvent(namespacedTopics(namespaces[0]).knowledgeDocuments, {
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

  const document = (documentId: string, version: number, title: string, content: string) => ({
    documentId,
    version,
    title,
    mediaType: 'text/markdown' as const,
    content,
    tags: ['policy'],
  });

  async function ask(tenant: string, query: string, mode: string): Promise<ContextQueryResponse> {
    const response = await fetch(`${url}${contextQueryPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await testTokens.headers(tenant, 'viewer')) },
      body: JSON.stringify({ tenant, query, mode, limit: 10 }),
    });
    if (response.status !== 200) throw new Error(`context query answered ${response.status}`);
    return (await response.json()) as ContextQueryResponse;
  }

  const questions = [
    ['acme', 'how long do refunds take', 'hybrid'],
    ['acme', 'refunds paid days', 'sparse'],
    ['acme', 'parcel delivery time', 'dense'],
    ['globex', 'refunds', 'hybrid'],
  ] as const;

  it('answers after the restart exactly as before it, replaced and deleted documents staying gone', async () => {
    await publisher.publish(namespacedTopics(namespaces[0]).knowledgeDocuments, [
      knowledge('acme', document('refunds', 1, 'Refund policy', '# Window\nRefunds are paid within thirty days.')),
      knowledge(
        'acme',
        document('shipping', 1, 'Shipping', '# Parcels\nParcels are delivered within two days.\n# Customs\nDuties apply.'),
      ),
      knowledge('acme', document('returns', 3, 'Returns', 'Returns are accepted for sixty days with a receipt.')),
      knowledge('globex', document('refunds', 1, 'Globex refunds', 'Globex refunds take a week.')),
      knowledge('acme', document('refunds', 2, 'Refund policy', '# Window\nRefunds are paid within fourteen days.')),
    ]);
    await waitFor(async () => {
      const [acme, globex] = await Promise.all([
        ask('acme', 'refunds returns parcels', 'sparse'),
        ask('globex', 'refunds', 'sparse'),
      ]);
      const versions = new Map(acme.chunks.map((chunk) => [chunk.documentId, chunk.version]));
      return (
        versions.get('refunds') === 2 && versions.has('shipping') && versions.has('returns') && globex.chunks.length > 0
      );
    });
    const deleted = await fetch(`${url}/v1/tenants/acme/documents/returns`, {
      method: 'DELETE',
      headers: await testTokens.headers('acme', 'operator'),
    });
    expect(deleted.status).toBe(204);
    const before = await Promise.all(questions.map(([tenant, query, mode]) => ask(tenant, query, mode)));
    const documentsSeen = new Set(before.flatMap((answer) => answer.chunks.map((chunk) => chunk.documentId)));
    expect(documentsSeen).toEqual(new Set(['refunds', 'shipping']));

    await app?.close();
    app = undefined;
    const { rows } = await client.query<{ tenant: string; document_id: string; version: number; chunks: number }>(
      `SELECT d.tenant, d.document_id, d.version, count(c.*)::int AS chunks
         FROM "retrieval"."embedded_documents" d JOIN "retrieval"."embedded_chunks" c USING (tenant, document_id)
        GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { tenant: 'acme', document_id: 'refunds', version: 2, chunks: 1 },
      { tenant: 'acme', document_id: 'shipping', version: 1, chunks: 2 },
      { tenant: 'globex', document_id: 'refunds', version: 1, chunks: 1 },
    ]);

    await boot(namespaces[1]);
    const after = await Promise.all(questions.map(([tenant, query, mode]) => ask(tenant, query, mode)));
    expect(after).toEqual(before);
  }, 240_000);
});
