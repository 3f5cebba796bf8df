import { DomainError } from '#common';
import { invalidInput } from '../http/query-params';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The notification id in a path, lower-cased, or a 400 naming it. */
export function notificationIdOf(id: string): string {
  if (!UUID.test(id)) {
    throw invalidInput([{ field: 'id', problem: 'id must be a notification id (a UUID)' }]);
  }
  return id.toLowerCase();
}

/** The 404 for a notification id that names none. */
export function notificationNotFound(id: string): DomainError {
  return new DomainError('NOTIFICATION_NOT_FOUND', `No notification ${id} exists.`, 'not-found');
}
