import { KeelHttpErrorFilter } from '@keel/observability';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { accessConfigSchema } from './access.config';
import { AccessModule } from './access.module';
import { AccessTokenSigner } from './access-token.signer';
import { ProtectedApi } from './protected-api.decorator';
import { Roles } from './roles.decorator';

const config = accessConfigSchema.parse({ ACCESS_SHARED_KEY: 'protected-api-spec-key-0123456789abcdef' });

@Controller('things')
@ProtectedApi()
@Roles('viewer')
class ThingsController {
  @Get()
  list(): string[] {
    return ['a'];
  }
}

describe('ProtectedApi, with the modules the chassis gives a service', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [
        AccessModule.forRoot(config),
        ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 3 }] }),
      ],
      controllers: [ThingsController],
    })
    class ServiceModule {}
    app = await NestFactory.create(ServiceModule, { logger: false });
    app.useGlobalFilters(new KeelHttpErrorFilter(app.getHttpAdapter()));
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  it('rate limits before checking the token: past the limit even a valid caller gets 429 rate-limited', async () => {
    const authorization = await new AccessTokenSigner(config).bearer({
      subject: 'carol',
      tenant: 'acme',
      roles: ['viewer'],
      ttlSeconds: 60,
    });
    const statuses: number[] = [];
    const asCaller: Record<string, string> = { authorization };
    for (const headers of [asCaller, {}, asCaller, asCaller]) {
      statuses.push((await fetch(`${url}/things`, { headers })).status);
    }
    const limited = await fetch(`${url}/things`, { headers: { authorization } });

    expect(statuses).toEqual([200, 401, 200, 429]);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: 'rate-limited' });
  });
});
