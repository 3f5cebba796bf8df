import type { AuthenticatedUser, EventActor, Role } from '#common';

/** Who keeps the IG registers behind the confidentiality report. */
export const REGISTER_EDITORS: Role[] = ['ig_officer'];

export const ODS_CODE = /^[A-Z0-9]{3,10}$/;
/** User ids: what identity providers issue (no spaces, no markup). */
export const PRINCIPAL_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The editor as an event actor: identifiers and the role they acted in. */
export function registerActor(editor: AuthenticatedUser): EventActor {
  return {
    userId: editor.userId,
    org: editor.org,
    role: editor.roles.find((r) => REGISTER_EDITORS.includes(r)) ?? editor.roles[0],
  };
}
