import {
  type FactoryProvider,
  Injectable,
  type OnApplicationBootstrap,
  type ValueProvider,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/** Something a service states in `GET /health` beside its checks, e.g. the release it runs. */
export interface HealthDetail {
  /** The key of the detail in the body; unique per service. */
  readonly name: string;
  /** What the detail says now: cheap and in memory, since probes call it every few seconds. */
  read(): unknown;
}

// Discovered like readiness checks (Nest has no multi-providers): any feature module can add one.
const healthDetailTokenPrefix = 'keel.health-detail:';

/** A provider adding `name` to the body of `GET /health`. */
export function provideHealthDetail(
  name: string,
  provider: Omit<FactoryProvider<HealthDetail>, 'provide'> | Omit<ValueProvider<HealthDetail>, 'provide'>,
): FactoryProvider<HealthDetail> | ValueProvider<HealthDetail> {
  return { ...provider, provide: `${healthDetailTokenPrefix}${name}` };
}

/** Every health detail of the application, read together. */
@Injectable()
export class HealthDetails implements OnApplicationBootstrap {
  private details: readonly HealthDetail[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    this.details = this.discovery
      .getProviders()
      .filter(({ token }) => typeof token === 'string' && token.startsWith(healthDetailTokenPrefix))
      .map((wrapper) => wrapper.instance as HealthDetail);
  }

  read(): Record<string, unknown> {
    return Object.fromEntries(this.details.map((detail) => [detail.name, detail.read()]));
  }
}
