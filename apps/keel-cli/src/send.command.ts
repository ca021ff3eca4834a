import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { namespacedTopics } from '@keel/contracts';
import {
  type EventSink,
  HttpIngestionClient,
  KafkaIngestionClient,
  sendLines,
  type SendSummary,
  summarize,
} from '@keel/ingestion-client';
import { createKafka, EventPublisher, KafkaRecordSender } from '@keel/messaging';
import { Presets, SingleBar } from 'cli-progress';
import type { CliConfig } from './cli.config';
import { type Credentials, authorizationOf } from './credentials';

export interface SendOptions {
  readonly to: 'http' | 'kafka';
  readonly url: string;
  readonly brokers: readonly string[];
  readonly namespace: string;
  readonly batchSize: number;
  readonly json: boolean;
  readonly progress: boolean;
  readonly credentials: Credentials;
}

/** The problems listed in the human summary; `--json` lists them all. */
const shownProblems = 50;

/** `keel send [file]`: JSON lines from a file or stdin to ingestion; prints the summary; exit 1 on any problem. */
export async function sendCommand(file: string | undefined, options: SendOptions): Promise<number> {
  const fromStdin = file === undefined || file === '-';
  const total = fromStdin ? undefined : await countLines(file);
  const bar = options.progress
    ? new SingleBar(
        { format: 'sending [{bar}] {value}/{total} lines', stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(total ?? 0, 0);
  const { sink, close } = openSink(options);
  try {
    const input = fromStdin ? process.stdin : createReadStream(file);
    const results = await sendLines(createInterface({ input, crlfDelay: Infinity }), sink, {
      batchSize: options.batchSize,
      onProgress: (done) => {
        if (total === undefined) bar?.setTotal(done);
        bar?.update(done);
      },
    });
    bar?.stop();
    const summary = summarize(results);
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : describe(summary, options.to));
    return summary.counts.rejected + summary.counts.failed > 0 ? 1 : 0;
  } finally {
    bar?.stop();
    await close();
  }
}

export function sendOptionsOf(raw: Record<string, unknown>, config: CliConfig): SendOptions {
  return {
    to: raw.to === 'kafka' ? 'kafka' : 'http',
    url: typeof raw.url === 'string' ? raw.url : config.KEEL_INGESTION_URL,
    brokers: typeof raw.brokers === 'string' ? raw.brokers.split(',') : config.KAFKA_BROKERS,
    namespace: typeof raw.namespace === 'string' ? raw.namespace : config.KEEL_TOPIC_NAMESPACE,
    batchSize: Number(raw.batchSize),
    json: raw.json === true,
    progress: raw.progress !== false,
    credentials: {
      ...(typeof raw.token === 'string'
        ? { token: raw.token }
        : config.KEEL_TOKEN
          ? { token: config.KEEL_TOKEN }
          : {}),
      ...(typeof raw.apiKey === 'string'
        ? { apiKey: raw.apiKey }
        : config.KEEL_API_KEY
          ? { apiKey: config.KEEL_API_KEY }
          : {}),
      governanceUrl: typeof raw.governanceUrl === 'string' ? raw.governanceUrl : config.KEEL_GOVERNANCE_URL,
    },
  };
}

function openSink(options: SendOptions): { sink: EventSink; close: () => Promise<void> } {
  if (options.to === 'http') {
    const authorization = authorizationOf(options.credentials);
    return {
      sink: new HttpIngestionClient({ url: options.url, ...(authorization ? { authorization } : {}) }),
      close: () => Promise.resolve(),
    };
  }
  const sender = new KafkaRecordSender(createKafka({ brokers: options.brokers, clientId: 'keel-cli' }));
  const sink = new KafkaIngestionClient({
    publisher: new EventPublisher(sender),
    topic: namespacedTopics(options.namespace).sourceRaw,
    source: 'urn:keel:cli',
  });
  return { sink, close: () => sender.disconnect() };
}

async function countLines(file: string): Promise<number> {
  let count = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line.trim() !== '') count++;
  }
  return count;
}

function describe(summary: SendSummary, to: SendOptions['to']): string {
  const { counts } = summary;
  const lines = [
    to === 'http'
      ? `${summary.total} events: ${counts.accepted} accepted, ${counts.duplicate} duplicates, ` +
        `${counts.rejected} rejected, ${counts.failed} failed`
      : `${summary.total} events: ${counts.sent} sent to Kafka, ${counts.rejected} rejected, ${counts.failed} failed ` +
        '(ingestion’s verdict is on the case topic, or with its reason on the raw topic’s DLQ)',
  ];
  const reasons = Object.entries(summary.reasons);
  if (reasons.length > 0) lines.push(`by reason: ${reasons.map(([code, n]) => `${code} ${n}`).join(', ')}`);
  for (const problem of summary.problems.slice(0, shownProblems)) {
    const where = (problem.violations ?? []).map((v) => `${v.path}: ${v.message}`).join('; ');
    lines.push(`  line ${problem.line}: ${problem.error} — ${problem.message}${where ? ` (${where})` : ''}`);
  }
  if (summary.problems.length > shownProblems) {
    lines.push(`  … and ${summary.problems.length - shownProblems} more (--json lists them all)`);
  }
  return `${lines.join('\n')}\n`;
}
