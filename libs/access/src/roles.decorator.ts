import { SetMetadata } from '@nestjs/common';
import { type Role } from './principal';

export const rolesMetadataKey = 'keel:access:roles';

/** The roles an endpoint admits (any one of them, or one implying it); without it a valid token is enough. */
export const Roles = (...required: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(rolesMetadataKey, required);
