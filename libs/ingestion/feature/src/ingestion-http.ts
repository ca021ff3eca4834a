import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * What the ingestion app sets before it listens: the JSON body limit (a larger body is answered 413 by the
 * shared `KeelHttpErrorFilter`) and its OpenAPI document at `/openapi.json` with a browsable copy at `/docs`.
 */
export function configureIngestionHttp(app: INestApplication, options: { maxBodyBytes: number }): void {
  (app as NestExpressApplication).useBodyParser('json', { limit: options.maxBodyBytes });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Keel ingestion')
      .setDescription('Source events and knowledge documents into Keel')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
}
