import { Module } from '@nestjs/common';
import { noticeChannelProvider } from './channels/notice-channel.provider';
import { DeferNotificationHandler } from './defer/defer-notification.handler';
import { DeferralController } from './defer/deferral.controller';
import { NoticeIntakeConsumer } from './intake/notice-intake.consumer';
import { NotificationsController } from './list/notifications.controller';
import { NoticeSender } from './send/notice-sender';

/**
 * After-the-fact disclosure notices: created from overrides, sent through a channel (GOV.UK
 * Notify or a local outbox) with retries, deferred by IG officers.
 */
@Module({
  controllers: [NotificationsController, DeferralController],
  providers: [noticeChannelProvider, NoticeIntakeConsumer, NoticeSender, DeferNotificationHandler],
})
export class NotificationsModule {}
