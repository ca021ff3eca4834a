import { type DynamicModule, Module } from '@nestjs/common';
import { type AccessConfig } from './access.config';
import { AccessGuard } from './access.guard';
import { BearerTokenVerifier } from './bearer-token.verifier';

/** Provides `AccessGuard` to a service: `@UseGuards(AccessGuard)` on its controllers, `@Roles` on endpoints. */
@Module({})
export class AccessModule {
  static forRoot(config: AccessConfig): DynamicModule {
    return {
      module: AccessModule,
      global: true,
      providers: [{ provide: BearerTokenVerifier, useValue: new BearerTokenVerifier(config) }, AccessGuard],
      exports: [BearerTokenVerifier, AccessGuard],
    };
  }
}
