import { type AuditEntry, type AuditRow, AuditChain, portableHmacSha256 } from './audit-chain';
import { canonicalJson } from './canonical-json';

const key = 'k'.repeat(32);
const chain = new AuditChain(key);

const entry = (index: number): AuditEntry => ({
  eventId: `e-${index}`,
  topic: 'keel.cases.events.v1',
  type: 'keel.order.received',
  subject: `case-${index % 3}`,
  occurredAt: `2026-12-01T10:00:${String(index).padStart(2, '0')}.000Z`,
  event: { id: `e-${index}`, data: { amount: index } },
});

const rows = (count: number): AuditRow[] =>
  chain.append(
    'acme',
    undefined,
    Array.from({ length: count }, (_, index) => entry(index + 1)),
  );

describe('AuditChain', () => {
  it('links each row to the one before it and verifies an untouched chain, in one go or in pages', () => {
    const all = rows(10);
    expect(all.map((row) => row.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let index = 1; index < all.length; index += 1)
      expect(all[index]?.previousHash).toBe(all[index - 1]?.rowHash);
    const whole = chain.verify('acme', all);
    expect(whole).toEqual({ intact: true, rows: 10, head: { position: 10, rowHash: all[9]?.rowHash } });
    const firstPage = chain.verify('acme', all.slice(0, 4));
    if (!firstPage.intact) throw new Error('first page broken');
    expect(chain.verify('acme', all.slice(4), firstPage.head)).toEqual({ ...whole, rows: 6 });
  });

  it('continues a chain from its head exactly as if appended in one batch', () => {
    const all = rows(6);
    const head = { position: 3, rowHash: all[2].rowHash };
    expect(chain.append('acme', head, [entry(4), entry(5), entry(6)])).toEqual(all.slice(3));
  });

  it('fails at exactly the updated row, even when the row hash is recomputed without the key', () => {
    const all = rows(8);
    all[4] = { ...all[4], event: { id: 'e-5', data: { amount: 1_000_000 } } };
    expect(chain.verify('acme', all)).toMatchObject({
      intact: false,
      position: 5,
      reason: 'hash-mismatch',
      rows: 4,
    });

    const forger = new AuditChain('f'.repeat(32));
    const reforged = rows(8);
    const [forged] = forger.append('acme', { position: 4, rowHash: reforged[3].rowHash }, [entry(99)]);
    reforged[4] = forged!;
    expect(chain.verify('acme', reforged)).toMatchObject({
      intact: false,
      position: 5,
      reason: 'hash-mismatch',
    });
  });

  it('fails at exactly the position of a deleted row', () => {
    const all = rows(8);
    all.splice(2, 1);
    expect(chain.verify('acme', all)).toMatchObject({
      intact: false,
      position: 3,
      reason: 'missing-row',
      rows: 2,
    });
  });

  it('fails at exactly an inserted row, wherever the later rows were moved', () => {
    const all = rows(8);
    const inserted: AuditRow = { ...all[3], eventId: 'e-forged', position: 4 };
    const shifted = [
      ...all.slice(0, 3),
      inserted,
      ...all.slice(3).map((row) => ({ ...row, position: row.position + 1 })),
    ];
    expect(chain.verify('acme', shifted)).toMatchObject({
      intact: false,
      position: 4,
      reason: 'hash-mismatch',
    });
  });

  it("refuses another tenant's rows and a key too short to be a secret", () => {
    expect(chain.verify('globex', rows(2))).toMatchObject({ intact: false, position: 1 });
    expect(() => new AuditChain('short')).toThrow(RangeError);
  });
});

describe('AuditChain checkpoints (retention)', () => {
  it('verifies the rows after a signed cut from its head, and names a forged or moved cut', () => {
    const all = rows(8);
    const cut = chain.checkpoint(
      'acme',
      { position: 5, rowHash: all[4].rowHash },
      { prunedAt: '2026-12-01T12:00:00.000Z', prunedRows: 5 },
    );
    const from = chain.verifyFrom('acme', cut);
    expect(from).toEqual({ position: 5, rowHash: all[4].rowHash });
    expect(chain.verify('acme', all.slice(5), from as { position: number; rowHash: string })).toMatchObject({
      intact: true,
      rows: 3,
      head: { position: 8 },
    });
    expect(chain.verifyFrom('acme', { ...cut, position: 6 })).toMatchObject({
      intact: false,
      position: 6,
      reason: 'forged-checkpoint',
    });
    expect(chain.verifyFrom('globex', cut)).toMatchObject({ intact: false, reason: 'forged-checkpoint' });
    const forger = new AuditChain('f'.repeat(32));
    expect(chain.verifyFrom('acme', forger.checkpoint('acme', from as never, cut))).toMatchObject({
      intact: false,
      reason: 'forged-checkpoint',
    });
  });

  it('hashes the same with an injected HMAC implementation as with the portable one', () => {
    const mirrored = new AuditChain(key, (secret, message) => portableHmacSha256(secret, message));
    expect(mirrored.append('acme', undefined, [entry(1), entry(2)])).toEqual(rows(2));
  });
});

describe('AuditChain row hashes', () => {
  it('hash exactly the canonical JSON of the row, whether the event was prepared ahead or not', () => {
    const hmacs: string[] = [];
    const recording = new AuditChain(key, (secret, message) => {
      hmacs.push(message);
      return portableHmacSha256(secret, message);
    });
    const entries = [entry(1), { ...entry(2), event: { z: [1, { b: null, a: 'x\u00e9"' }], a: true } }];
    const direct = recording.append('acme', undefined, entries);
    const prepared = recording.append(
      'acme',
      undefined,
      entries.map((item) => recording.prepare(item)),
    );
    expect(prepared).toEqual(direct);
    expect(hmacs[1]).toBe(
      canonicalJson({
        tenant: 'acme',
        position: 2,
        previousHash: direct[0].rowHash,
        eventId: 'e-2',
        topic: 'keel.cases.events.v1',
        type: 'keel.order.received',
        subject: 'case-2',
        occurredAt: entries[1].occurredAt,
        event: entries[1].event,
      }),
    );
    // The body is the one canonicalJson gives the row, so chains written before verify unchanged.
    expect(chain.verify('acme', direct)).toMatchObject({ intact: true, rows: 2 });
  });
});
