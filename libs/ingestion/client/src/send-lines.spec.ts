import { HttpIngestionClient, type NumberedEvent } from './http-ingestion.client';
import { type EventSink, sendLines } from './send-lines';
import { summarize } from './send-result';

const event = (id: string) =>
  JSON.stringify({
    tenant: 'acme',
    system: 'order-system',
    eventType: 'order.placed',
    schemaVersion: 1,
    payload: { id },
  });

function linesOf(...lines: string[]): AsyncIterable<string> {
  return (async function* () {
    yield* await Promise.resolve(lines);
  })();
}

class RecordingSink implements EventSink {
  readonly batches: number[][] = [];
  send(batch: readonly NumberedEvent[]) {
    this.batches.push(batch.map((item) => item.line));
    return Promise.resolve(batch.map(({ line }) => ({ line, outcome: 'accepted' as const })));
  }
}

describe('sendLines', () => {
  it('sends events in batches, refuses lines that are no source event with line and field, and skips blanks', async () => {
    const sink = new RecordingSink();
    const progress: number[] = [];

    const results = await sendLines(
      linesOf(event('1'), '', event('2'), '{"tenant":', event('3'), JSON.stringify({ tenant: 'acme' })),
      sink,
      { batchSize: 2, onProgress: (done) => progress.push(done) },
    );

    expect(sink.batches).toEqual([[1, 3], [5]]);
    expect(summarize(results)).toEqual({
      total: 5,
      counts: { accepted: 3, duplicate: 0, sent: 0, rejected: 2, failed: 0 },
      reasons: { 'not-json': 1, 'invalid-request': 1 },
      problems: [
        expect.objectContaining({ line: 4, violations: [expect.objectContaining({ path: '(line)' })] }),
        expect.objectContaining({
          line: 6,
          violations: expect.arrayContaining([expect.objectContaining({ path: 'system' })]),
        }),
      ],
    });
    expect(progress.at(-1)).toBe(5);
  });
});

describe('HttpIngestionClient', () => {
  const batch: NumberedEvent[] = [1, 2].map((line) => ({
    line,
    event: {
      tenant: 'acme',
      system: 'order-system',
      eventType: 'order.placed',
      schemaVersion: 1,
      payload: {},
    },
  }));
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('retries while ingestion answers 503, waiting as Retry-After says, then maps the per-item results', async () => {
    const waits: number[] = [];
    const answers = [
      json(503, { error: 'publishing-stalled', message: 'later' }, { 'retry-after': '2' }),
      json(207, {
        results: [
          { index: 0, outcome: 'accepted', eventId: 'e', subject: 's', topic: 't' },
          {
            index: 1,
            outcome: 'rejected',
            error: 'invalid-payload',
            message: 'm',
            violations: [{ path: 'payload.x', message: 'bad' }],
          },
        ],
      }),
    ];
    const client = new HttpIngestionClient({
      url: 'http://ingestion',
      fetch: () => Promise.resolve(answers.shift() ?? json(500, {})),
      sleep: (ms) => Promise.resolve(void waits.push(ms)),
    });

    const results = await client.send(batch);

    expect(waits).toEqual([2000]);
    expect(results).toEqual([
      { line: 1, outcome: 'accepted', eventId: 'e', subject: 's', topic: 't' },
      {
        line: 2,
        outcome: 'rejected',
        error: 'invalid-payload',
        message: 'm',
        violations: [{ path: 'payload.x', message: 'bad' }],
      },
    ]);
  });

  it('rejects every event of a batch refused whole, with its reason', async () => {
    const client = new HttpIngestionClient({
      url: 'http://ingestion',
      fetch: () =>
        Promise.resolve(json(413, { error: 'body-too-large', message: 'the body exceeds 1024 bytes' })),
    });

    expect(await client.send(batch)).toEqual(
      [1, 2].map((line) => ({
        line,
        outcome: 'rejected',
        error: 'body-too-large',
        message: 'the body exceeds 1024 bytes',
      })),
    );
  });

  it('sends the bearer token it is given, asking for it before each request', async () => {
    const seen: Array<string | null> = [];
    let issued = 0;
    const client = new HttpIngestionClient({
      url: 'http://ingestion',
      authorization: () => Promise.resolve(`Bearer t${++issued}`),
      fetch: (_url, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return Promise.resolve(
          seen.length === 1
            ? json(503, { error: 'store-unavailable' })
            : json(401, { error: 'invalid-token' }),
        );
      },
      sleep: () => Promise.resolve(),
    });

    const results = await client.send(batch);

    expect(seen).toEqual(['Bearer t1', 'Bearer t2']);
    expect(results.map((result) => [result.outcome, result.error])).toEqual([
      ['rejected', 'invalid-token'],
      ['rejected', 'invalid-token'],
    ]);
  });

  it('gives up after its attempts when ingestion cannot be reached, saying so', async () => {
    const waits: number[] = [];
    const client = new HttpIngestionClient({
      url: 'http://ingestion',
      maxAttempts: 3,
      retryDelayMs: 10,
      fetch: () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })),
      sleep: (ms) => Promise.resolve(void waits.push(ms)),
    });

    const results = await client.send(batch);

    expect(waits).toEqual([10, 20]);
    expect(results).toEqual(
      [1, 2].map((line) => ({
        line,
        outcome: 'failed',
        error: 'unreachable',
        message: 'ingestion unreachable: ECONNREFUSED',
      })),
    );
  });
});
