import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/*
 * A TEST DOUBLE of Qdrant's REST API — not Qdrant. It checks that each request the real
 * `@qdrant/js-client-rest` sends has the shape Qdrant documents (collections with named dense and sparse
 * vectors, payload indexes, points upsert/delete/set-payload, the Query API with prefetch and fusion), records
 * it, and answers with Qdrant's `{ result, status, time }` envelope. It keeps the points it is sent and answers
 * queries by a naive exact search with Qdrant's documented semantics (filters with must/should/must_not and
 * nested filters, cosine, sparse dot product with the IDF modifier over the collection, RRF with k = 2), one
 * request at a time, so the adapter's sequences of requests can be checked against concurrent searches; when
 * a test scripts points, queries answer those instead. Nothing about Qdrant's performance, segments or
 * consistency under load is modelled. The real-server contract runs when QDRANT_URL is set.
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
    z
      .object({
        key: z.string(),
        range: z
          .object({ lt: z.number(), lte: z.number(), gt: z.number(), gte: z.number() })
          .partial()
          .strict(),
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
  setPayload: z.object({ payload: z.record(z.string(), z.unknown()), filter: filterSchema }).strict(),
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
  { method: 'POST', pattern: /^\/collections\/[^/]+\/points\/payload$/, route: 'setPayload' },
  { method: 'POST', pattern: /^\/collections\/[^/]+\/points\/query$/, route: 'queryPoints' },
];

export class QdrantRestTestDouble {
  readonly requests: RecordedRequest[] = [];
  /** Shape violations found; a passing test expects none. */
  readonly violations: string[] = [];
  collectionExists = false;
  /** When not empty, queries answer these instead of searching the stored points. */
  scriptedPoints: ScriptedPoint[] = [];
  readonly points = new Map<string | number, StoredPoint>();

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
        this.points.clear();
        return ok(true);
      case 'createPayloadIndex':
        return completed(this.requests.length);
      case 'upsertPoints':
        for (const point of (body as { points: StoredPoint[] }).points) this.points.set(point.id, point);
        return completed(this.requests.length);
      case 'deletePoints': {
        const { filter } = body as { filter: Filter };
        for (const [id, point] of this.points) if (passes(point.payload, filter)) this.points.delete(id);
        return completed(this.requests.length);
      }
      case 'setPayload': {
        const { payload, filter } = body as { payload: Record<string, unknown>; filter: Filter };
        for (const [id, point] of this.points) {
          if (passes(point.payload, filter))
            this.points.set(id, { ...point, payload: { ...point.payload, ...payload } });
        }
        return completed(this.requests.length);
      }
      case 'queryPoints':
        if (this.scriptedPoints.length > 0)
          return ok({ points: this.scriptedPoints.map((point) => ({ ...point, version: 1 })) });
        return ok({ points: this.search(body as QueryBody) });
    }
  }

  private search(body: QueryBody): ScriptedPoint[] {
    let ranked: { point: StoredPoint; score: number }[];
    if (body.prefetch !== undefined) {
      // RRF as Qdrant: 1 / (2 + zero-based rank) summed over the prefetches.
      const fused = new Map<string | number, { point: StoredPoint; score: number }>();
      for (const prefetch of body.prefetch) {
        this.rank(prefetch.query, prefetch.using, prefetch.filter, prefetch.limit).forEach(({ point }, rank) => {
          const seen = fused.get(point.id);
          fused.set(point.id, { point, score: (seen?.score ?? 0) + 1 / (2 + rank) });
        });
      }
      ranked = [...fused.values()].sort(byScoreThenId).slice(0, body.limit);
    } else {
      ranked = this.rank(body.query as QueryVector, body.using ?? '', body.filter, body.limit);
    }
    return ranked.map(({ point, score }) => ({ id: String(point.id), score, payload: point.payload }));
  }

  private rank(
    query: QueryVector,
    using: string,
    filter: Filter | undefined,
    limit: number,
  ): { point: StoredPoint; score: number }[] {
    const points = [...this.points.values()];
    const candidates = points.filter((point) => filter === undefined || passes(point.payload, filter));
    let scored: { point: StoredPoint; score: number }[];
    if (Array.isArray(query)) {
      scored = candidates
        .filter((point) => Array.isArray(point.vector[using]))
        .map((point) => ({ point, score: cosine(query, point.vector[using] as number[]) }));
    } else {
      // IDF over every point of the collection with this sparse vector, as `modifier: 'idf'`.
      const withVector = points.filter((point) => isSparse(point.vector[using]));
      const idf = (index: number) => {
        const n = withVector.filter((point) => (point.vector[using] as SparseBody).indices.includes(index)).length;
        return Math.log((withVector.length - n + 0.5) / (n + 0.5) + 1);
      };
      scored = candidates.flatMap((point) => {
        const vector = point.vector[using];
        if (!isSparse(vector)) return [];
        let score = 0;
        let shared = false;
        query.indices.forEach((index, i) => {
          const at = vector.indices.indexOf(index);
          if (at < 0) return;
          shared = true;
          score += query.values[i] * idf(index) * vector.values[at];
        });
        return shared ? [{ point, score }] : [];
      });
    }
    return scored.sort(byScoreThenId).slice(0, limit);
  }

  private refuse(status: number, error: string): { status: number; payload: unknown } {
    this.violations.push(error);
    return { status, payload: { status: { error }, time: 0 } };
  }
}

