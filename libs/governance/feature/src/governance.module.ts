import { AuditChain, type ArtifactValidators } from '@keel/governance-domain';
import { OutboxWriter, TOPICS, type Topics } from '@keel/messaging';
import { PortCallTimer } from '@keel/observability';
import { type DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApprovalsController } from './api/approvals.controller';
import { ArtifactsController } from './api/artifacts.controller';
import { AuditController } from './api/audit.controller';
import { LineageController } from './api/lineage.controller';
import { MachineTokensController } from './api/machine-tokens.controller';
import { ReleasesController } from './api/releases.controller';
import { ApprovalsInboxService } from './application/approvals-inbox.service';
import { HoldEscalationLifecycle } from './application/hold-escalation.lifecycle';
import { nativeHmacSha256 } from './application/native-hmac';
import { ArtifactRegistryService } from './application/artifact-registry.service';
import { AuditService } from './application/audit.service';
import { governedArtifactValidators } from './application/governed-artifact.validators';
import { MachineTokensService } from './application/machine-tokens.service';
import { type PromotionGate, ReleaseService } from './application/release.service';
import { AuditCommitFlush } from './consumers/audit-commit-flush';
import { AuditConsumer } from './consumers/audit.consumer';
import { type GovernanceConfig } from './governance.config';
import { type ApiKeys, PostgresApiKeys } from './persistence/api-keys.repository';
import { type ApprovalItems, PostgresApprovalItems } from './persistence/approval-items.repository';
import { type ArtifactVersions, PostgresArtifactVersions } from './persistence/artifact-versions.repository';
import { type AuditLog, PostgresAuditLog } from './persistence/audit-log.repository';
import { PostgresReleases, type Releases } from './persistence/releases.repository';
import { PostgresTransactions, type Transactions } from './persistence/transactions';

export interface GovernanceModuleOptions {
  /** The service's Postgres schema. */
  readonly schema: string;
  readonly config: GovernanceConfig;
  /** CloudEvents `source` of what governance emits. */
  readonly source: string;
  readonly validators?: ArtifactValidators;
  readonly now?: () => Date;
  /** Consulted inside each promotion's transaction (the replay gate, `GovernanceQualityModule`). */
  readonly promotionGate?: PromotionGate;
}

const VERSIONS = Symbol('keel.governance.artifact-versions');
const RELEASES = Symbol('keel.governance.releases');
const AUDIT_LOG = Symbol('keel.governance.audit-log');
const API_KEYS = Symbol('keel.governance.api-keys');
const APPROVAL_ITEMS = Symbol('keel.governance.approval-items');
const TRANSACTIONS = Symbol('keel.governance.transactions');

/**
 * The governance service's feature: registry, releases, audit log (a consumer per topic) and machine tokens,
 * behind the access guard and a rate limit (both from `ServiceChassisModule`'s `http`). Needs
 * `PersistenceModule`, `MetricsModule` and `MessagingModule`.
 */
@Module({})
export class GovernanceModule {
  static forRoot(options: GovernanceModuleOptions): DynamicModule {
    const { config, schema } = options;
    const now = options.now ?? (() => new Date());
    const timed = <T extends object>(port: string, make: () => T) => ({
      inject: [PortCallTimer],
      useFactory: (timer: PortCallTimer) => timer.wrap<T>(port, make()),
    });
    return {
      module: GovernanceModule,
      controllers: [
        ArtifactsController,
        ReleasesController,
        AuditController,
        LineageController,
        ApprovalsController,
        MachineTokensController,
        AuditConsumer,
      ],
      providers: [
        {
          provide: VERSIONS,
          ...timed<ArtifactVersions>('artifact-versions', () => new PostgresArtifactVersions(schema)),
        },
        { provide: RELEASES, ...timed<Releases>('releases', () => new PostgresReleases(schema)) },
        { provide: AUDIT_LOG, ...timed<AuditLog>('audit-log', () => new PostgresAuditLog(schema)) },
        { provide: API_KEYS, ...timed<ApiKeys>('api-keys', () => new PostgresApiKeys(schema)) },
        {
          provide: APPROVAL_ITEMS,
          ...timed<ApprovalItems>('approval-items', () => new PostgresApprovalItems(schema)),
        },
        {
          provide: TRANSACTIONS,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): Transactions => new PostgresTransactions(dataSource),
        },
        {
          provide: ArtifactRegistryService,
          inject: [VERSIONS, TRANSACTIONS],
          useFactory: (versions: ArtifactVersions, transactions: Transactions) =>
            new ArtifactRegistryService(
              versions,
              transactions,
              options.validators ?? governedArtifactValidators,
              now,
            ),
        },
        {
          provide: ReleaseService,
          inject: [RELEASES, VERSIONS, TRANSACTIONS, OutboxWriter, TOPICS],
          useFactory: (
            releases: Releases,
            versions: ArtifactVersions,
            transactions: Transactions,
            outbox: OutboxWriter,
            topics: Topics,
          ) =>
            new ReleaseService({
              releases,
              versions,
              transactions,
              outbox,
              topics,
              source: options.source,
              now,
              promotionGate: options.promotionGate,
            }),
        },
        {
          provide: AuditService,
          inject: [AUDIT_LOG, TRANSACTIONS],
          useFactory: (log: AuditLog, transactions: Transactions) =>
            new AuditService(
              log,
              transactions,
              new AuditChain(config.GOVERNANCE_AUDIT_KEY, nativeHmacSha256),
              now,
            ),
        },
        {
          // Registered on the service's data source: every transaction that staged audit rows appends them
          // just before it commits.
          provide: AuditCommitFlush,
          inject: [DataSource, AuditService],
          useFactory: (dataSource: DataSource, audit: AuditService) => {
            const flush = new AuditCommitFlush(audit);
            dataSource.subscribers.push(flush);
            return flush;
          },
        },
        {
          provide: ApprovalsInboxService,
          inject: [APPROVAL_ITEMS, TRANSACTIONS, OutboxWriter, TOPICS, AuditService],
          useFactory: (
            items: ApprovalItems,
            transactions: Transactions,
            outbox: OutboxWriter,
            topics: Topics,
            audit: AuditService,
          ) =>
            new ApprovalsInboxService({
              items,
              transactions,
              outbox,
              topics,
              audit,
              source: options.source,
              now,
              holdTimeoutMs: config.GOVERNANCE_HOLD_TIMEOUT_MS,
              holdEscalateTo: config.GOVERNANCE_HOLD_ESCALATE_TO,
            }),
        },
        {
          provide: HoldEscalationLifecycle,
          inject: [ApprovalsInboxService],
          useFactory: (inbox: ApprovalsInboxService) =>
            new HoldEscalationLifecycle(inbox, config.GOVERNANCE_INBOX_POLL_MS),
        },
        {
          provide: MachineTokensService,
          inject: [API_KEYS, TRANSACTIONS],
          useFactory: (keys: ApiKeys, transactions: Transactions) =>
            new MachineTokensService({
              keys,
              transactions,
              signingKey: config.ACCESS_SHARED_KEY ?? '',
              issuer: config.ACCESS_ISSUER,
              audience: config.ACCESS_AUDIENCE,
              tokenTtlSeconds: config.GOVERNANCE_TOKEN_TTL_SECONDS,
              now,
            }),
        },
      ],
    };
  }
}
