// `npm run demo` (after `npm start`): walks through what the Care Consent Ledger is for, against
// the running services, and prints what was asked, what was decided and why, and what the
// audit log shows. The journeys are the same code the end-to-end tests run
// (test/journeys), so what the demo shows is what CI checks. Each run makes up new people,
// so it can be run again and again.
import { join, resolve } from 'node:path';
import { ensureLocalKeyPair, signLocalToken } from '#common';
import { accessJourney } from './journeys/access.journey';
import { auditTrail } from './journeys/audit-trail.journey';
import { ownDisclosuresJourney } from './journeys/disclosures.journey';
import type { JourneyContext } from './journeys/journey-client';
import { JourneyWorld } from './journeys/journey-world';
import { safeguardingOverrideJourney } from './journeys/override.journey';
import {
  careAgencyJourney,
  consentedSharingJourney,
  nationalOptOutJourney,
  objectionJourney,
  sharedCareRecordJourney,
} from './journeys/sharing.journeys';

const env = process.env;
const DATA_DIR = resolve(env.DATA_DIR ?? resolve(__dirname, '..', '..', '.data'));
const keys = ensureLocalKeyPair(DATA_DIR);
const say = (text: string): void => void process.stdout.write(`${text}\n`);

const context: JourneyContext = {
  urls: {
    consent: `http://127.0.0.1:${env.CONSENT_PORT ?? 3001}`,
    gateway: `http://127.0.0.1:${env.GATEWAY_PORT ?? 3002}`,
    audit: `http://127.0.0.1:${env.AUDIT_PORT ?? 3003}`,
  },
  sign: (claims) => signLocalToken(keys, { teams: [], ...claims, expiresIn: '1h' }),
  narrator: { step: (title) => say(`\n== ${title}`), say },
  // Without a GOV.UK Notify key the audit service writes notices here (as `npm start` runs it).
  noticeDir: env.NOTIFY_API_KEY
    ? null
    : resolve(env.NOTIFICATION_OUTBOX_DIR ?? join(DATA_DIR, 'notifications')),
  timeoutMs: 20_000,
};

async function main(): Promise<void> {
  say('Care Consent Ledger demo: eight journeys, each with a new made-up person');
  const world = new JourneyWorld(context);
  await world.setUp();
  const first = await sharedCareRecordJourney(world);
  await careAgencyJourney(world, first.person);
  const third = await consentedSharingJourney(world);
  await objectionJourney(world);
  await safeguardingOverrideJourney(world);
  const sixth = await ownDisclosuresJourney(world);
  await nationalOptOutJourney(world);
  await accessJourney(world);
  const trail = await auditTrail(world, third.person, `the person in journey 3 (${third.person})`);
  if (!trail.verified.ok || !sixth.check.ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write('Is the system running? Start it with `npm start` in another terminal.\n');
  process.exit(1);
});
