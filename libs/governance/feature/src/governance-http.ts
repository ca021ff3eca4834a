import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { GovernanceHttpErrorFilter } from './governance-http-error.filter';

/** What the governance app sets before it listens: its error filter and its OpenAPI document (`/openapi.json`, `/docs`). */
export function configureGovernanceHttp(app: INestApplication): void {
  // Global, so what Nest refuses before a controller is chosen is answered in the same shape.
  app.useGlobalFilters(new GovernanceHttpErrorFilter(app.getHttpAdapter()));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Keel governance')
      .setDescription('Registry, releases, audit log and machine tokens')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
}
