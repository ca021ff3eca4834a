import { caseEventSchema, knowledgeDocumentSchema } from '@keel/contracts';
import { bundledSources } from './bundled-sources';
import { eventIdOf, SourceCatalog, SourceDefinitionError } from './source-catalog';

const catalog = new SourceCatalog(bundledSources, { maxPayloadDepth: 8 });

const order = {
  eventId: 'evt-1',
  orderId: 'A-100',
  occurredAt: '2026-11-30T09:00:00Z',
  customerId: 'c-7',
  region: 'EU',
  weightKg: 3.5,
  address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
  lines: [{ sku: 'sku-1', quantity: 2 }],
};
const submission = (payload: Record<string, unknown>, overrides: object = {}) => ({
  tenant: 'acme',
  system: 'order-system',
  eventType: 'order.placed',
  schemaVersion: 1,
  payload,
  ...overrides,
});

describe('SourceCatalog', () => {
  it('maps an order onto a case event keyed by its case id, idempotent by tenant, system and source event id', async () => {
    const admission = await catalog.admit(submission(order));

    expect(admission).toEqual({
      outcome: 'admitted',
      record: {
        topic: 'caseEvents',
        subject: 'order-A-100',
        idempotencyKey: 'acme/order-system/evt-1',
        type: 'keel.case.order',
        data: {
          caseId: 'order-A-100',
          caseType: 'order',
          eventType: 'order.placed',
          occurredAt: '2026-11-30T09:00:00Z',
          source: { system: 'order-system', eventId: 'evt-1', schemaVersion: 1 },
          attributes: {
            orderId: 'A-100',
            customerId: 'c-7',
            region: 'EU',
            weightKg: 3.5,
            address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
            lines: [{ sku: 'sku-1', quantity: 2 }],
          },
        },
      },
    });
    if (admission.outcome === 'admitted') expect(caseEventSchema.parse(admission.record.data)).toBeTruthy();
    expect(eventIdOf('acme/order-system/evt-1')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('maps each schema version its own way onto the same attributes', async () => {
    const v2 = {
      eventId: 'evt-2',
      orderId: 'A-100',
      occurredAt: '2026-11-30T09:00:00Z',
      customer: { id: 'c-7', tier: 'gold' },
      region: 'EU',
      weightGrams: 3500,
      address: { country: 'DE', postalCode: '10115', city: 'Berlin' },
      lines: [{ sku: 'sku-1', quantity: 2 }],
    };
    const admission = await catalog.admit(submission(v2, { schemaVersion: 2 }));

    expect(admission.outcome).toBe('admitted');
    if (admission.outcome !== 'admitted') return;
    expect(admission.record.data).toMatchObject({
      source: { schemaVersion: 2 },
      attributes: { customerId: 'c-7', customerTier: 'gold', weightKg: 3.5 },
    });
  });

  it('maps the nested support desk shape and the exception feed', async () => {
    const ticket = await catalog.admit({
      tenant: 'acme',
      system: 'support-desk',
      eventType: 'ticket.created',
      schemaVersion: 1,
      payload: {
        event: { id: 'te-1', at: '2026-11-30T09:00:00+01:00' },
        ticket: {
          id: 'T-9',
          subject: 'Parcel late',
          priority: 'high',
          channel: 'email',
          customer: { id: 'c-1' },
        },
      },
    });
    const exception = await catalog.admit({
      tenant: 'acme',
      system: 'exception-feed',
      eventType: 'exception.raised',
      schemaVersion: 1,
      payload: {
        alertId: 'al-1',
        exceptionId: 'X-1',
        orderId: 'A-100',
        kind: 'stock-out',
        severity: 'high',
        detectedAt: '2026-11-30T09:00:00Z',
      },
    });

    expect(ticket).toMatchObject({
      outcome: 'admitted',
      record: {
        subject: 'ticket-T-9',
        data: { caseType: 'support', attributes: { ticketId: 'T-9', priority: 'high', skills: [] } },
      },
    });
    expect(exception).toMatchObject({
      outcome: 'admitted',
      record: {
        subject: 'exception-X-1',
        data: { caseType: 'exception', attributes: { kind: 'stock-out', details: {} } },
      },
    });
  });

  it('turns a knowledge base article into a document with its content hash', async () => {
    const admission = await catalog.admit({
      tenant: 'acme',
      system: 'knowledge-base',
      eventType: 'article.published',
      schemaVersion: 1,
      payload: {
        articleId: 'kb-1',
        revision: 3,
        title: 'Returns',
        body: 'abc',
        format: 'text',
        labels: ['returns'],
      },
    });

    expect(admission).toEqual({
      outcome: 'admitted',
      record: {
        topic: 'knowledgeDocuments',
        subject: 'kb-1',
        idempotencyKey: 'acme/knowledge-base/kb-1@3',
        type: 'keel.knowledge.document',
        data: {
          documentId: 'kb-1',
          version: 3,
          title: 'Returns',
          mediaType: 'text/plain',
          content: 'abc',
          contentHash: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
          tags: ['returns'],
        },
      },
    });
    if (admission.outcome === 'admitted')
      expect(knowledgeDocumentSchema.parse(admission.record.data)).toBeTruthy();
  });

  it.each([
    [{ system: 'erp' }, 'unknown-source', 'system'],
    [{ schemaVersion: 9 }, 'unknown-schema-version', 'schemaVersion'],
    [{ eventType: 'order.teleported' }, 'unknown-event-type', 'eventType'],
  ])('rejects %j as %s naming %s', async (overrides, code, path) => {
    const admission = await catalog.admit(submission(order, overrides));

    expect(admission).toMatchObject({ outcome: 'rejected', rejection: { code, violations: [{ path }] } });
  });

  it('names every field of a payload that breaks its schema, down to the missing one', async () => {
    const { weightKg: _dropped, ...withoutWeight } = order;
    const admission = await catalog.admit(
      submission({ ...withoutWeight, region: 'MARS', lines: [{ quantity: 0 }], extra: 1 }),
    );

    expect(admission.outcome).toBe('rejected');
    if (admission.outcome !== 'rejected') return;
    expect(admission.rejection.code).toBe('invalid-payload');
    expect(admission.rejection.violations.map((violation) => violation.path).sort()).toEqual([
      'payload.extra',
      'payload.lines.0.quantity',
      'payload.lines.0.sku',
      'payload.region',
      'payload.weightKg',
    ]);
  });

  it('refuses a payload nested deeper than allowed, naming where', async () => {
    const shallow = new SourceCatalog(bundledSources, { maxPayloadDepth: 2 });
    const admission = await shallow.admit(submission(order));

    expect(admission).toMatchObject({
      outcome: 'rejected',
      rejection: { code: 'payload-too-deep', violations: [{ path: 'payload.lines.0' }] },
    });
  });

  it('rejects a payload that passes its schema but maps onto an invalid case event', async () => {
    const loose = new SourceCatalog(
      [
        {
          kind: 'event-schema',
          system: 'loose',
          version: 1,
          description: 'no required fields',
          eventTypes: ['x.happened'],
          payloadSchema: { type: 'object' },
          mapping: { target: 'case-event', caseType: 'order', caseId: 'id', eventId: 'id', occurredAt: 'at' },
        },
      ],
      { maxPayloadDepth: 8 },
    );

    const admission = await loose.admit({
      tenant: 't',
      system: 'loose',
      eventType: 'x.happened',
      schemaVersion: 1,
      payload: { id: 'a', at: 'yesterday' },
    });

    expect(admission).toMatchObject({
      outcome: 'rejected',
      rejection: { code: 'unmappable', violations: [{ path: 'mapped.occurredAt' }] },
    });
  });

  it('refuses definitions it cannot use at construction, naming them', () => {
    const definition = bundledSources[0] as Record<string, unknown>;
    expect(() => new SourceCatalog([definition, definition], { maxPayloadDepth: 8 })).toThrow(
      new SourceDefinitionError('order-system@1 is defined twice'),
    );
    expect(
      () => new SourceCatalog([{ ...definition, payloadSchema: { type: 'objekt' } }], { maxPayloadDepth: 8 }),
    ).toThrow(/order-system@1: payloadSchema is not a usable JSON Schema/);
    expect(
      () =>
        new SourceCatalog(
          [{ ...definition, mapping: { ...(definition.mapping as object), caseId: "'unclosed" } }],
          { maxPayloadDepth: 8 },
        ),
    ).toThrow(/order-system@1: mapping.caseId is not JSONata/);
    expect(() => new SourceCatalog([{ ...definition, kind: 'prompt' }], { maxPayloadDepth: 8 })).toThrow(
      /source definition order-system@1: kind/,
    );
  });

  it('lists systems with their versions and event types', () => {
    expect(catalog.list()).toContainEqual({
      system: 'order-system',
      versions: [1, 2],
      eventTypes: {
        1: ['order.placed', 'order.updated', 'order.cancelled'],
        2: ['order.placed', 'order.updated', 'order.cancelled'],
      },
    });
  });
});
