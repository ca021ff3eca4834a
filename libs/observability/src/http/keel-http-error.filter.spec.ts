import { loadConfig, serviceConfigSchema } from '@keel/config';
import { type ErrorCatalog, KeelError } from '@keel/errors';
import { BadRequestException, Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { startServiceApp } from '../bootstrap/bootstrap-service';
import { createLogger } from '../logging/create-logger';
import { PinoLoggerService } from '../logging/pino-logger.service';

type ShelfErrorCode = 'unknown-book' | 'catalog-mismatch' | 'catalog-down';

const shelfErrors = {
  httpStatus: { 'unknown-book': 404, 'catalog-mismatch': 500, 'catalog-down': 503 },
  consumerHandling: { 'unknown-book': 'dead-letter', 'catalog-mismatch': 'retry', 'catalog-down': 'retry' },
} as const satisfies ErrorCatalog<ShelfErrorCode>;

class ShelfError extends KeelError<ShelfErrorCode> {
  constructor(code: ShelfErrorCode, message: string, details?: unknown) {
    super(code, message, shelfErrors, details === undefined ? undefined : { details });
  }
}

@Controller()
class ShelfController {
  @Get('missing')
  missing(): never {
    throw new ShelfError('unknown-book', "no book 'b-1'", {
      violations: [{ path: 'id', message: 'unknown' }],
    });
  }

  @Get('mismatch')
  mismatch(): never {
    throw new ShelfError('catalog-mismatch', 'the catalog resolved another edition');
  }

  @Get('down')
  down(): never {
    throw new ShelfError('catalog-down', 'catalog unreachable');
  }

  @Get('nest')
  nest(): never {
    throw new BadRequestException('not this way');
  }

  @Get('bug')
  bug(): never {
    throw new Error('secret internals');
  }
}

@Module({ controllers: [ShelfController] })
class ShelfModule {}

describe('KeelHttpErrorFilter (installed by startServiceApp for every service)', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const logger = new PinoLoggerService(createLogger({ service: 'filter-spec', level: 'silent' }));
    app = await startServiceApp(
      { module: () => ShelfModule },
      loadConfig(serviceConfigSchema(0), {}),
      logger,
    );
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  async function answer(path: string) {
    const response = await fetch(`${url}${path}`);
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: await response.json(),
    };
  }

  it("answers a KeelError with its catalog's status, code, message and details", async () => {
    expect(await answer('/missing')).toEqual({
      status: 404,
      retryAfter: null,
      body: {
        error: 'unknown-book',
        message: "no book 'b-1'",
        violations: [{ path: 'id', message: 'unknown' }],
      },
    });
  });

  it('answers a server fault 5xx, and a 503 with when to retry', async () => {
    expect(await answer('/mismatch')).toMatchObject({ status: 500, body: { error: 'catalog-mismatch' } });
    expect(await answer('/down')).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: { error: 'catalog-down' },
    });
  });

  it("gives Nest's refusals a code of the same style, and leaves other errors to Nest without internals", async () => {
    expect(await answer('/nest')).toMatchObject({ status: 400, body: { error: 'invalid-request' } });
    expect(await answer('/no-such-route')).toMatchObject({ status: 404, body: { error: 'not-found' } });
    const bug = await answer('/bug');
    expect(bug.status).toBe(500);
    expect(JSON.stringify(bug.body)).not.toContain('secret internals');
  });
});
