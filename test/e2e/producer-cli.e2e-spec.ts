import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent, type KafkaRecord } from '@keel/contracts';
import type { SendSummary } from '@keel/ingestion-client';
import { readTopic, testKafka, testKafkaBrokers, testTokens } from '@keel/testing';
import { IngestionProcess } from './fixtures/ingestion-service.process';

const root = join(__dirname, '../..');
const samples = join(root, 'data/samples');

/**
 * `npm run keel -- send …` as a process, as an operator of tenant `acme` (the samples' tenant, its token in
 * KEEL_TOKEN): its exit code, the JSON summary it prints, and its stderr.
 */
async function keelSend(
  args: readonly string[],
  stdin?: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; summary: SendSummary; stderr: string }> {
  const token = (await testTokens.bearer('acme', 'operator')).replace(/^Bearer /, '');
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(root, 'tools/register.js'),
      join(root, 'apps/keel-cli/src/main.ts'),
      'send',
      ...args,
      '--json',
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KEEL_TOKEN: token, ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve({ code, summary: JSON.parse(stdout) as SendSummary, stderr });
      } catch {
        reject(new Error(`keel send printed no summary (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

const countsOf = (summary: SendSummary) =>
  Object.fromEntries(Object.entries(summary.counts).filter(([, count]) => count > 0));

describe('keel send (the producer CLI) against a running ingestion service', () => {
  let service: IngestionProcess;

  beforeAll(async () => {
    service = await IngestionProcess.start();
  });

  afterAll(() => service?.stop());

  it('sends the bundled sample files over HTTP: all accepted, the resent order a duplicate, a replay all duplicates', async () => {
    const http = ['--url', service.url];
    const orders = await keelSend([join(samples, 'order-system.jsonl'), ...http]);
    const tickets = await keelSend([join(samples, 'support-desk.jsonl'), ...http, '--batch-size', '4']);
    const documents = await keelSend([join(samples, 'knowledge-base.jsonl'), ...http]);
    const replay = await keelSend([join(samples, 'order-system.jsonl'), ...http]);

    expect([orders.code, countsOf(orders.summary)]).toEqual([0, { accepted: 14, duplicate: 1 }]);
    expect([tickets.code, countsOf(tickets.summary)]).toEqual([0, { accepted: 9 }]);
    expect([documents.code, countsOf(documents.summary)]).toEqual([0, { accepted: 6 }]);
    expect([replay.code, countsOf(replay.summary)]).toEqual([0, { duplicate: 15 }]);
  });

  it('reads stdin, and reports every rejection by reason with its line and field (exit 1)', async () => {
    const { code, summary } = await keelSend(
      ['-', '--url', service.url],
      readFileSync(join(samples, 'rejects.jsonl'), 'utf8'),
    );

    expect(code).toBe(1);
    expect(summary.counts.rejected).toBe(6);
    expect(summary.reasons).toEqual({
      'invalid-payload': 2,
      'unknown-schema-version': 1,
      'unknown-source': 1,
      'invalid-request': 1,
      'not-json': 1,
    });
    expect(summary.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 1,
          error: 'invalid-payload',
          violations: [expect.objectContaining({ path: 'payload.region' })],
        }),
        expect.objectContaining({
          line: 3,
          error: 'unknown-source',
          violations: [expect.objectContaining({ path: 'system' })],
        }),
        expect.objectContaining({
          line: 5,
          error: 'invalid-request',
          violations: expect.arrayContaining([expect.objectContaining({ path: 'tenant' })]),
        }),
        expect.objectContaining({ line: 6, error: 'not-json' }),
      ]),
    );
  });

  it("is refused without a token (401) and with another tenant's (403), each event naming the reason", async () => {
    const orders = join(samples, 'order-system.jsonl');
    const anonymous = await keelSend([orders, '--url', service.url], undefined, { KEEL_TOKEN: '' });
    const globex = (await testTokens.bearer('globex', 'operator')).replace(/^Bearer /, '');
    const foreign = await keelSend([orders, '--url', service.url, '--token', globex]);

    expect([anonymous.code, anonymous.summary.reasons]).toEqual([1, { 'missing-token': 15 }]);
    expect([foreign.code, foreign.summary.reasons]).toEqual([1, { 'wrong-tenant': 15 }]);
  });

  it('sends straight to keel.source.raw.v1, which ingestion turns into case events', async () => {
    const { code, summary } = await keelSend([
      join(samples, 'exception-feed.jsonl'),
      '--to',
      'kafka',
      '--brokers',
      testKafkaBrokers.join(','),
      '--namespace',
      service.topics.sourceRaw.name.replace(/\.keel\.source\.raw\.v1$/, ''),
    ]);

    expect([code, countsOf(summary)]).toEqual([0, { sent: 9 }]);
    const caseEvents = await readTopic(testKafka(), service.topics.caseEvents.name, 9, (message) =>
      (message.key?.toString() ?? '').startsWith('exception-'),
    );
    const decoded = caseEvents.map((message) =>
      decodeEvent(service.topics.caseEvents, message as unknown as KafkaRecord),
    );
    expect(new Set(decoded.map((event) => event.data.source.eventId)).size).toBe(9);
    expect(decoded.every((event) => event.data.caseType === 'exception')).toBe(true);
  });
});
