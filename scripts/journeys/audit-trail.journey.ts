// The closing step: one person's trail as the IG officer reads it, and the whole log verified.
import { must } from './journey-client';
import type { JourneyWorld, LogEntry } from './journey-world';

export interface AuditTrail {
  entries: LogEntry[];
  verified: { ok: boolean; checked: number; firstBadSeq?: number };
}

/** Lists one person's entries (`whose`: how the narrative names them), then verifies the log. */
export async function auditTrail(
  w: JourneyWorld,
  person: string,
  whose = person,
): Promise<AuditTrail> {
  w.step(`The audit log of ${whose}, and the whole chain verified`);
  const entries = await w.logEntries(person);
  for (const e of entries)
    w.say(`#${e.seq}  ${e.action}  ${e.outcome}  by ${e.actor?.userId ?? '-'}`);
  const verified = await must<AuditTrail['verified']>(
    'POST',
    `${w.urls.audit}/v1/audit/verify`,
    w.tokens.ig,
  );
  w.say(
    verified.ok
      ? `audit chain verified: ${verified.checked} entries, every signed tree head matches`
      : `AUDIT CHAIN BROKEN at entry ${verified.firstBadSeq}`,
  );
  return { entries, verified };
}
