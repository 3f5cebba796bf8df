import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DATA_CATEGORY_NAMES, DomainError, SERVICE_CONFIG, type DataCategory } from '#common';
import type { SharingGatewayEnv } from '../config/env';

export type CareRecord = { categories: Partial<Record<DataCategory, unknown>> };

const GIVEN = ['Alex', 'Sam', 'Jordan', 'Morgan', 'Riley', 'Casey', 'Taylor', 'Jamie'];
const FAMILY = ['Example', 'Sample', 'Testington', 'Placeholder', 'Fictional', 'Madeup'];
const TOWNS = ['Northshire', 'Westmere', 'Eastbrook', 'Southfield'];

/**
 * A made-up record for the embedded setup, the same every time for the same NHS number. It
 * describes no real person: names come from a fixed list of obviously fictional ones.
 */
export function syntheticRecord(subjectId: string): CareRecord {
  const seed = createHash('sha256').update(subjectId).digest();
  const pick = <T>(list: readonly T[], i: number): T => list[seed[i] % list.length];
  const given = pick(GIVEN, 0);
  const family = pick(FAMILY, 1);
  const town = pick(TOWNS, 2);
  const born = `19${40 + (seed[3] % 50)}-0${1 + (seed[4] % 9)}-1${seed[5] % 9}`;
  const content: Record<DataCategory, unknown> = {
    demographics: { nhsNumber: subjectId, name: `${given} ${family}`, born, synthetic: true },
    contacts: { address: `${1 + (seed[6] % 90)} High Street, ${town}`, phone: '01632 960000' },
    'care-plan': {
      goals: ['Remain living at home safely', 'Keep in touch with family'],
      support: [{ service: 'Home care', visitsPerDay: 1 + (seed[7] % 3) }],
      reviewDue: '2027-03-01',
    },
    assessments: [{ type: 'Care Act needs assessment', completedOn: '2026-02-10', eligible: true }],
    'case-notes': [{ on: '2026-05-04', note: 'Routine visit; no concerns raised.' }],
    medications: [{ name: 'Paracetamol', dose: '1 g as needed' }],
    financial: { contributionWeekly: 20 + (seed[8] % 80), assessedOn: '2026-02-20' },
    safeguarding: [{ opened: '2026-06-01', type: 'Section 42 enquiry', status: 'closed' }],
    'mental-health': { diagnoses: [], lastReview: '2026-01-15' },
    'sexual-health': { notes: [] },
    'substance-misuse': { referrals: [] },
    'criminal-justice': { orders: [] },
    'third-party-information': [{ from: 'neighbour', on: '2026-04-11', summary: 'Concern raised' }],
  };
  return { categories: content };
}

/** Where records come from: the care record system at RECORD_SOURCE_URL, or the synthetic one. */
@Injectable()
export class RecordSource {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: SharingGatewayEnv) {}

  /** Fetches the record; a source that fails or answers nonsense is a 502, never partial data. */
  async fetch(subjectId: string): Promise<CareRecord> {
    const base = this.config.RECORD_SOURCE_URL;
    if (!base) return syntheticRecord(subjectId);
    let response: Response;
    try {
      response = await fetch(`${base.replace(/\/$/, '')}/subjects/${subjectId}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.config.RECORD_SOURCE_TIMEOUT_MS),
      });
    } catch (error) {
      throw sourceFailed(`could not be reached (${(error as Error).name})`);
    }
    if (!response.ok) throw sourceFailed(`answered ${response.status}`);
    const body = (await response.json().catch(() => null)) as { categories?: unknown } | null;
    if (!body || typeof body.categories !== 'object' || body.categories === null) {
      throw sourceFailed('answered without a categories object');
    }
    const categories = body.categories as Record<string, unknown>;
    return {
      categories: Object.fromEntries(
        DATA_CATEGORY_NAMES.filter((c) => c in categories).map((c) => [c, categories[c]]),
      ),
    };
  }
}

function sourceFailed(what: string): DomainError {
  return new DomainError(
    'RECORD_SOURCE_FAILED',
    `The care record system ${what}; the decision was recorded but no data was released.`,
    'bad-gateway',
  );
}
