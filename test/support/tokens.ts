import { ensureLocalKeyPair, signLocalToken, type Role } from '#common';

/** Signs a token with the local key pair in `dataDir`, exactly as `npm run token` does. */
export function tokenFor(
  dataDir: string,
  claims: { sub: string; org: string; roles: Role[]; teams?: string[] },
  expiresIn = '10m',
): string {
  return signLocalToken(ensureLocalKeyPair(dataDir), { teams: [], ...claims, expiresIn });
}
