import type { CloudEvent, TopicDefinition } from '@keel/contracts';
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
    claim: (_manager, accepted) => {
      const keys = this.current().keys;
      const heldBefore = new Map(
        accepted.flatMap((item): Array<[string, AcceptedKey]> => {
          const first = keys.get(item.key);
          return first ? [[item.key, first]] : [];
        }),
      );
      for (const item of accepted) if (!keys.has(item.key)) keys.set(item.key, item);
      return Promise.resolve(heldBefore);
    },
    forgetBefore: () => Promise.resolve(0),
  };

  readonly backlog: PublishBacklog = { oldestWaitMs: () => Promise.resolve(this.oldestWaitMs) };

  readonly outboxWriter = {
    enqueue: <T extends TopicDefinition>(
      _manager: EntityManager,
      topic: T,
      events: ReadonlyArray<CloudEvent>,
    ) => {
      this.current().outbox.push(...events.map((event) => ({ topic: topic.name, event })));
      return Promise.resolve();
    },
  };

  private current() {
    if (!this.pending) throw new Error('written outside a transaction');
    return this.pending;
  }
}
