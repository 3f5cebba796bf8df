import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { NotifyClient } from 'notifications-node-client';
import { SERVICE_CONFIG, SERVICE_LOGGER, type Logger } from '#common';
import type { AuditServiceEnv } from '../../config/env';
import { GovukNotifyChannel, type NotifyApi } from './govuk-notify.channel';
import { LocalFileChannel } from './local-file.channel';
import type { NoticeChannel } from './notice-channel';

/** The channel the sender delivers through. */
export const NOTICE_CHANNEL = Symbol('NOTICE_CHANNEL');

/**
 * A channel supplied by the application that embeds this module; when present it is used
 * instead of the configured one (the end-to-end tests supply one that fails on demand).
 */
export const NOTICE_CHANNEL_OVERRIDE = Symbol('NOTICE_CHANNEL_OVERRIDE');

/** GOV.UK Notify when NOTIFY_API_KEY is set, otherwise files under the local outbox. */
export function configuredNoticeChannel(config: AuditServiceEnv, logger: Logger): NoticeChannel {
  if (config.NOTIFY_API_KEY) {
    // The template ids are required with the key (config/env.ts).
    return new GovukNotifyChannel(new NotifyClient(config.NOTIFY_API_KEY) as NotifyApi, {
      email: config.NOTIFY_TEMPLATE_EMAIL ?? '',
      sms: config.NOTIFY_TEMPLATE_SMS ?? '',
      letter: config.NOTIFY_TEMPLATE_LETTER ?? '',
    });
  }
  const directory = config.NOTIFICATION_OUTBOX_DIR ?? join(config.DATA_DIR, 'notifications');
  if (config.NODE_ENV === 'production') {
    logger.warn(
      { directory },
      'NOTIFY_API_KEY is not set: disclosure notices are written to files, not sent',
    );
  }
  return new LocalFileChannel(directory);
}

export const noticeChannelProvider: Provider = {
  provide: NOTICE_CHANNEL,
  inject: [SERVICE_CONFIG, SERVICE_LOGGER, { token: NOTICE_CHANNEL_OVERRIDE, optional: true }],
  useFactory: (config: AuditServiceEnv, logger: Logger, override?: NoticeChannel) =>
    override ?? configuredNoticeChannel(config, logger),
};
