import { contextQueryRequestSchema, contextQueryResponseSchema } from './context-query.schema';

describe('context query contract', () => {
  it('fills in the limit, the mode and an empty filter when the caller gives only tenant and query', () => {
    expect(contextQueryRequestSchema.parse({ tenant: 'acme', query: 'refund policy' })).toEqual({
      tenant: 'acme',
      query: 'refund policy',
      limit: 8,
      mode: 'hybrid',
      filter: {},
    });
  });

  it('refuses a request without a tenant and a filter key it does not know', () => {
    expect(contextQueryRequestSchema.safeParse({ query: 'x' }).success).toBe(false);
    expect(
      contextQueryRequestSchema.safeParse({ tenant: 'acme', query: 'x', filter: { tenant: 'other' } })
        .success,
    ).toBe(false);
  });

  it('refuses a chunk whose hash is not a sha-256 hex digest', () => {
    const chunk = {
      documentId: 'd1',
      version: 1,
      chunkId: 'd1@1#0',
      chunkHash: 'a'.repeat(64),
      score: 0.5,
      text: 'Refunds within 30 days.',
      title: 'Refunds',
      headingPath: ['Refunds'],
      tags: [],
    };
    expect(
      contextQueryResponseSchema.safeParse({ tenant: 'acme', mode: 'hybrid', chunks: [chunk] }).success,
    ).toBe(true);
    expect(
      contextQueryResponseSchema.safeParse({
        tenant: 'acme',
        mode: 'hybrid',
        chunks: [{ ...chunk, chunkHash: 'abc' }],
      }).success,
    ).toBe(false);
  });
});
