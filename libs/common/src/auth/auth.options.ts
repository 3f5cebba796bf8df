/** Where bearer tokens' signing keys come from, and the claims every token must carry. */
export interface AuthOptions {
  /** An OIDC provider's JSON Web Key Set. */
  jwksUri?: string;
  /** A PEM public key (the embedded setup's local key). */
  publicKeyPem?: string;
  issuer?: string;
  audience?: string;
}

/** Issuer and audience of tokens signed by the local key (`npm run token`). */
export const LOCAL_ISSUER = 'care-consent-ledger-local';
export const LOCAL_AUDIENCE = 'care-consent-ledger';

/** Asymmetric algorithms only: `none` and HMAC (key-confusion with a public key) never verify. */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
] as const;

/** Checks that exactly one key source is configured. */
export function assertAuthOptions(options: AuthOptions): void {
  if (Boolean(options.jwksUri) === Boolean(options.publicKeyPem)) {
    throw new Error('Authentication needs exactly one of jwksUri or publicKeyPem');
  }
}
