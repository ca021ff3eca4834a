import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { type JsonValue, canonicalJson } from './canonical-json';

/** What the audit log records of one event: where it came from and the event itself. */
export interface AuditEntry {
  /** The CloudEvents id; with `topic`, what makes a redelivery recognisable. */
  readonly eventId: string;
  readonly topic: string;
  readonly type: string;
  /** The case id (CloudEvents subject). */
  readonly subject: string;
  /** The event's own time (CloudEvents `time`). */
  readonly occurredAt: string;
  /** The whole CloudEvent: attributes and data. */
  readonly event: JsonValue;
}

/** An entry with its event's canonical JSON computed ahead (`AuditChain.prepare`). */
export interface PreparedEntry {
  readonly entry: AuditEntry;
  readonly canonicalEvent: string;
}

/** One row of a tenant's chain: position `n` (1, 2, 3…) links to row `n - 1` by its hash. */
export interface AuditRow extends AuditEntry {
  readonly tenant: string;
  readonly position: number;
  readonly previousHash: string;
  readonly rowHash: string;
}

/** The end of a tenant's chain, which the next row links to. */
export interface ChainHead {
  readonly position: number;
  readonly rowHash: string;
}

/**
 * HMAC-SHA256 of a UTF-8 message under a key, as lower-case hex. The chain takes it as a port so a service can
 * hand in its platform's native implementation (several times faster than the portable one, and the chain's
 * hashing is most of an append's CPU); every implementation must give the same bytes.
 */
export type HmacSha256 = (key: Uint8Array, message: string) => string;

/** The portable HMAC-SHA256 (`@noble/hashes`), the default. */
export const portableHmacSha256: HmacSha256 = (key, message) =>
  bytesToHex(hmac(sha256, key, utf8ToBytes(message)));

/**
 * The signed head of a chain at a retention cut: the rows up to `position` were pruned, and the row after it
 * links to `rowHash`. Signed with the chain's key, so someone who can write the table can neither forge a cut
 * (to hide the rows before it) nor move one (docs/adr/0015-audit-ingest-and-retention.md).
 */
export interface ChainCheckpoint {
  readonly tenant: string;
  readonly position: number;
  readonly rowHash: string;
  /** When the rows were pruned (ISO-8601), and how many. */
  readonly prunedAt: string;
  readonly prunedRows: number;
  readonly signature: string;
}

/** What the first row of a chain links to. */
export const genesisHash = '0'.repeat(64);

/** Why a chain failed verification at a row. */
export type ChainBreak =
  /** The row's content or links no longer give its hash: it was edited, or forged without the key. */
  | 'hash-mismatch'
  /** The row does not link to the row before it. */
  | 'broken-link'
  /** The row's position is not the one after the row before it: rows before it were removed. */
  | 'missing-row'
  /** The retention checkpoint the chain starts from does not carry the chain key's signature. */
  | 'forged-checkpoint';

/** A chain that failed verification: where, why, and how many rows before it held. */
export interface ChainBroken {
  readonly intact: false;
  readonly position: number;
  readonly reason: ChainBreak;
  readonly rows: number;
}

export type ChainVerdict =
  { readonly intact: true; readonly rows: number; readonly head: ChainHead } | ChainBroken;

/**
 * A tenant's hash chain, keyed: each row's hash is HMAC-SHA256(key, previous hash ‖ canonical row), so someone
 * who can write the table but does not hold the key cannot forge a row or recompute the chain after an edit
 * (docs/adr/0010-audit-chain-per-tenant.md).
 */
export class AuditChain {
  private readonly key: Uint8Array;

  constructor(
    key: string,
    private readonly hmacSha256: HmacSha256 = portableHmacSha256,
  ) {
    if (key.length < 32) throw new RangeError('the audit chain key must have at least 32 characters');
    this.key = utf8ToBytes(key);
  }

  /** The rows `entries` become after `head` (the chain's end; undefined for an empty chain), in order. */
  append(
    tenant: string,
    head: ChainHead | undefined,
    entries: readonly (AuditEntry | PreparedEntry)[],
  ): AuditRow[] {
    let position = head?.position ?? 0;
    let previousHash = head?.rowHash ?? genesisHash;
    return entries.map((item) => {
      const { entry, canonicalEvent } = 'canonicalEvent' in item ? item : this.prepare(item);
      position += 1;
      const row = { ...entry, tenant, position, previousHash };
      const rowHash = this.hashOf(row, canonicalEvent);
      previousHash = rowHash;
      return { ...row, rowHash };
    });
  }

