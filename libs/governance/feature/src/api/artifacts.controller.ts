import { AccessGuard, CurrentPrincipal, type Principal, Roles } from '@keel/access';
import { Body, Controller, Get, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ArtifactRegistryService } from '../application/artifact-registry.service';
import {
  artifactPathSchema,
  diffQuerySchema,
  openApi,
  parsed,
  registerBodySchema,
  versionPathSchema,
} from './request';

interface StatusResponse {
  status(code: number): unknown;
}

@ApiTags('registry')
@ApiBearerAuth()
@Controller('v1/artifacts')
@UseGuards(ThrottlerGuard, AccessGuard)
@Roles('viewer')
export class ArtifactsController {
  constructor(@Inject(ArtifactRegistryService) private readonly registry: ArtifactRegistryService) {}

  @Get()
  @ApiOperation({ summary: "The tenant's artifacts with their newest versions" })
  list(@CurrentPrincipal() principal: Principal) {
    return this.registry.list(principal.tenant);
  }

  @Post(':kind/:name/versions')
  @Roles('operator')
  @ApiOperation({
    summary: 'Register content as the next version of an artifact',
    description:
      "Validated by its kind's own validator (every problem listed); content equal to the newest version is not a new version.",
  })
  @ApiBody({ schema: openApi(registerBodySchema) })
  @ApiResponse({ status: 201, description: 'a new version' })
  @ApiResponse({ status: 200, description: 'the newest version already holds this content' })
  @ApiResponse({ status: 422, description: 'invalid-artifact, with problems[] (path, message)' })
  async register(
    @CurrentPrincipal() principal: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: StatusResponse,
  ) {
    const { kind, name } = parsed(artifactPathSchema, params, 'path');
    const { content } = parsed(registerBodySchema, body, 'body');
    const registration = await this.registry.register(principal, kind, name, content);
    response.status(registration.outcome === 'created' ? 201 : 200);
    return registration.version;
  }

  @Get(':kind/:name/versions')
  @ApiOperation({ summary: "An artifact's versions, oldest first" })
  versions(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { kind, name } = parsed(artifactPathSchema, params, 'path');
    return this.registry.versionsOf(principal.tenant, kind, name);
  }

  @Get(':kind/:name/versions/:version')
  @ApiOperation({ summary: 'One version with its content and hash' })
  version(@CurrentPrincipal() principal: Principal, @Param() params: unknown) {
    const { kind, name, version } = parsed(versionPathSchema, params, 'path');
    return this.registry.get(principal.tenant, kind, name, version);
  }

  @Get(':kind/:name/diff')
  @ApiOperation({ summary: 'What changed between two versions: added, removed and changed paths' })
  diff(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Query() query: unknown) {
    const { kind, name } = parsed(artifactPathSchema, params, 'path');
    const { from, to } = parsed(diffQuerySchema, query, 'query');
    return this.registry.diff(principal.tenant, kind, name, from, to);
  }
}