interface SparseBody {
  readonly indices: number[];
  readonly values: number[];
}
type QueryVector = number[] | SparseBody;
interface StoredPoint {
  readonly id: string | number;
  readonly vector: Record<string, number[] | SparseBody>;
  readonly payload: Record<string, unknown>;
}
interface Filter {
  readonly must?: Condition[];
  readonly should?: Condition[];
  readonly must_not?: Condition[];
}
type Range = { readonly lt?: number; readonly lte?: number; readonly gt?: number; readonly gte?: number };
type Condition =
  | Filter
  | { readonly key: string; readonly match: { value?: unknown; any?: unknown[] } }
  | { readonly key: string; readonly range: Range };
interface QueryBody {
  readonly prefetch?: { query: QueryVector; using: string; limit: number; filter: Filter }[];
  readonly query: QueryVector | { fusion: string };
  readonly using?: string;
  readonly filter?: Filter;
  readonly limit: number;
}

function isSparse(vector: unknown): vector is SparseBody {
  return typeof vector === 'object' && vector !== null && !Array.isArray(vector);
}

// A key matches a value when it holds it, or holds an array with it (Qdrant's match on arrays).
function holds(payload: Record<string, unknown>, key: string, value: unknown): boolean {
  const field = payload[key];
  return Array.isArray(field) ? field.includes(value) : field === value;
}

function satisfies(payload: Record<string, unknown>, condition: Condition): boolean {
  if (!('key' in condition)) return passes(payload, condition);
  if ('range' in condition) {
    const field = payload[condition.key];
    const { lt, lte, gt, gte } = condition.range;
    return (
      typeof field === 'number' &&
      (lt === undefined || field < lt) &&
      (lte === undefined || field <= lte) &&
      (gt === undefined || field > gt) &&
      (gte === undefined || field >= gte)
    );
  }
  const { value, any } = condition.match;
  return any !== undefined
    ? any.some((option) => holds(payload, condition.key, option))
    : holds(payload, condition.key, value);
}

function passes(payload: Record<string, unknown>, filter: Filter): boolean {
  return (
    (filter.must ?? []).every((condition) => satisfies(payload, condition)) &&
    (filter.should === undefined ||
      filter.should.length === 0 ||
      filter.should.some((condition) => satisfies(payload, condition))) &&
    !(filter.must_not ?? []).some((condition) => satisfies(payload, condition))
  );
}

function cosine(x: number[], y: number[]): number {
  const norm = Math.hypot(...x) * Math.hypot(...y);
  return norm === 0 ? 0 : x.reduce((sum, value, i) => sum + value * y[i], 0) / norm;
}

function byScoreThenId(
  x: { point: StoredPoint; score: number },
  y: { point: StoredPoint; score: number },
): number {
  return y.score - x.score || String(x.point.id).localeCompare(String(y.point.id));
}

function completed(operationId: number): { status: number; payload: unknown } {
  return ok({ operation_id: operationId, status: 'completed' });
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
