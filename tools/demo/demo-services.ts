import { decisioningService } from '../../apps/decisioning/src/decisioning.service';
import { governanceService } from '../../apps/governance/src/governance.service';
import { ingestionService } from '../../apps/ingestion/src/ingestion.service';
import { retrievalService } from '../../apps/retrieval/src/retrieval.service';
import { workflowService } from '../../apps/workflow/src/workflow.service';
import type { ServiceConfig } from '@keel/config';
import { type BootstrapOptions, PinoLoggerService, createLogger, startServiceApp } from '@keel/observability';
import type { INestApplication } from '@nestjs/common';

export type ServiceName = 'retrieval' | 'governance' | 'workflow' | 'decisioning' | 'ingestion';

/** Boot order: each service's dependencies first (decisioning asks retrieval; ingestion feeds everyone). */
export const bootOrder: readonly ServiceName[] = [
  'retrieval',
  'governance',
  'workflow',
  'decisioning',
  'ingestion',
];

// Typed loosely here only: each definition's config and module agree with each other, which is what counts.
const definitions: Record<ServiceName, BootstrapOptions<ServiceConfig>> = {
  retrieval: retrievalService as unknown as BootstrapOptions<ServiceConfig>,
  governance: governanceService as unknown as BootstrapOptions<ServiceConfig>,
  workflow: workflowService as unknown as BootstrapOptions<ServiceConfig>,
  decisioning: decisioningService as unknown as BootstrapOptions<ServiceConfig>,
  ingestion: ingestionService as unknown as BootstrapOptions<ServiceConfig>,
};

/**
 * Starts one service in this process through its service definition and `startServiceApp`, as its main.ts
 * does, with its configuration read from `env` (the definitions read `process.env`; they share one process
 * here, so each reads its own variables while it is configured, synchronously).
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  logLevel: string,
): Promise<INestApplication> {
  const definition = definitions[name];
  const config = withEnv(env, () => definition.config());
  const logger = createLogger({ service: name, level: logLevel as ServiceConfig['LOG_LEVEL'] });
  const app = await startServiceApp(definition, config, new PinoLoggerService(logger));
  // One process serves five applications: Ctrl-C stops them all together (the demo's own handler).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    for (const listener of process.listeners(signal)) {
      if (!knownListeners.has(listener)) process.removeListener(signal, listener);
    }
  }
  return app;
}

const knownListeners = new Set<NodeJS.SignalsListener>();

/** Signal handlers that `startService` leaves in place (the demo's own). */
export function keepSignalListener(listener: NodeJS.SignalsListener): void {
  knownListeners.add(listener);
}

function withEnv<T>(env: Record<string, string>, read: () => T): T {
  const saved = { ...process.env };
  try {
    for (const key of Object.keys(process.env)) {
      if (
        /^(PORT|HOST|DATABASE_URL|KAFKA_|KEEL_|WORKFLOW_|RETRIEVAL_|INGESTION_|GOVERNANCE_|DECISIONING_|ACCESS_|OPENAI_|OUTBOX_|CONSUMER_|LOG_LEVEL)/.test(
          key,
        )
      ) {
        delete process.env[key];
      }
    }
    Object.assign(process.env, env);
    return read();
  } finally {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
