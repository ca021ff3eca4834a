import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * What the ingestion app sets before it listens: the JSON body limit (a larger body is answered 413 by the
 * shared `KeelHttpErrorFilter`). Its OpenAPI document comes from `startServiceApp`, like every service's.
 */
export function configureIngestionHttp(app: INestApplication, options: { maxBodyBytes: number }): void {
  (app as NestExpressApplication).useBodyParser('json', { limit: options.maxBodyBytes });
}
