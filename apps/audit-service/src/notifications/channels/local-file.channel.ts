import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addressLines, type NoticeChannel, type OutgoingNotice } from './notice-channel';

/**
 * The default channel: each notice becomes a text file `<notification id>.txt` in a
 * directory, so a developer can read exactly what a person would receive. Named by the
 * notification, so sending the same notice again rewrites one file rather than adding one.
 */
export class LocalFileChannel implements NoticeChannel {
  readonly name = 'local-file';

  constructor(private readonly directory: string) {}

  async send(notice: OutgoingNotice): Promise<{ reference: string }> {
    // The files hold a delivery address: readable by this service's user only.
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const name = `${notice.notificationId}.txt`;
    const file = join(this.directory, name);
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, LocalFileChannel.format(notice), { mode: 0o600 });
    // Rename is atomic: a reader never sees half a notice.
    await rename(partial, file);
    return { reference: `local-file:${name}` };
  }

  /** The file's text: a header naming the destination, then the notice as it would read. */
  static format(notice: OutgoingNotice): string {
    const { destination, content } = notice;
    const to =
      destination.channel === 'email'
        ? [`To: ${destination.email}`]
        : destination.channel === 'sms'
          ? [`To: ${destination.phone}`]
          : addressLines(destination.address).map((line, i) => (i === 0 ? 'To: ' : '    ') + line);
    const text = destination.channel === 'sms' ? content.shortBody : content.body;
    return [
      ...to,
      `Channel: ${destination.channel}`,
      `Subject: ${content.subject}`,
      `Reference: ${notice.notificationId}`,
      '',
      text,
      '',
    ].join('\n');
  }
}
