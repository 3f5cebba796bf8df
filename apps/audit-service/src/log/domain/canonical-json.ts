// RFC 8785 (JSON Canonicalization Scheme). Log entries are hashed as these bytes and stored as
// jsonb, which reorders keys and drops whitespace; a verifier re-reading an entry must reach
// the same bytes, so the serialisation is a function of the JSON value alone.

/** Lone surrogates: RFC 8785 §3.2.2.2 requires a JCS implementation to refuse them. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The RFC 8785 canonical form of a JSON value: members sorted by the UTF-16 code units of
 * their names, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them.
 * Throws a TypeError for anything JSON cannot carry exactly (bigint, NaN, ±Infinity,
 * functions, symbols, lone surrogates, cycles, Maps and other non-plain objects).
 */
export function canonicalJson(value: unknown): string {
  return write(toJsonValue(value, ''), '$', new Set());
}

/** JSON.stringify consults toJSON first (a Date becomes its ISO string); so must we. */
function toJsonValue(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return quote(value, path);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonicalJson: ${String(value)} at ${path} is not a JSON number`);
      }
      // ECMAScript's Number-to-string is the algorithm RFC 8785 §3.2.2.3 adopts; -0 gives "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError(`canonicalJson: cycle at ${path}`);
      ancestors.add(value);
      try {
        return Array.isArray(value)
          ? writeArray(value, path, ancestors)
          : writeObject(value, path, ancestors);
      } finally {
        ancestors.delete(value);
      }
    default:
      // undefined, bigint, function, symbol: JSON.stringify would drop them or write null, and
      // a hashed record must not lose data silently.
      throw new TypeError(`canonicalJson: ${typeof value} at ${path} has no JSON form`);
  }
}

function writeArray(items: readonly unknown[], path: string, ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) {
    parts.push(write(toJsonValue(items[i], String(i)), `${path}[${i}]`, ancestors));
  }
  return `[${parts.join(',')}]`;
}

function writeObject(object: object, path: string, ancestors: Set<object>): string {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    // JSON.stringify writes a Map or Set as {}: refuse rather than hash an empty object.
    const name = (object.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    throw new TypeError(`canonicalJson: ${name} at ${path} is not a plain object`);
  }
  const record = object as Record<string, unknown>;
  const parts: string[] = [];
  // The default sort compares UTF-16 code units, which is RFC 8785 §3.2.3's order.
  for (const key of Object.keys(record).sort()) {
    const member = toJsonValue(record[key], key);
    // An undefined member is absent, as in JSON.stringify (and in the stored jsonb).
    if (member === undefined) continue;
    const memberPath = `${path}.${key}`;
    parts.push(`${quote(key, memberPath)}:${write(member, memberPath, ancestors)}`);
  }
  return `{${parts.join(',')}}`;
}

function quote(text: string, path: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new TypeError(`canonicalJson: lone surrogate in string at ${path}`);
  }
  // RFC 8785 §3.2.2.2 specifies exactly JSON.stringify's escaping for well-formed strings.
  return JSON.stringify(text);
}
