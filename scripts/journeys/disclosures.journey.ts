// Journey 6 of issue 6: the person sees who has seen their record and checks a proof offline.
import {
  checkSavedProof,
  type ProofCheck,
  type SavedProof,
} from '../../apps/audit-service/src/log/verify/proof-check';
import { call, must } from './journey-client';
import { GP, type JourneyWorld } from './journey-world';

export interface Disclosure {
  seq: number;
  at: string;
  decisionId: string;
  recipientOrg: string;
  recipientRole: string | null;
  purpose: string | null;
  categories: string[];
  withoutConsent: boolean;
  proof: string;
}

export interface DisclosuresJourney {
  person: string;
  disclosures: Disclosure[];
  /** The saved proof, with the public key that signed its tree head, as the person keeps it. */
  proof: SavedProof;
  publicKey: string;
  check: ProofCheck;
  /** What the person was answered when asking for someone else's disclosures and proof. */
  othersDisclosures: { status: number; error: unknown };
  othersProof: { status: number; error: unknown };
}

/**
 * 6. The person, signed in as themselves, lists their disclosures, downloads an inclusion proof
 * of one and checks it with nothing but the audit service's public key; someone else's
 * disclosures and proofs are not theirs to see.
 */
export async function ownDisclosuresJourney(w: JourneyWorld): Promise<DisclosuresJourney> {
  w.step('6. The person sees who has seen their record, and checks one proof themselves');
  const person = await w.newPerson();
  const stranger = await w.newPerson();
  for (const subject of [person, stranger]) {
    await must(
      'GET',
      `${w.urls.gateway}/v1/subjects/${subject}/record?purpose=direct-care&categories=care-plan,assessments&onBehalfOf=${GP}`,
      w.tokens.sharedCareRecord,
    );
  }
  const self = w.personToken(person);
  const disclosures = await w.waitFor('the person’s disclosures', async () => {
    const list = await must<Disclosure[]>(
      'GET',
      `${w.urls.audit}/v1/subjects/${person}/disclosures`,
      self,
    );
    return list.length > 0 ? list : null;
  });
  for (const d of disclosures) {
    w.say(
      `${d.at.slice(0, 19)}  ${d.recipientOrg}  ${d.recipientRole ?? ''}  ${d.purpose}  ${d.categories.join(', ')}${d.withoutConsent ? '  (not on the basis of consent)' : ''}`,
    );
  }
  const chosen = disclosures[0];
  // A proof needs a signed tree head covering the entry; one is signed every few seconds.
  const proof = await w.waitFor('a signed tree head covering the disclosure', async () => {
    const answer = await call<SavedProof>('GET', `${w.urls.audit}${chosen.proof}`, self);
    return answer.status === 200 && answer.body.treeHead !== null ? answer.body : null;
  });
  const keys = await must<{ keyId: string; publicKey: string }[]>(
    'GET',
    `${w.urls.audit}/v1/audit/keys`,
    self,
  );
  const publicKey = keys.find((k) => k.keyId === proof.treeHead?.keyId)?.publicKey ?? '';
  const check = checkSavedProof(proof, publicKey);
  w.say(`proof of entry #${proof.seq} in a log of ${proof.treeSize} entries, checked offline:`);
  for (const c of check.checks) w.say(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);

  const theirs = await must<Disclosure[]>(
    'GET',
    `${w.urls.audit}/v1/subjects/${stranger}/disclosures`,
    w.tokens.ig,
  );
  const others = await call<{ error?: unknown }>(
    'GET',
    `${w.urls.audit}/v1/subjects/${stranger}/disclosures`,
    self,
  );
  w.say(`asking for someone else's disclosures: ${others.status} ${String(others.body.error)}`);
  const othersProof = await call<{ error?: unknown }>(
    'GET',
    `${w.urls.audit}/v1/audit/entries/${theirs[0]?.seq ?? 1}/proof`,
    self,
  );
  w.say(
    `asking for a proof of someone else's entry: ${othersProof.status} ${String(othersProof.body.error)}`,
  );
  return {
    person,
    disclosures,
    proof,
    publicKey,
    check,
    othersDisclosures: { status: others.status, error: others.body.error },
    othersProof: { status: othersProof.status, error: othersProof.body.error },
  };
}
