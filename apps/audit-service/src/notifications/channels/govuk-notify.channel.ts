import {
  addressLines,
  DeliveryFailed,
  DeliveryRejected,
  type NoticeChannel,
  type OutgoingNotice,
} from './notice-channel';

/** The part of `notifications-node-client`'s NotifyClient this channel uses. */
export interface NotifyApi {
  sendEmail(
    templateId: string,
    emailAddress: string,
    options: { personalisation: Record<string, string>; reference: string },
  ): Promise<{ data: { id: string } }>;
  sendSms(
    templateId: string,
    phoneNumber: string,
    options: { personalisation: Record<string, string>; reference: string },
  ): Promise<{ data: { id: string } }>;
  sendLetter(
    templateId: string,
    options: { personalisation: Record<string, string>; reference: string },
  ): Promise<{ data: { id: string } }>;
}

/** GOV.UK Notify template ids, one per channel (NOTIFY_TEMPLATE_EMAIL, _SMS, _LETTER). */
export interface NotifyTemplates {
  email: string;
  sms: string;
  letter: string;
}

/**
 * Sends notices through GOV.UK Notify. Each template's content is `((body))` (the email and
 * letter templates' subject or heading `((subject))`); the text is rendered here, so the
 * wording is reviewed in this repository rather than in the Notify dashboard. The Notify
 * reference is the notification id, never anything about the person.
 */
export class GovukNotifyChannel implements NoticeChannel {
  readonly name = 'govuk-notify';

  constructor(
    private readonly client: NotifyApi,
    private readonly templates: NotifyTemplates,
  ) {}

  async send(notice: OutgoingNotice): Promise<{ reference: string }> {
    const { destination, content, notificationId: reference } = notice;
    try {
      switch (destination.channel) {
        case 'email':
          return idOf(
            await this.client.sendEmail(this.templates.email, destination.email, {
              personalisation: { subject: content.subject, body: content.body },
              reference,
            }),
          );
        case 'sms':
          return idOf(
            await this.client.sendSms(this.templates.sms, destination.phone, {
              personalisation: { body: content.shortBody },
              reference,
            }),
          );
        case 'letter': {
          const lines = addressLines(destination.address);
          // Notify needs three to seven address lines, the last a postcode: fewer cannot post.
          if (lines.length < 3) throw new DeliveryRejected('address-incomplete');
          const personalisation: Record<string, string> = {
            subject: content.subject,
            body: content.body,
          };
          lines.forEach((line, i) => (personalisation[`address_line_${i + 1}`] = line));
          return idOf(
            await this.client.sendLetter(this.templates.letter, { personalisation, reference }),
          );
        }
        default: {
          const unknown: never = destination;
          throw new DeliveryRejected(`unknown-channel-${String(unknown)}`);
        }
      }
    } catch (error) {
      throw notifyFailure(error);
    }
  }
}

function idOf(response: { data: { id: string } }): { reference: string } {
  return { reference: `govuk-notify:${response.data.id}` };
}

/**
 * A Notify client error as a delivery error with a code built from the HTTP status and
 * Notify's error name only: the client's own error carries the request, address included,
 * so it must never be logged or stored.
 */
export function notifyFailure(error: unknown): DeliveryFailed | DeliveryRejected {
  if (error instanceof DeliveryFailed || error instanceof DeliveryRejected) return error;
  const failure = error as {
    code?: unknown;
    response?: { status?: unknown; data?: { errors?: { error?: unknown }[] } };
  };
  const status = failure?.response?.status;
  if (typeof status !== 'number') {
    const code = typeof failure?.code === 'string' ? failure.code : 'unreachable';
    return new DeliveryFailed(`notify-${code.replace(/[^A-Za-z0-9_-]/g, '')}`);
  }
  const name = failure.response?.data?.errors?.[0]?.error;
  const code = `notify-${status}${typeof name === 'string' ? `-${name.replace(/[^A-Za-z]/g, '')}` : ''}`;
  // 400: Notify refused this notice (bad number or address, say), so resending cannot help.
  // 403 (key), 429 (rate limit) and 5xx may pass once the key, the quota or Notify recovers.
  return status === 400 ? new DeliveryRejected(code) : new DeliveryFailed(code);
}
