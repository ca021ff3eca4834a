import { ConfigError, type ServiceConfig } from '@keel/config';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { KeelHttpErrorFilter } from '../http/keel-http-error.filter';
import { createLogger } from '../logging/create-logger';
import { PinoLoggerService } from '../logging/pino-logger.service';

export interface BootstrapOptions<Config extends ServiceConfig> {
  /** The service name: the `service` field of every log line. */
  readonly name: string;
  /** Reads and validates the environment; a `ConfigError` stops the service with each problem named. */
  readonly config: () => Config;
  readonly module: (config: Config) => DynamicModule | Type;
  /**
   * Transports (e.g. `{ strategy: kafkaEventTransport(app) }`) whose `@EventPattern` handlers the
   * application also serves. They share the application's global pipes, filters and guards, start once
   * HTTP serves (so probes answer while consumers join their groups) and stop with `app.close()`.
   */
  readonly microservices?: (app: INestApplication, config: Config) => MicroserviceOptions[];
  /** What the application sets up before it listens (body parser limits). */
  readonly configure?: (app: INestApplication, config: Config) => void;
  /** One line on what the service's API is for, at the top of its OpenAPI document. */
  readonly description?: string;
  /** Longest wait for a graceful stop before the process exits anyway. */
  readonly stopTimeoutMs?: number;
}

const stopSignals = ['SIGTERM', 'SIGINT'] as const;

/**
 * Starts a service: validated config, JSON logger, the Nest application on HOST:PORT with its microservice
 * transports, and a graceful stop on SIGTERM/SIGINT (Nest's shutdown hooks stop consumers, close
 * connections, then exit with status 0).
 * Never rejects: a boot failure is logged and exits the process with status 1.
 */
export async function bootstrapService<Config extends ServiceConfig>(
  options: BootstrapOptions<Config>,
): Promise<void> {
  let config: Config;
  try {
    config = options.config();
  } catch (error) {
    // The configured log level is unknown here, so the failure is reported at the default one.
    fail(createLogger({ service: options.name, level: 'info' }), error);
    return;
  }
  const logger = createLogger({ service: options.name, level: config.LOG_LEVEL });
  try {
    const app = await startServiceApp(options, config, new PinoLoggerService(logger));
    // Registered once started: a signal while starting ends the process (Nest's hook, once the app exists).
    logStop(logger, options.stopTimeoutMs ?? 15_000);
    const url = await app.getUrl();
    logger.info({ url }, `${options.name} listening on ${url}`);
  } catch (error) {
    fail(logger, error);
  }
}

/**
 * The Nest application of a service, serving HTTP on HOST:PORT and then its microservice transports, with
 * the one HTTP error filter (`KeelHttpErrorFilter`), the OpenAPI document of every route it registers
 * (`/openapi.json`, browsable at `/docs`) and shutdown hooks on SIGTERM/SIGINT (`app.close()` removes them
 * again).
 */
export async function startServiceApp<Config extends ServiceConfig>(
  options: Pick<BootstrapOptions<Config>, 'module' | 'microservices' | 'configure'> &
    Partial<Pick<BootstrapOptions<Config>, 'name' | 'description'>>,
  config: Config,
  logger: LoggerService,
): Promise<INestApplication> {
  const app = await NestFactory.create(options.module(config), {
    logger,
    // Nest's default aborts the process on a module init failure, without our log line.
    abortOnError: false,
  });
  try {
    app.enableShutdownHooks([...stopSignals], { useProcessExit: true });
    // Global, because a body over the limit is refused by the parser before any controller is chosen.
    app.useGlobalFilters(new KeelHttpErrorFilter(app.getHttpAdapter()));
    options.configure?.(app, config);
    serveOpenApi(app, options);
    for (const microservice of options.microservices?.(app, config) ?? []) {
      app.connectMicroservice(microservice, { inheritAppConfig: true });
    }
    await app.listen(config.PORT, config.HOST);
    await app.startAllMicroservices();
    return app;
  } catch (error) {
    // A caller that carries on (a test; `bootstrapService` exits) is not left holding connections and the port.
    await app.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The one place a service's OpenAPI document is made: from the controllers' own decorators, so each service
 * documents every endpoint it serves the same way (bearer auth declared for the guarded ones).
 */
function serveOpenApi(app: INestApplication, options: { name?: string; description?: string }): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`Keel ${options.name ?? 'service'}`)
      .setDescription(options.description ?? '')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
}

// Nest's shutdown hook does the closing; this logs it and bounds how long it may take.
function logStop(logger: Logger, stopTimeoutMs: number): void {
  for (const signal of stopSignals) {
    process.once(signal, () => {
      logger.info({ signal }, `stopping on ${signal}`);
      process.once('exit', (code) => logger.info({ exitCode: code }, 'stopped'));
      setTimeout(() => {
        logger.error(`did not stop within ${stopTimeoutMs} ms of ${signal}; exiting`);
        process.exit(1);
      }, stopTimeoutMs).unref();
    });
  }
}

function fail(logger: Logger, error: unknown): never {
  if (error instanceof ConfigError) {
    logger.fatal(
      { problems: error.problems },
      `cannot start: invalid configuration: ${error.problems.join('; ')}`,
    );
  } else {
    logger.fatal({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
}
