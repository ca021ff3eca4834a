import { loadConfig } from '@keel/config';
import { governanceConfigSchema } from '@keel/governance-feature';
import { serviceAppContract } from '@keel/testing';
import { AppModule } from './app.module';

serviceAppContract({
  service: 'governance',
  migrations: [
    'ServiceSchema1763900000000',
    'MessagingTables1764000000000',
    'MessagingDeliveryCounts1764200000000',
    'GovernanceTables1764300000200',
    'GovernanceInboxLineage1764600000300',
    'GovernanceHoldDeadlines1764600000400',
    'GovernanceQuality1764900000100',
  ],
  module: (env) =>
    AppModule.forRoot(
      loadConfig(governanceConfigSchema, {
        ...env,
        ACCESS_SHARED_KEY: 'contract-test-shared-key-of-32-chars!',
        GOVERNANCE_AUDIT_KEY: 'contract-test-audit-key-of-32-chars!!',
      }),
    ),
});