  /**
   * The entry with its event's canonical JSON, the costly half of its hash, computed ahead: a service prepares
   * entries before it takes the chain head's lock, so only the HMAC is left to do while holding it.
   */
  prepare(entry: AuditEntry): PreparedEntry {
    return { entry, canonicalEvent: canonicalJson(entry.event) };
  }

  /**
   * Walks rows as read back in position order and names the first that breaks the chain: an edited or forged
   * row fails its own hash, a removed row is named by the position that is missing. A long chain is verified in
   * pages: pass each page with the head the previous page's verdict returned.
   */
  verify(tenant: string, rows: readonly AuditRow[], from?: ChainHead): ChainVerdict {
    let expected = (from?.position ?? 0) + 1;
    let previousHash = from?.rowHash ?? genesisHash;
    for (const [index, row] of rows.entries()) {
      const broken = this.breakAt(tenant, row, expected, previousHash);
      if (broken !== undefined) return { intact: false, position: expected, reason: broken, rows: index };
      expected += 1;
      previousHash = row.rowHash;
    }
    return { intact: true, rows: rows.length, head: { position: expected - 1, rowHash: previousHash } };
  }

  /** Signs the head the chain is cut at; the rows up to `head.position` may then be pruned. */
  checkpoint(
    tenant: string,
    head: ChainHead,
    cut: { readonly prunedAt: string; readonly prunedRows: number },
  ): ChainCheckpoint {
    const unsigned = { tenant, position: head.position, rowHash: head.rowHash, ...cut };
    return { ...unsigned, signature: this.signatureOf(unsigned) };
  }

  /**
   * Where verification of a pruned chain starts: the checkpoint's head when its signature holds, otherwise a
   * break at the checkpoint's position (the cut itself was forged or edited).
   */
  verifyFrom(tenant: string, checkpoint: ChainCheckpoint): ChainHead | ChainBroken {
    const { signature, ...unsigned } = checkpoint;
    if (checkpoint.tenant !== tenant || this.signatureOf(unsigned) !== signature)
      return { intact: false, position: checkpoint.position, reason: 'forged-checkpoint', rows: 0 };
    return { position: checkpoint.position, rowHash: checkpoint.rowHash };
  }

  private signatureOf(checkpoint: Omit<ChainCheckpoint, 'signature'>): string {
    // A domain tag keeps a checkpoint's signature from ever equalling a row's hash.
    return this.hmacSha256(this.key, canonicalJson({ checkpoint }));
  }

  private breakAt(
    tenant: string,
    row: AuditRow,
    expected: number,
    previousHash: string,
  ): ChainBreak | undefined {
    if (row.position > expected) return 'missing-row';
    if (row.tenant !== tenant || row.position !== expected || this.hashOf(row) !== row.rowHash) {
      return 'hash-mismatch';
    }
    if (row.previousHash !== previousHash) return 'broken-link';
    return undefined;
  }

  /**
   * HMAC of the row's canonical JSON — `canonicalJson({ tenant, position, previousHash, eventId, topic, type,
   * subject, occurredAt, event })` — written out member by member in canonical (sorted) key order, so the
   * event's canonical text can be computed ahead (`prepare`). The domain spec asserts both give the same bytes.
   */
  private hashOf(row: Omit<AuditRow, 'rowHash'>, canonicalEvent = canonicalJson(row.event)): string {
    if (!Number.isFinite(row.position)) throw new TypeError(`${row.position} is not a JSON number`);
    const body =
      `{"event":${canonicalEvent},"eventId":${JSON.stringify(row.eventId)}` +
      `,"occurredAt":${JSON.stringify(row.occurredAt)},"position":${JSON.stringify(row.position)}` +
      `,"previousHash":${JSON.stringify(row.previousHash)},"subject":${JSON.stringify(row.subject)}` +
      `,"tenant":${JSON.stringify(row.tenant)},"topic":${JSON.stringify(row.topic)}` +
      `,"type":${JSON.stringify(row.type)}}`;
    return this.hmacSha256(this.key, body);
  }
}
