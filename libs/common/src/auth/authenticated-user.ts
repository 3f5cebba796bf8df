import type { Role } from '../contracts/vocabulary';

/** The caller, as established from a verified bearer token. */
export interface AuthenticatedUser {
  /** The `sub` claim: a user id, or the NHS number of a service user. */
  userId: string;
  /** ODS code of the caller's organisation. */
  org: string;
  roles: Role[];
  teams: string[];
  name?: string;
}
