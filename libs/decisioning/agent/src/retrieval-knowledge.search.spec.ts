import { contextQueryPath } from '@keel/contracts';
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { RetrievalKnowledgeSearch } from './retrieval-knowledge.search';

const chunk = {
  documentId: 'doc-1',
  version: 2,
  chunkId: 'doc-1:2:0',
  chunkHash: 'd'.repeat(64),
  score: 0.5,
  text: 'Reship damaged goods.',
  title: 'Remediation',
  headingPath: ['Remediation'],
  tags: ['ops'],
};

let server: Server;
let answer: (body: unknown) => { status: number; body: unknown };
const received: unknown[] = [];
const authorizations: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
      received.push({ path: request.url, body });
      authorizations.push(request.headers.authorization);
      const reply = answer(body);
      response
        .writeHead(reply.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const search = () =>
  new RetrievalKnowledgeSearch({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    timeoutMs: 1000,
  });

describe('RetrievalKnowledgeSearch', () => {
  it("sends a bearer token for the query's tenant", async () => {
    answer = () => ({ status: 200, body: { tenant: 'globex', mode: 'hybrid', chunks: [] } });
    const signed = new RetrievalKnowledgeSearch({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 1000,
      authorization: (tenant) => Promise.resolve(`Bearer token-of-${tenant}`),
    });
    await signed.search({ tenant: 'globex', query: 'damaged', limit: 3 });
    expect(authorizations.at(-1)).toBe('Bearer token-of-globex');
  });

  it("asks the context-query API for the event's tenant and keeps each chunk's provenance", async () => {
    answer = () => ({ status: 200, body: { tenant: 'acme', mode: 'hybrid', chunks: [chunk] } });
    const chunks = await search().search({ tenant: 'acme', query: 'damaged', limit: 3 });
    expect(received.at(-1)).toEqual({
      path: contextQueryPath,
      body: { tenant: 'acme', query: 'damaged', limit: 3, mode: 'hybrid', filter: {} },
    });
    expect(chunks).toEqual([
      {
        documentId: 'doc-1',
        version: 2,
        chunkId: 'doc-1:2:0',
        chunkHash: 'd'.repeat(64),
        score: 0.5,
        title: 'Remediation',
        text: 'Reship damaged goods.',
      },
    ]);
  });

  it.each([
    ['an HTTP error', { status: 503, body: {} }, /HTTP 503/],
    [
      'an answer outside the contract',
      { status: 200, body: { chunks: [{ documentId: 'x' }] } },
      /outside the contract/,
    ],
  ])('reports %s as knowledge-unavailable', async (_what, reply, message) => {
    answer = () => reply;
    await expect(search().search({ tenant: 'acme', query: 'q', limit: 1 })).rejects.toMatchObject({
      code: 'knowledge-unavailable',
      message: expect.stringMatching(message) as string,
    });
  });

  it('reports an unreachable retrieval service as knowledge-unavailable', async () => {
    const unreachable = new RetrievalKnowledgeSearch({
      baseUrl: 'http://127.0.0.1:9',
      timeoutMs: 500,
    });
    await expect(unreachable.search({ tenant: 'acme', query: 'q', limit: 1 })).rejects.toMatchObject({
      code: 'knowledge-unavailable',
    });
  });

  it('reports a retrieval service that does not answer in time as knowledge-unavailable', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const late = new RetrievalKnowledgeSearch({
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 200,
      });
      await expect(late.search({ tenant: 'acme', query: 'q', limit: 1 })).rejects.toMatchObject({
        code: 'knowledge-unavailable',
      });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
