import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/*
 * A TEST DOUBLE of Qdrant's REST API — not Qdrant. It checks that each request the real
 * `@qdrant/js-client-rest` sends has the shape Qdrant documents (collections with named dense and sparse
 * vectors, payload indexes, points upsert/delete, the Query API with prefetch and fusion), records it, and
 * answers with Qdrant's `{ result, status, time }` envelope. Queries are answered with points the test
 * scripts: it never searches. The real-server contract runs when QDRANT_URL is set.
 */

const conditionSchema: z.ZodType = z.lazy(() =>
  z.union([
    z
      .object({
        key: z.string(),
        match: z.union([
          z.object({ value: z.union([z.string(), z.number().int(), z.boolean()]) }).strict(),
          z.object({ any: z.array(z.union([z.string(), z.number().int()])) }).strict(),
        ]),
      })
      .strict(),
    filterSchema,
  ]),
);
const filterSchema = z
  .object({
    must: z.array(conditionSchema).optional(),
    should: z.array(conditionSchema).optional(),
    must_not: z.array(conditionSchema).optional(),
  })
  .strict();
const sparseVectorSchema = z
  .object({
    indices: z.array(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
    ),
    values: z.array(z.number()),
  })
  .strict()
  .refine((vector) => vector.indices.length === vector.values.length, 'indices and values differ in length')
  .refine((vector) => new Set(vector.indices).size === vector.indices.length, 'indices must be unique');
const queryVectorSchema = z.union([z.array(z.number()), sparseVectorSchema]);
const prefetchSchema = z
  .object({
    query: queryVectorSchema,
    using: z.string(),
    limit: z.number().int().positive(),
    filter: filterSchema,
  })
  .strict();
const uuidSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** Request bodies by route, as Qdrant's OpenAPI describes them (the subset the adapter uses). */
const documentedShapes = {
  createCollection: z
    .object({
      vectors: z.record(
        z.string(),
        z
          .object({
            size: z.number().int().positive(),
            distance: z.enum(['Cosine', 'Dot', 'Euclid', 'Manhattan']),
          })
          .strict(),
      ),
      sparse_vectors: z.record(z.string(), z.object({ modifier: z.enum(['idf', 'none']) }).strict()),
    })
    .strict(),
  createPayloadIndex: z
    .object({
      field_name: z.string(),
      field_schema: z.union([
        z.enum(['keyword', 'integer', 'float', 'bool', 'text', 'uuid', 'datetime', 'geo']),
        z.object({ type: z.literal('keyword'), is_tenant: z.boolean() }).strict(),
      ]),
    })
    .strict(),
  upsertPoints: z
    .object({
      points: z.array(
        z
          .object({
            id: z.union([uuidSchema, z.number().int().min(0)]),
            vector: z.record(z.string(), z.union([z.array(z.number()), sparseVectorSchema])),
            payload: z.record(z.string(), z.unknown()),
          })
          .strict(),
      ),
    })
    .strict(),
  deletePoints: z.object({ filter: filterSchema }).strict(),
  queryPoints: z
    .object({
      prefetch: z.array(prefetchSchema).optional(),
      query: z.union([queryVectorSchema, z.object({ fusion: z.enum(['rrf', 'dbsf']) }).strict()]),
      using: z.string().optional(),
      filter: filterSchema.optional(),
      limit: z.number().int().positive(),
      with_payload: z.boolean(),
      with_vector: z.boolean(),
    })
    .strict()
    .refine(
      (body) => body.prefetch === undefined || body.filter === undefined,
      'the adapter filters in each prefetch',
    ),
};
export type QdrantRoute = keyof typeof documentedShapes | 'collectionExists' | 'deleteCollection';

export interface RecordedRequest {
  readonly route: QdrantRoute;
  readonly method: string;
  readonly path: string;
  readonly search: URLSearchParams;
  readonly body: unknown;
}

export interface ScriptedPoint {
  readonly id: string;
  readonly score: number;
  readonly payload: Record<string, unknown>;
}

const routes: readonly { method: string; pattern: RegExp; route: QdrantRoute }[] = [
  { method: 'GET', pattern: /^\/collections\/[^/]+\/exists$/, route: 'collectionExists' },
  { method: 'PUT', pattern: /^\/collections\/[^/]+$/, route: 'createCollection' },
  { method: 'DELETE', pattern: /^\/collections\/[^/]+$/, route: 'deleteCollection' },
  { method: 'PUT', pattern: /^\/collections\/[^/]+\/index$/, route: 'createPayloadIndex' },
  { method: 'PUT', pattern: /^\/collections\/[^/]+\/points$/, route: 'upsertPoints' },
  { method: 'POST', pattern: /^\/collections\/[^/]+\/points\/delete$/, route: 'deletePoints' },
  { method: 'POST', pattern: /^\/collections\/[^/]+\/points\/query$/, route: 'queryPoints' },
];

export class QdrantRestTestDouble {
  readonly requests: RecordedRequest[] = [];
  /** Shape violations found; a passing test expects none. */
  readonly violations: string[] = [];
  collectionExists = false;
  scriptedPoints: ScriptedPoint[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<QdrantRestTestDouble> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const double = new QdrantRestTestDouble(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void readJson(request).then((body) => {
        const { status, payload } = double.answer(request, body);
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      });
    });
    return double;
  }

  bodiesOf(route: QdrantRoute): unknown[] {
    return this.requests.filter((request) => request.route === route).map((request) => request.body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, body: unknown): { status: number; payload: unknown } {
    const url = new URL(request.url ?? '/', this.url);
    const match = routes.find((entry) => entry.method === request.method && entry.pattern.test(url.pathname));
    if (!match) return this.refuse(404, `no such route in the double: ${request.method} ${url.pathname}`);
    this.requests.push({
      route: match.route,
      method: request.method ?? '',
      path: url.pathname,
      search: url.searchParams,
      body,
    });
    if (match.route in documentedShapes) {
      const checked = documentedShapes[match.route as keyof typeof documentedShapes].safeParse(body);
      if (!checked.success) return this.refuse(400, `${match.route}: ${checked.error.message}`);
    }
    switch (match.route) {
      case 'collectionExists':
        return ok({ exists: this.collectionExists });
      case 'createCollection':
        this.collectionExists = true;
        return ok(true);
      case 'deleteCollection':
        this.collectionExists = false;
        return ok(true);
      case 'createPayloadIndex':
      case 'upsertPoints':
      case 'deletePoints':
        return ok({ operation_id: this.requests.length, status: 'completed' });
      case 'queryPoints':
        return ok({ points: this.scriptedPoints.map((point) => ({ ...point, version: 1 })) });
    }
  }

  private refuse(status: number, error: string): { status: number; payload: unknown } {
    this.violations.push(error);
    return { status, payload: { status: { error }, time: 0 } };
  }
}

function ok(result: unknown): { status: number; payload: unknown } {
  return { status: 200, payload: { result, status: 'ok', time: 0.001 } };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
