import jwt from 'jsonwebtoken';
import { ensureLocalKeyPair, type Role } from '#common';

/** Signs a token with the local key pair in `dataDir`, as `npm run token` does. */
export function tokenFor(
  dataDir: string,
  claims: { sub: string; org: string; roles: Role[]; teams?: string[] },
  options: { expiresIn?: number } = {},
): string {
  const { privateKeyPem, kid } = ensureLocalKeyPair(dataDir);
  return jwt.sign(
    { org: claims.org, roles: claims.roles, teams: claims.teams ?? [] },
    privateKeyPem,
    {
      algorithm: 'RS256',
      keyid: kid,
      subject: claims.sub,
      issuer: 'care-consent-ledger-local',
      audience: 'care-consent-ledger',
      expiresIn: options.expiresIn ?? 600,
    },
  );
}
