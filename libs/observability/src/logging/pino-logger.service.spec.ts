import { Writable } from 'node:stream';
import { createLogger, type LogLevel, PinoLoggerService } from '@keel/observability';
import { Logger } from '@nestjs/common';

function capture(level: LogLevel = 'info'): {
  logger: PinoLoggerService;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = new PinoLoggerService(createLogger({ service: 'decisioning', level, destination }));
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

describe('PinoLoggerService', () => {
  it('writes one JSON object per line with the service, level name and ISO time', () => {
    const { logger, lines } = capture();

    logger.log('decision recorded');

    expect(lines()).toEqual([
      expect.objectContaining({ level: 'info', service: 'decisioning', msg: 'decision recorded' }),
    ]);
    expect(lines()[0]?.['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('carries the case and trace of a child logger on every line', () => {
    const { logger, lines } = capture();

    logger
      .child({ caseId: 'case-7', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' })
      .warn('model slow', { latencyMs: 950 });

    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        caseId: 'case-7',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        latencyMs: 950,
        msg: 'model slow',
      }),
    ]);
  });

  it("follows Nest's convention: a trailing string is the context, for errors a string before it is the stack", () => {
    const { logger, lines } = capture();

    logger.log('routes mapped', 'RouterExplorer');
    logger.error('handler failed', 'Error: boom\n    at handler', 'ExceptionsHandler');

    expect(lines()).toEqual([
      expect.objectContaining({ level: 'info', context: 'RouterExplorer', msg: 'routes mapped' }),
      expect.objectContaining({
        level: 'error',
        context: 'ExceptionsHandler',
        stack: 'Error: boom\n    at handler',
        msg: 'handler failed',
      }),
    ]);
  });

  it('serializes errors with their stack', () => {
    const { logger, lines } = capture();

    logger.error(new Error('connection reset'));

    const [line] = lines();
    expect(line).toEqual(expect.objectContaining({ level: 'error', msg: 'connection reset' }));
    expect(line?.['err']).toEqual(expect.objectContaining({ type: 'Error', message: 'connection reset' }));
    expect((line?.['err'] as { stack: string }).stack).toContain('Error: connection reset');
  });

  it('serves the Nest Logger of feature classes, fields and context included', () => {
    const { logger, lines } = capture();
    Logger.overrideLogger(logger);
    try {
      new Logger('OutboxRelay').log('published', { caseId: 'case-9', count: 3 });
    } finally {
      Logger.overrideLogger(false);
    }

    expect(lines()).toEqual([
      expect.objectContaining({ context: 'OutboxRelay', caseId: 'case-9', count: 3, msg: 'published' }),
    ]);
  });

  it('drops lines below the configured level', () => {
    const { logger, lines } = capture('warn');

    logger.log('routine');
    logger.debug('detail');
    logger.warn('unusual');

    expect(lines().map((line) => line['msg'])).toEqual(['unusual']);
  });
});
