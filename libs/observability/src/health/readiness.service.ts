import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { isReadinessCheckToken, type ReadinessCheck } from './readiness-check';

export const HEALTH_OPTIONS = Symbol('keel.health-options');

export interface HealthModuleOptions {
  /** A check that has not answered within this time counts as failed. */
  readonly checkTimeoutMs?: number;
}

export interface CheckResult {
  readonly name: string;
  readonly status: 'up' | 'down';
  readonly durationMs: number;
  /** Why the check failed (its error message). */
  readonly reason?: string;
}

export interface ReadinessReport {
  readonly status: 'ready' | 'not_ready';
  readonly checks: readonly CheckResult[];
}

/** Runs every readiness check of the application, in parallel and each with a deadline. */
@Injectable()
export class ReadinessService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Readiness');
  private readonly timeoutMs: number;
  private checks: readonly ReadinessCheck[] = [];
  // Only transitions are logged, so a probe every few seconds does not flood the logs.
  private readonly lastStatus = new Map<string, CheckResult['status']>();

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(HEALTH_OPTIONS) options: HealthModuleOptions,
  ) {
    this.timeoutMs = options.checkTimeoutMs ?? 3000;
  }

  onApplicationBootstrap(): void {
    this.checks = this.discovery
      .getProviders()
      .filter((wrapper) => isReadinessCheckToken(wrapper.token))
      .map((wrapper) => wrapper.instance as ReadinessCheck);
  }

  async report(): Promise<ReadinessReport> {
    const checks = await Promise.all(this.checks.map((check) => this.run(check)));
    return { status: checks.every((check) => check.status === 'up') ? 'ready' : 'not_ready', checks };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.checks.map(async (check) => check.close?.()));
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    let result: CheckResult;
    try {
      await Promise.race([check.check(), deadline]);
      result = { name: check.name, status: 'up', durationMs: elapsed(started) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      result = { name: check.name, status: 'down', durationMs: elapsed(started), reason };
    } finally {
      clearTimeout(timer);
    }
    this.logTransition(result);
    return result;
  }

  private logTransition(result: CheckResult): void {
    const previous = this.lastStatus.get(result.name);
    this.lastStatus.set(result.name, result.status);
    if (previous === result.status) return;
    if (result.status === 'down')
      this.logger.warn('readiness check failing', { check: result.name, reason: result.reason });
    else if (previous === 'down') this.logger.log('readiness check recovered', { check: result.name });
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
