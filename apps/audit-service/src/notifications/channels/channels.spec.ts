import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GovukNotifyChannel, notifyFailure, type NotifyApi } from './govuk-notify.channel';
import { LocalFileChannel } from './local-file.channel';
import {
  addressLines,
  DeliveryFailed,
  DeliveryRejected,
  destinationOf,
  type Destination,
  type OutgoingNotice,
} from './notice-channel';

const content = { subject: 'Subject line', body: 'The full notice.', shortBody: 'Short notice.' };
const notice = (destination: Destination): OutgoingNotice => ({
  notificationId: '6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e',
  subjectId: '9434765919',
  destination,
  content,
});
const templates = { email: 'tpl-email', sms: 'tpl-sms', letter: 'tpl-letter' };

/** A stand-in for NotifyClient that records calls, or fails as a real one would. */
function fakeNotify(failWith?: unknown): NotifyApi & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const answer = async (...args: unknown[]) => {
    calls.push(args);
    if (failWith) throw failWith;
    return { data: { id: 'notify-id-1' } };
  };
  return { calls, sendEmail: answer, sendSms: answer, sendLetter: answer };
}

describe('destinationOf', () => {
  it('uses the channel the person chose, with its address', () => {
    expect(
      destinationOf({
        channel: 'sms',
        email: 'a@example.org',
        phone: '07700900123',
        address: null,
      }),
    ).toEqual({ channel: 'sms', phone: '07700900123' });
  });

  it('is null without preferences, or when the chosen channel has no address', () => {
    expect(destinationOf(null)).toBeNull();
    expect(
      destinationOf({ channel: 'letter', email: 'a@example.org', phone: null, address: null }),
    ).toBeNull();
    expect(destinationOf({ channel: 'pigeon', email: null, phone: null, address: 'x' })).toBeNull();
  });
});

describe('addressLines', () => {
  it('splits on commas and new lines, dropping blanks', () => {
    expect(addressLines('Flat 2, 10 High Street\nNorthshire,, NS1 2AB ')).toEqual([
      'Flat 2',
      '10 High Street',
      'Northshire',
      'NS1 2AB',
    ]);
  });

  it('keeps at most seven lines', () => {
    expect(addressLines('1,2,3,4,5,6,7,8,9')).toEqual(['1', '2', '3', '4', '5', '6', '7, 8, 9']);
  });
});

describe('GovukNotifyChannel', () => {
  it('sends an email with the notice as personalisation and the notification id as reference', async () => {
    const client = fakeNotify();
    const result = await new GovukNotifyChannel(client, templates).send(
      notice({ channel: 'email', email: 'person@example.org' }),
    );
    expect(result).toEqual({ reference: 'govuk-notify:notify-id-1' });
    expect(client.calls).toEqual([
      [
        'tpl-email',
        'person@example.org',
        {
          personalisation: { subject: 'Subject line', body: 'The full notice.' },
          reference: '6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e',
        },
      ],
    ]);
  });

  it('sends the short text by SMS', async () => {
    const client = fakeNotify();
    await new GovukNotifyChannel(client, templates).send(
      notice({ channel: 'sms', phone: '07700900123' }),
    );
    expect(client.calls[0]).toEqual([
      'tpl-sms',
      '07700900123',
      { personalisation: { body: 'Short notice.' }, reference: expect.any(String) },
    ]);
  });

  it('sends a letter with the address as Notify’s address lines', async () => {
    const client = fakeNotify();
    await new GovukNotifyChannel(client, templates).send(
      notice({ channel: 'letter', address: '10 High Street, Northshire, NS1 2AB' }),
    );
    expect(client.calls[0]).toEqual([
      'tpl-letter',
      {
        personalisation: {
          subject: 'Subject line',
          body: 'The full notice.',
          address_line_1: '10 High Street',
          address_line_2: 'Northshire',
          address_line_3: 'NS1 2AB',
        },
        reference: expect.any(String),
      },
    ]);
  });

  it('refuses a letter to an address of fewer than three lines without calling Notify', async () => {
    const client = fakeNotify();
    await expect(
      new GovukNotifyChannel(client, templates).send(
        notice({ channel: 'letter', address: 'Somewhere' }),
      ),
    ).rejects.toEqual(new DeliveryRejected('address-incomplete'));
    expect(client.calls).toEqual([]);
  });

  it('turns Notify errors into codes, never keeping the request (which holds the address)', async () => {
    const axiosLike = (status: number, error: string) => ({
      message: 'Request failed',
      config: { data: '{"email_address":"person@example.org"}' },
      response: { status, data: { errors: [{ error, message: 'person@example.org is bad' }] } },
    });
    const client = fakeNotify(axiosLike(400, 'ValidationError'));
    const failure = await new GovukNotifyChannel(client, templates)
      .send(notice({ channel: 'email', email: 'person@example.org' }))
      .catch((e: unknown) => e);
    expect(failure).toEqual(new DeliveryRejected('notify-400-ValidationError'));
    expect(JSON.stringify(failure)).not.toContain('person@example.org');
    expect(notifyFailure(axiosLike(429, 'RateLimitError'))).toEqual(
      new DeliveryFailed('notify-429-RateLimitError'),
    );
    expect(notifyFailure(axiosLike(500, 'Exception'))).toBeInstanceOf(DeliveryFailed);
    expect(notifyFailure(axiosLike(403, 'AuthError'))).toBeInstanceOf(DeliveryFailed);
    expect(notifyFailure({ code: 'ECONNRESET' })).toEqual(new DeliveryFailed('notify-ECONNRESET'));
    expect(notifyFailure(new Error('boom'))).toEqual(new DeliveryFailed('notify-unreachable'));
  });
});

describe('LocalFileChannel', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'notices-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one readable file per notification, private to the service, rewritten on resend', async () => {
    const channel = new LocalFileChannel(join(dir, 'outbox'));
    const letter = notice({ channel: 'letter', address: '10 High Street, Northshire, NS1 2AB' });
    expect(await channel.send(letter)).toEqual({
      reference: 'local-file:6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e.txt',
    });
    await channel.send(letter);
    const files = readdirSync(join(dir, 'outbox'));
    expect(files).toEqual(['6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e.txt']);
    const file = join(dir, 'outbox', files[0]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(
      [
        'To: 10 High Street',
        '    Northshire',
        '    NS1 2AB',
        'Channel: letter',
        'Subject: Subject line',
        'Reference: 6a1f6f0e-1c2b-4f7e-9d55-0d1a2b3c4d5e',
        '',
        'The full notice.',
        '',
      ].join('\n'),
    );
  });

  it('writes the short text for SMS', () => {
    expect(LocalFileChannel.format(notice({ channel: 'sms', phone: '07700900123' }))).toContain(
      '\n\nShort notice.\n',
    );
  });
});
