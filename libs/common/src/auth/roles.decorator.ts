import { SetMetadata } from '@nestjs/common';
import type { Role } from '../contracts/vocabulary';

export const ROLES_KEY = 'care-ledger:roles';
export const PUBLIC_KEY = 'care-ledger:public';

/** Roles that may call a route (any one suffices); checked after authentication. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);

/** Marks a route as open without a token (health, metrics, docs). Routes are private by default. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
