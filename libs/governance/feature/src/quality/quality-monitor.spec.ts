import type { EntityManager } from 'typeorm';
import { type Transactions } from '../persistence/transactions';
import { type DriftMonitor } from './drift-monitor.service';
import { type RecordedDecisions } from './persistence/recorded-decisions.repository';
import { QualityMonitorLifecycle } from './quality.module';
import { type ShadowComparisonService } from './shadow-comparison.service';

describe('release-quality monitor', () => {
  it("looks at every tenant in production, and one tenant's failure does not skip the others", async () => {
    const looked: string[] = [];
    const drift = {
      evaluate: (tenant: string) => {
        looked.push(`drift:${tenant}`);
        return tenant === 'broken'
          ? Promise.reject(new Error('artifact refused'))
          : Promise.resolve(undefined);
      },
    } as unknown as DriftMonitor;
    const shadow = {
      compare: (tenant: string, window: number) => {
        looked.push(`shadow:${tenant}:${window}`);
        return Promise.resolve({ versions: [], cases: [] });
      },
    } as unknown as ShadowComparisonService;
    const transactions: Transactions = { run: (work) => work({} as EntityManager) };
    const decisions = {
      tenantsInProduction: () => Promise.resolve(['acme', 'broken', 'zeta']),
    } as unknown as RecordedDecisions;
    const monitor = new QualityMonitorLifecycle(drift, shadow, transactions, decisions, {
      ms: 0,
      window: 40,
    });
    await monitor.lookAtAll();
    expect(looked).toEqual(['drift:acme', 'shadow:acme:40', 'drift:broken', 'drift:zeta', 'shadow:zeta:40']);
  });
});
