import type {
  DataSource,
  EntitySubscriberInterface,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { takeQueuedBy } from './decision-queue.repository';

/**
 * Wakes the worker when a transaction of this process that queued a trigger commits — in process, no statement
 * added, none of `NOTIFY`'s commit serialisation (the outbox relay is woken the same way).
 */
export class DecisionQueueCommits {
  private readonly subscriber: EntitySubscriberInterface;

  constructor(
    private readonly dataSource: DataSource,
    onCommit: () => void,
  ) {
    // A savepoint ending leaves the transaction open; only its end counts.
    const ended = ({ queryRunner }: TransactionCommitEvent | TransactionRollbackEvent) =>
      !queryRunner.isTransactionActive && takeQueuedBy(queryRunner);
    this.subscriber = {
      afterTransactionCommit: (event) => {
        if (ended(event)) onCommit();
      },
      afterTransactionRollback: (event) => {
        ended(event);
      },
    };
  }

  start(): void {
    const { subscribers } = this.dataSource;
    if (!subscribers.includes(this.subscriber)) subscribers.push(this.subscriber);
  }

  stop(): void {
    const { subscribers } = this.dataSource;
    const index = subscribers.indexOf(this.subscriber);
    if (index >= 0) subscribers.splice(index, 1);
  }
}
