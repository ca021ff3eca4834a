import { loadConfig, serviceConfigSchema, type ServiceConfig } from '@keel/config';
import { Controller, type INestApplication, Module, type PipeTransform } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { type CustomTransportStrategy, EventPattern, Payload, Server } from '@nestjs/microservices';
import type { Server as HttpServer } from 'node:http';
import { lastValueFrom } from 'rxjs';
import { createLogger } from '../logging/create-logger';
import { PinoLoggerService } from '../logging/pino-logger.service';
import { startServiceApp } from './bootstrap-service';

// A transport in memory: records what Nest asks of it and delivers messages to @EventPattern handlers.
class MemoryTransport extends Server implements CustomTransportStrategy {
  readonly calls: string[] = [];

  constructor(
    private readonly app: INestApplication,
    private readonly listenError?: Error,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.calls.push(`listen (http serving: ${(this.app.getHttpServer() as HttpServer).listening})`);
    callback(this.listenError);
  }

  close(): void {
    this.calls.push('close');
  }

  on(): never {
    throw new Error('MemoryTransport emits no events');
  }

  unwrap<T>(): T {
    throw new Error('MemoryTransport wraps no client');
  }

  async deliver(pattern: string, data: unknown): Promise<unknown> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no handler for '${pattern}'`);
    return lastValueFrom(this.transformToObservable(await handler(data)));
  }
}

// A global pipe of the application: the transport's handlers get it only through `inheritAppConfig`.
class UpperCasePipe implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

const received: unknown[] = [];

@Controller()
class PingController {
  @EventPattern('ping')
  ping(@Payload() text: string): void {
    received.push(text);
  }
}

@Module({ controllers: [PingController], providers: [{ provide: APP_PIPE, useClass: UpperCasePipe }] })
class PingModule {}

const logger = new PinoLoggerService(createLogger({ service: 'bootstrap-spec', level: 'silent' }));
const config = loadConfig(serviceConfigSchema(0), {});

describe('startServiceApp', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    received.length = 0;
  });

  function start(listenError?: Error) {
    let transport: MemoryTransport | undefined;
    let configSeen: ServiceConfig | undefined;
    const started = startServiceApp(
      {
        module: () => PingModule,
        microservices: (application, serviceConfig) => {
          configSeen = serviceConfig;
          transport = new MemoryTransport(application, listenError);
          return [{ strategy: transport }];
        },
      },
      config,
      logger,
    );
    return { started, transport: () => transport!, configSeen: () => configSeen };
  }

  it('starts the transports once HTTP serves, handing them the service config', async () => {
    const { started, transport, configSeen } = start();
    app = await started;

    expect(transport().calls).toEqual(['listen (http serving: true)']);
    expect(configSeen()).toBe(config);
    expect((await fetch(`${await app.getUrl()}/nothing-here`)).status).toBe(404);
  });

  it("dispatches the transport's messages to @EventPattern handlers through the app's global pipes", async () => {
    const { started, transport } = start();
    app = await started;

    await transport().deliver('ping', 'hello');

    expect(received).toEqual(['HELLO']);
  });

  it('closes the transports with the application', async () => {
    const { started, transport } = start();
    app = await started;

    await app.close();
    app = undefined;

    expect(transport().calls).toEqual(['listen (http serving: true)', 'close']);
  });

  it('rejects when a transport cannot start, having closed what had started', async () => {
    const { started, transport } = start(new Error('broker unreachable'));

    await expect(started).rejects.toThrow('broker unreachable');
    expect(transport().calls).toEqual(['listen (http serving: true)', 'close']);
  });
});
