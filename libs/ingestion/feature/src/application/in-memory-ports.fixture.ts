import type { CloudEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import type { AcceptedKey, IdempotencyKeys } from '../persistence/idempotency-keys.repository';
import type { PublishBacklog } from '../persistence/publish-backlog.repository';
import type { Transactions } from '../persistence/transactions';

/** In-memory stand-ins for the ingestion ports; a transaction commits its writes only when the work succeeds. */
export class InMemoryIngestionStore implements Transactions {
  readonly keys = new Map<string, AcceptedKey>();
  readonly outbox: Array<{ topic: string; event: CloudEvent }> = [];
  oldestWaitMs: number | undefined;
  private pending:
    { keys: Map<string, AcceptedKey>; outbox: Array<{ topic: string; event: CloudEvent }> } | undefined;

  /** In memory the work's one statement is its only write: run on its own, it behaves as in a transaction. */
  outside<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.run(work);
  }

  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    this.pending = { keys: new Map(this.keys), outbox: [...this.outbox] };
    try {
      const result = await work({} as EntityManager);
      this.keys.clear();
      for (const [key, value] of this.pending.keys) this.keys.set(key, value);
      this.outbox.splice(0, this.outbox.length, ...this.pending.outbox);
      return result;
    } finally {
      this.pending = undefined;
    }
  }

  readonly idempotencyKeys: IdempotencyKeys = {
    claim: (_manager, claims) => {
      const { keys, outbox } = this.current();
      const heldBefore = new Map(
        claims.flatMap(({ accepted }): Array<[string, AcceptedKey]> => {
          const first = keys.get(accepted.key);
          return first ? [[accepted.key, first]] : [];
        }),
      );
      for (const { accepted, events } of claims) {
        if (keys.has(accepted.key)) continue;
        keys.set(accepted.key, accepted);
        outbox.push(...events.map(({ topic, event }) => ({ topic: topic.name, event })));
      }
      return Promise.resolve(heldBefore);
    },
    forgetBefore: () => Promise.resolve(0),
  };

  readonly backlog: PublishBacklog = { oldestWaitMs: () => Promise.resolve(this.oldestWaitMs) };

  private current() {
    if (!this.pending) throw new Error('written outside a transaction');
    return this.pending;
  }
}
