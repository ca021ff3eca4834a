import { AuditChain } from '@keel/governance-domain';
import { OutboxWriter, TOPICS, type Topics } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer } from '@keel/observability';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditService } from '../application/audit.service';
import { ReleaseService } from '../application/release.service';
import { type GovernanceConfig } from '../governance.config';
import { type ArtifactVersions, PostgresArtifactVersions } from '../persistence/artifact-versions.repository';
import { type AuditLog, PostgresAuditLog } from '../persistence/audit-log.repository';
import { PostgresReleases, type Releases } from '../persistence/releases.repository';
import { PostgresTransactions, type Transactions } from '../persistence/transactions';
import { DriftMonitor } from './drift-monitor.service';
import { type DriftEvaluations, PostgresDriftEvaluations } from './persistence/drift-evaluations.repository';
import {
  PostgresRecordedDecisions,
  type RecordedDecisions,
} from './persistence/recorded-decisions.repository';
import { PostgresReplayReports, type ReplayReports } from './persistence/replay-reports.repository';
import { QualityController } from './quality.controller';
import { type GovernanceQualityConfig } from './quality.config';
import { type QualityMetrics, createQualityMetrics } from './quality.metrics';
import { ReplayGateService, ReplayPromotionGate } from './replay-gate.service';
import { ShadowComparisonService } from './shadow-comparison.service';

export interface GovernanceQualityModuleOptions {
  /** The governance service's Postgres schema (the audit log, releases and registry it reads). */
  readonly schema: string;
  readonly config: GovernanceConfig;
  readonly quality: GovernanceQualityConfig;
  readonly source: string;
  readonly now?: () => Date;
}

/** The gate `GovernanceModule`'s release service consults at promotion (see `ReplayPromotionGate`). */
export function replayPromotionGate(schema: string): ReplayPromotionGate {
  return new ReplayPromotionGate(new PostgresReplayReports(schema));
}

const QUALITY_METRICS = Symbol('keel.governance.quality-metrics');
const TRANSACTIONS = Symbol('keel.governance.quality.transactions');
const RELEASES = Symbol('keel.governance.quality.releases');
const VERSIONS = Symbol('keel.governance.quality.versions');
const DECISIONS = Symbol('keel.governance.quality.recorded-decisions');
const REPORTS = Symbol('keel.governance.quality.replay-reports');
const EVALUATIONS = Symbol('keel.governance.quality.drift-evaluations');
const AUDIT = Symbol('keel.governance.quality.audit');
const RELEASE_SERVICE = Symbol('keel.governance.quality.release-service');
const QUALITY_INTERVAL = Symbol('keel.governance.quality.interval');

