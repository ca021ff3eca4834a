import type { ReadinessCheck } from '@keel/observability';
import type { DataSource } from 'typeorm';

/** Ready when the pool can hand out a connection that answers. */
export function dataSourceReadinessCheck(dataSource: DataSource): ReadinessCheck {
  return {
    name: 'postgres',
    check: async () => {
      await dataSource.query('SELECT 1');
    },
  };
}
