import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '#common';
import type { AuditServiceEnv } from '../../config/env';

const MIN_KEY_BYTES = 32;

/**
 * The configured key (REPORT_SURNAME_KEY_FILE) or one generated once under DATA_DIR/keys.
 * Generation writes a temporary file and renames it, so replicas starting together on one
 * machine end up with the same key. Replicas on several machines need the configured file:
 * hashes made under different keys never match. Losing the key means re-entering surnames.
 */
export function loadSurnameKey(keyFile: string | undefined, dataDir: string): Buffer {
  const path = keyFile ?? join(dataDir, 'keys', 'report-surname-hmac.key');
  if (!keyFile && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const staging = `${path}.${process.pid}.tmp`;
    writeFileSync(staging, randomBytes(MIN_KEY_BYTES).toString('base64') + '\n', { mode: 0o600 });
    try {
      if (!existsSync(path)) renameSync(staging, path);
    } finally {
      rmSync(staging, { force: true });
    }
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`REPORT_SURNAME_KEY_FILE cannot be read (${path})`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(
      `REPORT_SURNAME_KEY_FILE must hold at least ${MIN_KEY_BYTES} random bytes, base64-encoded`,
    );
  }
  return key;
}

/** The register's key: a configured one is read at boot, a generated one on first use. */
@Injectable()
export class SurnameKey {
  private key: Buffer | null = null;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: AuditServiceEnv) {
    if (config.REPORT_SURNAME_KEY_FILE) this.get();
  }

  get(): Buffer {
    this.key ??= loadSurnameKey(this.config.REPORT_SURNAME_KEY_FILE, this.config.DATA_DIR);
    return this.key;
  }
}