/** Looks at every tenant's production release on an interval: drift (and its rollbacks), shadow agreement. */
@Injectable()
export class QualityMonitorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('QualityMonitor');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(DriftMonitor) private readonly drift: DriftMonitor,
    @Inject(ShadowComparisonService) private readonly shadow: ShadowComparisonService,
    @Inject(TRANSACTIONS) private readonly transactions: Transactions,
    @Inject(DECISIONS) private readonly decisions: RecordedDecisions,
    @Inject(QUALITY_INTERVAL) private readonly interval: { ms: number; window: number },
  ) {}

  onApplicationBootstrap(): void {
    if (this.interval.ms === 0) return;
    this.timer = setInterval(() => {
      // One look at a time: a slow look is not overtaken by the next tick.
      this.running ??= this.lookAtAll().finally(() => (this.running = undefined));
    }, this.interval.ms);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One look at every tenant in production (what each tick runs). */
  async lookAtAll(): Promise<void> {
    let tenants: string[];
    try {
      tenants = await this.transactions.run((manager) => this.decisions.tenantsInProduction(manager));
    } catch (error) {
      this.logger.warn(`release-quality look failed: ${messageOf(error)}`);
      return;
    }
    // One tenant's failure (a store hiccup, an artifact its loader now refuses) does not skip the others;
    // the next tick looks again.
    for (const tenant of tenants) {
      try {
        await this.drift.evaluate(tenant);
        await this.shadow.compare(tenant, this.interval.window);
      } catch (error) {
        this.logger.warn(`release-quality look at tenant '${tenant}' failed: ${messageOf(error)}`);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Release quality in the governance service: the replay gate's API, shadow agreement and the drift monitor
 * (with automatic rollback where a release asks for it). Reads governance's own tables (audit log, releases,
 * registry) through their repositories; the gate itself is passed to `GovernanceModule` by the app.
 * Needs `PersistenceModule`, `MetricsModule` and `MessagingModule`, and the access guard and rate limit the
 * service chassis registers for the application.
 */
@Module({})
export class GovernanceQualityModule {
  static forRoot(options: GovernanceQualityModuleOptions): DynamicModule {
    const { schema, config, quality, source } = options;
    const now = options.now ?? (() => new Date());
    const timed = <T extends object>(port: string, make: () => T) => ({
      inject: [PortCallTimer],
      useFactory: (timer: PortCallTimer) => timer.wrap<T>(port, make()),
    });
    return {
      module: GovernanceQualityModule,
      controllers: [QualityController],
      providers: [
        {
          provide: QUALITY_METRICS,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => createQualityMetrics(registry),
        },
        {
          provide: TRANSACTIONS,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): Transactions => new PostgresTransactions(dataSource),
        },
        { provide: RELEASES, ...timed<Releases>('releases', () => new PostgresReleases(schema)) },
        {
          provide: VERSIONS,
          ...timed<ArtifactVersions>('artifact-versions', () => new PostgresArtifactVersions(schema)),
        },
        {
          provide: DECISIONS,
          ...timed<RecordedDecisions>('recorded-decisions', () => new PostgresRecordedDecisions(schema)),
        },
        {
          provide: REPORTS,
          ...timed<ReplayReports>('replay-reports', () => new PostgresReplayReports(schema)),
        },
        {
          provide: EVALUATIONS,
          ...timed<DriftEvaluations>('drift-evaluations', () => new PostgresDriftEvaluations(schema)),
        },
        {
          // The same chain as GovernanceModule's: appends take the tenant's head row lock, so two writers
          // of one chain take turns.
          provide: AUDIT,
          inject: [TRANSACTIONS],
          useFactory: (transactions: Transactions) =>
            new AuditService(
              new PostgresAuditLog(schema) satisfies AuditLog,
              transactions,
              new AuditChain(config.GOVERNANCE_AUDIT_KEY),
            ),
        },
        {
          // Stateless over the same tables and outbox as GovernanceModule's, so a drift rollback is the
          // same rollback an operator makes: locked, published and audited alike.
          provide: RELEASE_SERVICE,
          inject: [RELEASES, VERSIONS, TRANSACTIONS, OutboxWriter, TOPICS],
          useFactory: (
            releases: Releases,
            versions: ArtifactVersions,
            transactions: Transactions,
            outbox: OutboxWriter,
            topics: Topics,
          ) => new ReleaseService({ releases, versions, transactions, outbox, topics, source, now }),
        },
        {
          provide: ReplayGateService,
          inject: [TRANSACTIONS, RELEASES, VERSIONS, DECISIONS, REPORTS, AUDIT, QUALITY_METRICS],
          useFactory: (
            transactions: Transactions,
            releases: Releases,
            versions: ArtifactVersions,
            decisions: RecordedDecisions,
            reports: ReplayReports,
            audit: AuditService,
            metrics: QualityMetrics,
          ) =>
            new ReplayGateService({
              transactions,
              releases,
              versions,
              decisions,
              reports,
              audit,
              metrics,
              config: quality,
              source,
              now,
            }),
        },
        {
          provide: DriftMonitor,
          inject: [
            TRANSACTIONS,
            RELEASES,
            VERSIONS,
            DECISIONS,
            EVALUATIONS,
            RELEASE_SERVICE,
            AUDIT,
            QUALITY_METRICS,
          ],
          useFactory: (
            transactions: Transactions,
            releases: Releases,
            versions: ArtifactVersions,
            decisions: RecordedDecisions,
            evaluations: DriftEvaluations,
            releaseService: ReleaseService,
            audit: AuditService,
            metrics: QualityMetrics,
          ) =>
            new DriftMonitor({
              transactions,
              releases,
              versions,
              decisions,
              evaluations,
              releaseService,
              audit,
              metrics,
              config: quality,
              source,
              now,
            }),
        },
        {
          provide: ShadowComparisonService,
          inject: [TRANSACTIONS, DECISIONS, QUALITY_METRICS],
          useFactory: (transactions: Transactions, decisions: RecordedDecisions, metrics: QualityMetrics) =>
            new ShadowComparisonService(transactions, decisions, metrics),
        },
        {
          provide: QUALITY_INTERVAL,
          useValue: {
            ms: quality.GOVERNANCE_QUALITY_INTERVAL_MS,
            window: quality.GOVERNANCE_DRIFT_WINDOW * 2,
          },
        },
        QualityMonitorLifecycle,
      ],
    };
  }
}
