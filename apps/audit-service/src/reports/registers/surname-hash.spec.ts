import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseSurname, surnameHash, surnameKeyId } from './surname-hash';
import { loadSurnameKey } from './surname-key';

describe('surname hashes', () => {
  const key = randomBytes(32);

  it.each([
    ["O'Brien", 'OBRIEN'],
    ['O’Brien', 'o brien'],
    ['Smith-Jones', 'smith jones'],
    ['Zoë', 'ZOE'],
    ['  Ng ', 'ng'],
  ])('%j and %j are the same surname', (a, b) => {
    expect(normaliseSurname(a)).toBe(normaliseSurname(b));
    expect(surnameHash(key, a).equals(surnameHash(key, b))).toBe(true);
  });

  it('tells different surnames apart, and depends on the key', () => {
    expect(surnameHash(key, 'Smith').equals(surnameHash(key, 'Smyth'))).toBe(false);
    expect(surnameHash(key, 'Smith').equals(surnameHash(randomBytes(32), 'Smith'))).toBe(false);
  });

  it('holds nothing of the name', () => {
    const hash = surnameHash(key, 'Smith');
    expect(hash).toHaveLength(32);
    expect(hash.toString('latin1').toLowerCase()).not.toContain('smith');
  });

  it('names its key by an id that differs between keys and reveals nothing of it', () => {
    expect(surnameKeyId(key)).toBe(surnameKeyId(Buffer.from(key)));
    expect(surnameKeyId(key)).not.toBe(surnameKeyId(randomBytes(32)));
    expect(surnameKeyId(key)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(key.toString('base64url')).not.toContain(surnameKeyId(key));
  });

  it('keeps letters of any script', () => {
    expect(normaliseSurname('Łukasz-Ó Sé')).toBe('łukaszose');
    expect(normaliseSurname("'-- ")).toBe('');
  });
});

describe('the surname key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'surname-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once under DATA_DIR/keys and then reused', () => {
    const first = loadSurnameKey(undefined, dir);
    expect(first).toHaveLength(32);
    expect(loadSurnameKey(undefined, dir).equals(first)).toBe(true);
    expect(readFileSync(join(dir, 'keys', 'report-surname-hmac.key'), 'utf8').trim()).toBe(
      first.toString('base64'),
    );
  });

  it('is read from the configured file, which must hold enough key', () => {
    const file = join(dir, 'key');
    const configured = randomBytes(48);
    writeFileSync(file, configured.toString('base64'));
    expect(loadSurnameKey(file, dir).equals(configured)).toBe(true);
    writeFileSync(file, randomBytes(8).toString('base64'));
    expect(() => loadSurnameKey(file, dir)).toThrow(/REPORT_SURNAME_KEY_FILE/);
    expect(() => loadSurnameKey(join(dir, 'missing'), dir)).toThrow(
      /REPORT_SURNAME_KEY_FILE cannot be read/,
    );
  });
});
