import { STAFF_ROLES } from '../contracts/vocabulary';
import type { AuthenticatedUser } from './authenticated-user';

/**
 * Whether a caller may act on a person's record at all: a service user only on their own NHS
 * number; staff and systems on anyone (what they may see is decided per resource after this).
 */
export function canActOnSubject(user: AuthenticatedUser, subjectId: string): boolean {
  if (user.roles.some((role) => STAFF_ROLES.includes(role) || role === 'system')) return true;
  return user.roles.includes('service_user') && user.userId === subjectId;
}
