import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import type { AuthenticatedUser } from '../auth/authenticated-user';

/** Lets an integrator check what a token is accepted as, before calling anything else. */
@ApiTags('identity')
@Controller('v1/me')
export class MeController {
  @Get()
  @ApiOkResponse({
    description: 'The caller as this service sees them: user id, organisation, roles, teams.',
  })
  me(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }
}
