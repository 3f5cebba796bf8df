import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CorrelationId, CurrentUser, Roles, type AuthenticatedUser } from '#common';
import { notificationIdOf } from '../notification-id';
import type { NotificationView } from '../notification-view';
import { DeferNotificationHandler, DEFERRERS } from './defer-notification.handler';
import { DeferralDto } from './deferral.dto';

@ApiTags('notifications')
@Controller('v1/notifications/:id/deferral')
export class DeferralController {
  constructor(private readonly handler: DeferNotificationHandler) {}

  @Post()
  @HttpCode(200)
  @Roles(...DEFERRERS)
  @ApiOkResponse({
    description:
      'The deferred notification, with `alsoDeferred`: the ids of the person’s other unsent notices held with it. ' +
      '404 for an unknown id; 409 NOTIFICATION_ALREADY_SENT once sent. Deferring again replaces the review date.',
  })
  async defer(
    @Param('id') id: string,
    @Body() body: DeferralDto,
    @CurrentUser() officer: AuthenticatedUser,
    @CorrelationId() correlationId: string,
  ): Promise<NotificationView & { alsoDeferred: string[] }> {
    return this.handler.execute({
      notificationId: notificationIdOf(id),
      reason: body.reason,
      // Checked by the DTO: a future ISO 8601 instant.
      reviewBy: new Date(body.reviewBy),
      officer,
      correlationId,
    });
  }
}
