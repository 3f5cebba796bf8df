import fc from 'fast-check';
import { canonicalJson } from './canonical-json';
import { chainHash, entryBytes, entryTemplate, fillTemplate, GENESIS_HASH } from './chain';

describe('entry templates: canonical JSON with the position filled in under the lock', () => {
  const content = {
    at: '2026-11-24T10:00:00.000Z',
    actor: { userId: 'sw-1', org: 'X26', role: 'social_worker' },
    subjectId: '9434765919',
    action: 'record.disclosed',
    outcome: 'permit',
    purpose: 'direct-care',
    categories: ['care-plan'],
    legalBasis: null,
    correlationId: 'c-1',
    sourceEventId: 'e-1',
    sourceType: 'gateway.decision.v1',
    details: { streamId: 'decision-1', streamVersion: 1 },
  };

  it('gives the bytes canonicalJson gives for the whole entry', () => {
    const text = fillTemplate(entryTemplate(content), 42);
    expect(text).toBe(canonicalJson({ seq: 42, ...content }));
    expect(text).toContain('"purpose":"direct-care","seq":42,"sourceEventId":"e-1"');
    expect(Buffer.from(text)).toEqual(entryBytes({ ...content, seq: 42 }));
    expect(chainHash(GENESIS_HASH, text)).toEqual(chainHash(GENESIS_HASH, Buffer.from(text)));
  });

  it('places "seq" first, last or alone as the member order requires', () => {
    expect(fillTemplate(entryTemplate({}), 1)).toBe('{"seq":1}');
    expect(fillTemplate(entryTemplate({ a: 1 }), 2)).toBe('{"a":1,"seq":2}');
    expect(fillTemplate(entryTemplate({ z: 1 }), 3)).toBe('{"seq":3,"z":1}');
    expect(fillTemplate(entryTemplate({ seq: 99, s: 1, sf: 2 }), 4)).toBe('{"s":1,"seq":4,"sf":2}');
    expect(fillTemplate(entryTemplate({ a: undefined, b: 1 }), 5)).toBe('{"b":1,"seq":5}');
  });

  it('agrees with canonicalJson for any JSON object and position', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (object, seq) => {
          let expected: string;
          try {
            expected = canonicalJson({ ...object, seq });
          } catch (error) {
            // Lone surrogates are refused either way.
            expect(() => fillTemplate(entryTemplate(object), seq)).toThrow(TypeError);
            return error instanceof TypeError;
          }
          return fillTemplate(entryTemplate(object), seq) === expected;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses what canonicalJson refuses, and a position that is not a whole number', () => {
    expect(() => entryTemplate(new Map())).toThrow(TypeError);
    expect(() => entryTemplate({ n: Number.NaN })).toThrow(TypeError);
    expect(() => entryTemplate({ s: '\ud800' })).toThrow(TypeError);
    expect(() => fillTemplate(entryTemplate({}), 0)).toThrow(RangeError);
    expect(() => fillTemplate(entryTemplate({}), 1.5)).toThrow(RangeError);
  });
});
