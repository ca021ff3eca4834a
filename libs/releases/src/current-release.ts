import type { EntityManager } from 'typeorm';
import { type AppliedReleases } from './applied-releases.repository';
import { type AppliedRelease, type ReleasesInForce } from './release';
import { type ReleasesMetrics } from './releases.metrics';

export interface CurrentReleaseOptions {
  /** The governance tenant whose releases this service runs; undefined: releases are not applied. */
  readonly tenant: string | undefined;
  readonly repository: AppliedReleases;
  /** Reads outside any transaction. */
  readonly manager: EntityManager;
  readonly metrics: ReleasesMetrics;
}

/** What `/health` says of the releases (ids, not contents). */
export interface ReleaseHealth {
  readonly tenant: string | null;
  readonly production: ReleaseSummary | null;
  readonly shadow: ReleaseSummary | null;
}

export interface ReleaseSummary {
  readonly id: string;
  readonly sequence: number;
  readonly appliedAt: string;
}

type Listener = (inForce: ReleasesInForce) => void;

/**
 * The releases in force as this replica runs them: read from the service's schema at boot (so a restart
 * resumes the release without governance) and again whenever the applied sequence moves — whichever replica
 * consumed the event, every replica switches within one refresh. Listeners hear each change once, in order.
 */
export class CurrentRelease {
  private current: ReleasesInForce = {};
  private appliedThrough = 0;
  private readonly listeners: Listener[] = [];
  private refreshing: Promise<ReleasesInForce> | undefined;

  constructor(private readonly options: CurrentReleaseOptions) {}

  /** The release in force in production, if any was applied. */
  production(): AppliedRelease | undefined {
    return this.current.production;
  }

  /** The shadow release, decided beside production and never acted on. */
  shadow(): AppliedRelease | undefined {
    return this.current.shadow;
  }

  inForce(): ReleasesInForce {
    return this.current;
  }

  /** Calls `listener` with the releases in force now and after every change; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.push(listener);
    listener(this.current);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Reads the applied sequence and, when it moved, the releases in force; concurrent calls share one read. */
  refresh(): Promise<ReleasesInForce> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  health(): ReleaseHealth {
    const summary = (release: AppliedRelease | undefined): ReleaseSummary | null =>
      release === undefined
        ? null
        : { id: release.id, sequence: release.sequence, appliedAt: release.appliedAt.toISOString() };
    return {
      tenant: this.options.tenant ?? null,
      production: summary(this.current.production),
      shadow: summary(this.current.shadow),
    };
  }

  private async read(): Promise<ReleasesInForce> {
    const { tenant, repository, manager } = this.options;
    if (tenant === undefined) return this.current;
    const through = await repository.appliedThrough(manager, tenant);
    if (through === this.appliedThrough) return this.current;
    const { appliedThrough, ...inForce } = await repository.state(manager, tenant);
    this.appliedThrough = appliedThrough;
    this.current = inForce;
    this.publishInfo(tenant);
    // Each listener hears the change even if another one throws; the failures are reported together.
    const failures: unknown[] = [];
    for (const listener of this.listeners) {
      try {
        listener(inForce);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'a release listener failed');
    return inForce;
  }

  private publishInfo(tenant: string): void {
    const { info } = this.options.metrics;
    info.reset();
    for (const release of [this.current.production, this.current.shadow]) {
      if (release !== undefined) info.set({ tenant, stage: release.stage, release: release.id }, 1);
    }
  }
}
