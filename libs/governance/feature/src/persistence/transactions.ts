import { isKeelError } from '@keel/errors';
import { GovernanceError } from '@keel/governance-domain';
import { classifyPostgresFailure } from '@keel/persistence';
import type { DataSource, EntityManager } from 'typeorm';

/** The port: runs work in one transaction; a database that cannot take it is `store-unavailable`. */
export interface Transactions {
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
}

export class PostgresTransactions implements Transactions {
  constructor(private readonly dataSource: DataSource) {}

  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      // A KeelError is a refusal by the work itself (governance's, the replay gate's), not the store's.
      if (isKeelError(error) || classifyPostgresFailure(error) === 'permanent') throw error;
      throw new GovernanceError(
        'store-unavailable',
        'the governance store cannot take changes now; try again later',
        {
          cause: error,
        },
      );
    }
  }
}
