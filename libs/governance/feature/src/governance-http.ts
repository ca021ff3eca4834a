import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * What the governance app sets before it listens: its OpenAPI document (`/openapi.json`, `/docs`). Errors are
 * answered by the one `KeelHttpErrorFilter` every service gets from `startServiceApp`.
 */
export function configureGovernanceHttp(app: INestApplication): void {
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
