import { PollingLoop } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer, provideHealthDetail } from '@keel/observability';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { type AppliedReleases, PostgresAppliedReleases } from './applied-releases.repository';
import { CurrentRelease } from './current-release';
import { GovernanceArtifacts } from './governance-artifacts';
import { type ReleaseApplier } from './release';
import { ReleaseApplication } from './release-application';
import { ReleaseInboxController } from './release-inbox.controller';
import { type ReleasesConfig } from './releases.config';
import { createReleasesMetrics, type ReleasesMetrics } from './releases.metrics';

export interface ReleasesModuleOptions {
  /** The service's Postgres schema; its migrations include `releasesTablesMigration(schema)`. */
  readonly schema: string;
  readonly config: ReleasesConfig;
  readonly now?: () => Date;
}

const RELEASES_OPTIONS = Symbol('keel.releases-options');
const APPLIED_RELEASES = Symbol('keel.applied-releases');
const RELEASES_METRICS = Symbol('keel.releases-metrics');

/**
 * The service's appliers of releases (decisioning's agent, workflow's templates): each registers in its
 * module's constructor or `onModuleInit`, before the consumer starts.
 */
@Injectable()
export class ReleaseAppliers {
  private readonly appliers: ReleaseApplier[] = [];

  register(applier: ReleaseApplier): void {
    this.appliers.push(applier);
  }

  all(): readonly ReleaseApplier[] {
    return this.appliers;
  }
}

/** Loads the releases in force at boot and re-reads them when another replica applied a step. */
@Injectable()
class ReleaseRefresher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Releases');
  private readonly loop: PollingLoop;

  constructor(
    private readonly current: CurrentRelease,
    @Inject(RELEASES_OPTIONS) options: ReleasesModuleOptions,
  ) {
    this.loop = new PollingLoop(
      async () => {
        await this.current.refresh();
        return false;
      },
      {
        intervalMs: options.config.RELEASES_REFRESH_MS,
        onError: (error) => this.logger.error(error instanceof Error ? error.stack : String(error)),
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    const inForce = await this.current.refresh();
    this.logger.log('releases in force', {
      production: inForce.production?.id ?? null,
      shadow: inForce.shadow?.id ?? null,
    });
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}

/**
 * Governance's releases applied by a service (global: any module injects `CurrentRelease` and
 * `ReleaseAppliers`). With `KEEL_RELEASE_TENANT` it consumes `keel.governance.releases.v1`; `/health` names
 * the releases in force (`release`), `keel_release_info{tenant,stage,release}` is 1 for each.
 * Needs `PersistenceModule`, `MetricsModule`, `HealthModule` and `MessagingModule` (the service chassis).
 */
@Module({})
export class ReleasesModule {
  static forRoot(options: ReleasesModuleOptions): DynamicModule {
    const tenant = options.config.KEEL_RELEASE_TENANT;
    const application: Provider[] =
      tenant === undefined
        ? []
        : [
            {
              provide: ReleaseApplication,
              inject: [APPLIED_RELEASES, ReleaseAppliers, RELEASES_METRICS],
              useFactory: (repository: AppliedReleases, appliers: ReleaseAppliers, metrics: ReleasesMetrics) => {
                const { GOVERNANCE_URL, GOVERNANCE_API_KEY, GOVERNANCE_TIMEOUT_MS } = options.config;
                if (GOVERNANCE_URL === undefined || GOVERNANCE_API_KEY === undefined) {
                  throw new Error('KEEL_RELEASE_TENANT needs GOVERNANCE_URL and GOVERNANCE_API_KEY');
                }
                return new ReleaseApplication({
                  tenant,
                  repository,
                  artifacts: new GovernanceArtifacts({
                    baseUrl: GOVERNANCE_URL,
                    apiKey: GOVERNANCE_API_KEY,
                    timeoutMs: GOVERNANCE_TIMEOUT_MS,
                  }),
                  appliers: () => appliers.all(),
                  now: options.now ?? (() => new Date()),
                  counted: (outcome) => metrics.steps.inc({ outcome }),
                });
              },
            },
          ];
    return {
      module: ReleasesModule,
      global: true,
      controllers: tenant === undefined ? [] : [ReleaseInboxController],
      providers: [
        { provide: RELEASES_OPTIONS, useValue: options },
        {
          provide: APPLIED_RELEASES,
          inject: [PortCallTimer],
          useFactory: (timer: PortCallTimer): AppliedReleases =>
            timer.wrap('releases.applied', new PostgresAppliedReleases(options.schema)),
        },
        {
          provide: RELEASES_METRICS,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => createReleasesMetrics(registry),
        },
        {
          provide: CurrentRelease,
          inject: [APPLIED_RELEASES, DataSource, RELEASES_METRICS],
          useFactory: (repository: AppliedReleases, dataSource: DataSource, metrics: ReleasesMetrics) =>
            new CurrentRelease({ tenant, repository, manager: dataSource.manager, metrics }),
        },
        ReleaseAppliers,
        ...application,
        ReleaseRefresher,
        provideHealthDetail('release', {
          inject: [CurrentRelease],
          useFactory: (current: CurrentRelease) => ({ name: 'release', read: () => current.health() }),
        }),
      ],
      exports: [CurrentRelease, ReleaseAppliers],
    };
  }
}
