import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Role } from '../contracts/vocabulary';
import type { AuthenticatedUser } from './authenticated-user';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

/**
 * The coarse check on every route (the fine, per-resource check follows in the handler):
 * a verified token (401 otherwise) holding one of the route's roles (403 otherwise).
 */
@Injectable()
export class JwtRolesGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    await super.canActivate(context);
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
    if (!user.roles.some((role) => required.includes(role))) {
      throw new ForbiddenException({
        error: 'ROLE_NOT_PERMITTED',
        message: `This action needs one of the roles: ${required.join(', ')}.`,
      });
    }
    return true;
  }

  override handleRequest<TUser>(error: unknown, user: TUser, info: unknown): TUser {
    if (error instanceof UnauthorizedException) throw error;
    if (error || !user) {
      throw new UnauthorizedException({
        error: 'UNAUTHENTICATED',
        message: reasonFor(info ?? error),
      });
    }
    return user;
  }
}

/** A plain-English reason for a refused token, from what passport-jwt / jsonwebtoken report. */
export function reasonFor(info: unknown): string {
  const name = info instanceof Error ? info.name : '';
  const message = info instanceof Error ? info.message : typeof info === 'string' ? info : '';
  if (name === 'TokenExpiredError') return 'The bearer token has expired.';
  if (name === 'NotBeforeError') return 'The bearer token is not valid yet.';
  if (/no auth token/i.test(message))
    return 'A bearer token is required (Authorization: Bearer <token>).';
  if (/invalid signature/i.test(message)) return 'The bearer token signature is invalid.';
  if (/invalid algorithm|jwt signature is required/i.test(message)) {
    return 'The bearer token is not signed with an accepted algorithm.';
  }
  if (/audience invalid/i.test(message))
    return 'The bearer token is not meant for this service (audience).';
  if (/issuer invalid/i.test(message))
    return 'The bearer token was not issued by a trusted issuer.';
  if (/jwt malformed|invalid token/i.test(message)) return 'The bearer token is malformed.';
  if (/secret or public key|signing key|kid/i.test(message))
    return 'The bearer token was signed by an unknown key.';
  return 'The bearer token could not be verified.';
}
