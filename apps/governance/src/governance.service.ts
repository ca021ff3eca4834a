import { loadConfig } from '@keel/config';
import { governanceConfigSchema, governanceQualityConfigSchema } from '@keel/governance-feature';
import { kafkaEventTransport } from '@keel/messaging';
import type { BootstrapOptions } from '@keel/observability';
import { AppModule, type GovernanceServiceConfig, serviceName } from './app.module';

/** How the governance service starts: the process (`main.ts`) and the tests boot it the same way. */
export const governanceService: BootstrapOptions<GovernanceServiceConfig> = {
  name: serviceName,
  config: () => ({ ...loadConfig(governanceConfigSchema), ...loadConfig(governanceQualityConfigSchema) }),
  module: (config) => AppModule.forRoot(config),
  description: 'Registry, releases, replay gate, audit log, lineage, approvals inbox and machine tokens',
  // Runs of 500 records per transaction: the audit log appends a run at its commit under the tenant's head
  // lock, so longer runs amortise the lock and the commit (ADR 0015; bench/governance-audit). Governance is on
  // no case's path, so a fetch gathers 64 KiB (or waits 250 ms) before it is answered: runs stay long at a
  // paced load too (ADR 0027).
  microservices: (app) => [
    {
      strategy: kafkaEventTransport(app, {
        recordsPerTransaction: 500,
        commitEveryRecords: 500,
        fetchMinBytes: 64 * 1024,
      }),
    },
  ],
};
