import { Counter, Gauge, type Registry } from 'prom-client';
import { type ReleaseStepSkip } from './release-step';

export interface ReleasesMetrics {
  /** 1 for each release in force (`stage` production or shadow); the labels of a replaced release go. */
  readonly info: Gauge<'tenant' | 'stage' | 'release'>;
  /** Release events by what they did: `applied` or a skip reason. */
  readonly steps: Counter<'outcome'>;
}

export type ReleaseStepOutcome = 'applied' | ReleaseStepSkip;

export function createReleasesMetrics(registry: Registry): ReleasesMetrics {
  const registers = [registry];
  return {
    info: new Gauge({
      name: 'keel_release_info',
      help: 'The release in force at each stage (value 1), as this replica runs it',
      labelNames: ['tenant', 'stage', 'release'],
      registers,
    }),
    steps: new Counter({
      name: 'keel_release_steps_total',
      help: 'Release events handled, by outcome (applied, already-applied, rolled-back-notice, other-tenant)',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
