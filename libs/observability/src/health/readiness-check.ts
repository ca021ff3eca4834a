import type { FactoryProvider, ValueProvider } from '@nestjs/common';

/** Something a service needs before it can do its work (database, broker…). */
export interface ReadinessCheck {
  /** Shown in `/health/ready` and in logs; unique per service. */
  readonly name: string;
  /** Resolves when the dependency is usable; throws (with a reason) when it is not. */
  check(): Promise<void>;
  /** Releases what the check holds open (a connection); called once when the application shuts down. */
  close?(): Promise<void>;
}

// Nest has no multi-providers: every readiness check is provided under its own token with this prefix, and
// the health module discovers them all, so any feature module can add one without the health module
// knowing it.
const readinessCheckTokenPrefix = 'keel.readiness-check:';

export function isReadinessCheckToken(token: unknown): boolean {
  return typeof token === 'string' && token.startsWith(readinessCheckTokenPrefix);
}

/**
 * A provider adding a readiness check to the application, e.g.
 * `provideReadinessCheck('kafka', { inject: [Kafka], useFactory: kafkaReadinessCheck })`.
 */
export function provideReadinessCheck(
  name: string,
  provider: Omit<FactoryProvider<ReadinessCheck>, 'provide'> | Omit<ValueProvider<ReadinessCheck>, 'provide'>,
): FactoryProvider<ReadinessCheck> | ValueProvider<ReadinessCheck> {
  return { ...provider, provide: `${readinessCheckTokenPrefix}${name}` };
}
