import type { NoticeContent } from '../notice/render-notice';

/** Where one notice goes: the person's chosen channel and the one address for it. */
export type Destination =
  | { channel: 'email'; email: string }
  | { channel: 'sms'; phone: string }
  | { channel: 'letter'; address: string };

/** A rendered notice on its way to one person. */
export interface OutgoingNotice {
  notificationId: string;
  subjectId: string;
  destination: Destination;
  content: NoticeContent;
}

/**
 * Delivers notices: GOV.UK Notify in production, a local outbox by default. `send` resolves
 * with the provider's reference once the provider has accepted the notice. It throws
 * DeliveryRejected when retrying cannot help, DeliveryFailed (or anything else) when it may.
 */
export interface NoticeChannel {
  readonly name: string;
  send(notice: OutgoingNotice): Promise<{ reference: string }>;
}

/**
 * A failure worth retrying (timeout, rate limit, provider down). `code` is what is stored and
 * logged: a short code, never a provider's message (it could echo an address).
 */
export class DeliveryFailed extends Error {
  constructor(readonly code: string) {
    super(`notice delivery failed: ${code}`);
    this.name = 'DeliveryFailed';
  }
}

/** The provider refused this notice for good (a malformed address, say): do not retry. */
export class DeliveryRejected extends Error {
  constructor(readonly code: string) {
    super(`notice delivery rejected: ${code}`);
    this.name = 'DeliveryRejected';
  }
}

/** A person's contact preferences as the consent service published them. */
export interface ContactPreferences {
  channel: string;
  email: string | null;
  phone: string | null;
  address: string | null;
}

/** The destination the preferences name, or null when they name none that can be used. */
export function destinationOf(contact: ContactPreferences | null): Destination | null {
  if (!contact) return null;
  switch (contact.channel) {
    case 'email':
      return contact.email ? { channel: 'email', email: contact.email } : null;
    case 'sms':
      return contact.phone ? { channel: 'sms', phone: contact.phone } : null;
    case 'letter':
      return contact.address ? { channel: 'letter', address: contact.address } : null;
    default:
      return null;
  }
}

/**
 * The lines of a postal address given as one string (lines split on new lines or commas),
 * at most seven as GOV.UK Notify and Royal Mail allow; extra lines join the last one.
 */
export function addressLines(address: string): string[] {
  const lines = address
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length <= 7) return lines;
  return [...lines.slice(0, 6), lines.slice(6).join(', ')];
}
