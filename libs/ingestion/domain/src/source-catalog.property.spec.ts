import { caseEventSchema } from '@keel/contracts';
import fc from 'fast-check';
import { bundledSources } from './bundled-sources';
import { pathBeyondDepth } from './json-depth';
import { SourceCatalog } from './source-catalog';

const catalog = new SourceCatalog(bundledSources, { maxPayloadDepth: 8 });

const identifier = fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/);
const orderPayload = fc.record({
  eventId: identifier,
  orderId: identifier,
  occurredAt: fc
    .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  customerId: identifier,
  region: fc.constantFrom('EU', 'US', 'APAC'),
  weightKg: fc.double({ min: 0.001, max: 1000, noNaN: true }),
  address: fc.record({
    country: fc.stringMatching(/^[A-Z]{2}$/),
    postalCode: identifier,
    city: identifier,
  }),
  lines: fc.array(fc.record({ sku: identifier, quantity: fc.integer({ min: 1, max: 10_000 }) }), {
    minLength: 1,
    maxLength: 5,
  }),
});
const submission = (tenant: string, payload: Record<string, unknown>) => ({
  tenant,
  system: 'order-system',
  eventType: 'order.placed',
  schemaVersion: 1,
  payload,
});

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

describe('SourceCatalog properties', () => {
  it('admits every valid order as a valid case event whose key depends only on tenant and source event id', async () => {
    await fc.assert(
      fc.asyncProperty(identifier, orderPayload, orderPayload, async (tenant, payload, other) => {
        const first = await catalog.admit(submission(tenant, payload));
        const resent = await catalog.admit(submission(tenant, { ...other, eventId: payload.eventId }));

        if (first.outcome !== 'admitted' || resent.outcome !== 'admitted') return false;
        expect(caseEventSchema.safeParse(first.record.data).success).toBe(true);
        expect(first.record.subject).toBe(`order-${payload.orderId}`);
        expect(resent.record.idempotencyKey).toBe(first.record.idempotencyKey);
        return first.record.idempotencyKey === `${tenant}/order-system/${payload.eventId}`;
      }),
      { numRuns: 100 },
    );
  });

  it('names exactly the required field that is missing', async () => {
    const required = [
      'eventId',
      'orderId',
      'occurredAt',
      'customerId',
      'region',
      'weightKg',
      'address',
      'lines',
    ];
    await fc.assert(
      fc.asyncProperty(orderPayload, fc.constantFrom(...required), async (payload, field) => {
        const { [field]: _dropped, ...rest } = payload as Record<string, unknown>;
        const admission = await catalog.admit(submission('t', rest));

        return (
          admission.outcome === 'rejected' &&
          admission.rejection.code === 'invalid-payload' &&
          admission.rejection.violations.map((violation) => violation.path).join() === `payload.${field}`
        );
      }),
      { numRuns: 100 },
    );
  });

  it('finds a path beyond the limit exactly when a value nests deeper than it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 6 }), (value, maxDepth) => {
        const path = pathBeyondDepth(value, maxDepth);
        return (path !== undefined) === depthOf(value) > maxDepth;
      }),
      { numRuns: 300 },
    );
  });
});
