import { classifyPostgresFailure } from '@keel/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { IngestionError } from '../ingestion.error';

/** The port: runs work in one transaction, or outside any; a database that cannot take it is `store-unavailable`. */
export interface Transactions {
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
  /** For work whose writes are one statement, atomic on its own: it saves the transaction's round trips. */
  outside<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
}

export class PostgresTransactions implements Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.classified(() => this.dataSource.transaction(work));
  }

  outside<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.classified(() => work(this.dataSource.manager));
  }

  private async classified<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof IngestionError || classifyPostgresFailure(error) === 'permanent') throw error;
      throw new IngestionError(
        'store-unavailable',
        'the event store cannot take events now; try again later',
        {
          cause: error,
        },
      );
    }
  }
}
