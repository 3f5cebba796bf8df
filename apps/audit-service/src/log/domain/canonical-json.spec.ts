import { canonicalJson } from './canonical-json';

/** A double from its IEEE 754 bit pattern, as RFC 8785 Appendix B lists them. */
const double = (bits: string): number => Buffer.from(bits, 'hex').readDoubleBE(0);

describe('canonicalJson (RFC 8785)', () => {
  it('canonicalises the example of RFC 8785 §3.2.2', () => {
    const input = JSON.parse(`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`);
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  describe('member order', () => {
    it('sorts the RFC 8785 §3.2.3 example by UTF-16 code units', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      expect(canonicalJson(input)).toBe(
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
          '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
          '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });

    it('puts a surrogate pair (U+1F600) before U+FB33, unlike code point order', () => {
      expect(canonicalJson({ '\ufb33': 1, '\ud83d\ude00': 2 })).toBe(
        '{"\ud83d\ude00":2,"\ufb33":1}',
      );
      expect(canonicalJson({ '\uffff': 1, '\ud83d\ude00': 2 })).toBe(
        '{"\ud83d\ude00":2,"\uffff":1}',
      );
    });

    it('sorts integer-like names as strings, not in JavaScript property order', () => {
      expect(canonicalJson({ b: 1, a: 2, 9: 3, 10: 4 })).toBe('{"10":4,"9":3,"a":2,"b":1}');
    });

    it('is the same whatever order the members were written in', () => {
      expect(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })).toBe(
        canonicalJson({ a: [{ y: 2, z: 1 }], b: { c: 2, d: 1 } }),
      );
    });

    it('compares names by code unit, so a prefix sorts first and case matters', () => {
      expect(canonicalJson({ ab: 1, a: 2, B: 3, '': 4 })).toBe('{"":4,"B":3,"a":2,"ab":1}');
    });
  });

  describe('numbers', () => {
    it.each([
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ])('writes the double 0x%s as %s (RFC 8785 Appendix B)', (bits, text) => {
      expect(canonicalJson(double(bits))).toBe(text);
    });

    it.each([
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [0.000001, '0.000001'],
      [1e-7, '1e-7'],
      [-0, '0'],
      [4.5, '4.5'],
      [-1.5e-10, '-1.5e-10'],
      [123, '123'],
    ])('writes %p as %s', (value, text) => {
      expect(canonicalJson(value)).toBe(text);
      expect(canonicalJson([value])).toBe(`[${text}]`);
    });

    it.each([NaN, Infinity, -Infinity])('refuses %p, which JSON cannot carry', (value) => {
      expect(() => canonicalJson(value)).toThrow(TypeError);
      expect(() => canonicalJson({ a: value })).toThrow(TypeError);
    });
  });

  describe('strings', () => {
    it('uses the short escapes and lower-case \\u00xx for the other controls', () => {
      expect(canonicalJson('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
      expect(canonicalJson('\u0000\u0001\u000b\u001f')).toBe('"\\u0000\\u0001\\u000b\\u001f"');
    });

    it('escapes only the quote and the backslash among printable characters', () => {
      expect(canonicalJson('"\\/\u007f')).toBe('"\\"\\\\/\u007f"');
    });

    it('writes non-ASCII characters as themselves, including U+2028 and surrogate pairs', () => {
      expect(canonicalJson('\u20ac\u00f6\u2028\u2029\ud83d\ude00')).toBe(
        '"\u20ac\u00f6\u2028\u2029\ud83d\ude00"',
      );
    });

    it('escapes control characters in member names too', () => {
      expect(canonicalJson({ 'a\nb': 1 })).toBe('{"a\\nb":1}');
    });

    it.each(['\ud800', '\udc00', 'a\ud83d', '\ude00b'])(
      'refuses the lone surrogate in %j (RFC 8785 §3.2.2.2)',
      (text) => {
        expect(() => canonicalJson(text)).toThrow(TypeError);
        expect(() => canonicalJson({ [text]: 1 })).toThrow(TypeError);
      },
    );
  });

  describe('literals and structures', () => {
    it('writes literals, empty containers and nested arrays in order', () => {
      expect(canonicalJson(null)).toBe('null');
      expect(canonicalJson(true)).toBe('true');
      expect(canonicalJson(false)).toBe('false');
      expect(canonicalJson({})).toBe('{}');
      expect(canonicalJson([])).toBe('[]');
      expect(canonicalJson([3, [2, [1, []]], {}])).toBe('[3,[2,[1,[]]],{}]');
    });

    it('sorts members at every depth and keeps no whitespace', () => {
      const entry = {
        seq: 42,
        at: '2026-03-03T10:00:00.000Z',
        actor: { userId: 'sw-1', role: 'social_worker', org: 'X26' },
        categories: ['care-plan', 'assessments'],
        legalBasis: null,
        details: {
          streamVersion: 3,
          capture: { method: 'written', givenBy: 'subject' },
          recipients: [{ kind: 'local-authority', ods: 'X26' }],
        },
      };
      expect(canonicalJson(entry)).toBe(
        '{"actor":{"org":"X26","role":"social_worker","userId":"sw-1"},' +
          '"at":"2026-03-03T10:00:00.000Z","categories":["care-plan","assessments"],' +
          '"details":{"capture":{"givenBy":"subject","method":"written"},' +
          '"recipients":[{"kind":"local-authority","ods":"X26"}],"streamVersion":3},' +
          '"legalBasis":null,"seq":42}',
      );
    });

    it('survives a round trip through JSON (as the stored jsonb copy does)', () => {
      const value = {
        z: [1.5, -0, 1e21, 'x\u2028y', { '\ud83d\ude00': [null, { b: 1, a: false }] }],
        a: { nested: { deeper: { deepest: [[], {}] } } },
        '\u00f6': 'ö',
      };
      const text = canonicalJson(value);
      expect(canonicalJson(JSON.parse(text))).toBe(text);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
    });

    it('handles deep nesting', () => {
      let value: unknown = 'leaf';
      for (let i = 0; i < 500; i++) value = i % 2 === 0 ? { k: value } : [value];
      // One member per object, so the canonical form is JSON.stringify's.
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    });

    it('omits undefined members, as JSON.stringify and jsonb do', () => {
      expect(canonicalJson({ b: undefined, a: 1, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    });

    it('accepts objects without a prototype and repeated (acyclic) references', () => {
      const bare = Object.assign(Object.create(null) as object, { b: 2, a: 1 });
      const shared = { x: 1 };
      expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
      expect(canonicalJson([shared, { shared }])).toBe('[{"x":1},{"shared":{"x":1}}]');
    });

    it('uses toJSON as JSON.stringify does, so a Date is its ISO string', () => {
      const at = new Date('2026-03-03T10:00:00Z');
      expect(canonicalJson({ at })).toBe('{"at":"2026-03-03T10:00:00.000Z"}');
      expect(canonicalJson({ a: { toJSON: (key: string) => ({ key, z: 1, y: 2 }) } })).toBe(
        '{"a":{"key":"a","y":2,"z":1}}',
      );
    });
  });

  describe('values JSON cannot carry exactly', () => {
    it.each([
      ['a bigint', 1n],
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['undefined', undefined],
    ])('refuses %s at the top, in an array and as a member', (_name, value) => {
      expect(() => canonicalJson(value)).toThrow(TypeError);
      expect(() => canonicalJson([1, value])).toThrow(TypeError);
      if (value !== undefined) expect(() => canonicalJson({ a: { b: value } })).toThrow(TypeError);
    });

    it('names where the bad value is', () => {
      expect(() => canonicalJson({ details: { amount: [1, 2n] } })).toThrow(
        'bigint at $.details.amount[1]',
      );
    });

    it('refuses a hole in an array rather than writing null', () => {
      // eslint-disable-next-line no-sparse-arrays -- the hole is what is being tested
      expect(() => canonicalJson([1, , 3])).toThrow(TypeError);
    });

    it.each([
      ['a Map', new Map([['a', 1]])],
      ['a Set', new Set([1])],
      [
        'a class instance',
        new (class Point {
          x = 1;
        })(),
      ],
      ['a boxed string', new String('s')],
    ])('refuses %s, which JSON.stringify would flatten silently', (_name, value) => {
      expect(() => canonicalJson({ value })).toThrow(TypeError);
    });

    it('refuses cycles', () => {
      const looped: Record<string, unknown> = { a: 1 };
      looped.self = { again: looped };
      expect(() => canonicalJson(looped)).toThrow(/cycle/);
      const list: unknown[] = [];
      list.push(list);
      expect(() => canonicalJson(list)).toThrow(/cycle/);
    });
  });
});
