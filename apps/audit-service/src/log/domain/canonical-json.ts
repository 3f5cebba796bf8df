// RFC 8785 (JSON Canonicalization Scheme). Log entries are hashed as these bytes and stored as
// jsonb, which reorders keys and drops whitespace; a verifier re-reading an entry must reach
// the same bytes, so the serialisation is a function of the JSON value alone.
//
// Every appended entry passes through here, so the walk avoids per-value work that only an
// error needs: the path to a bad value is kept as a stack of keys and spelt out on a throw.

/** Lone surrogates: RFC 8785 §3.2.2.2 requires a JCS implementation to refuse them. */
const LONE_SURROGATE = /\p{Cs}/u;

/** The keys from the root to the value being written (numbers are array indexes). */
type Path = (string | number)[];

/**
 * The RFC 8785 canonical form of a JSON value: members sorted by the UTF-16 code units of
 * their names, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them.
 * Throws a TypeError for anything JSON cannot carry exactly (bigint, NaN, ±Infinity,
 * functions, symbols, lone surrogates, cycles, Maps and other non-plain objects).
 */
export function canonicalJson(value: unknown): string {
  return write(toJsonValue(value, ''), [], []);
}

/** JSON.stringify consults toJSON first (a Date becomes its ISO string); so must we. */
function toJsonValue(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

function pathText(path: Path): string {
  let text = '$';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `.${key}`;
  return text;
}

function write(value: unknown, path: Path, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return quote(value, path);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(
          `canonicalJson: ${String(value)} at ${pathText(path)} is not a JSON number`,
        );
      }
      // ECMAScript's Number-to-string is the algorithm RFC 8785 §3.2.2.3 adopts; -0 gives "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      // Ancestors are a handful deep in any entry: a scan is cheaper than a Set.
      if (ancestors.includes(value))
        throw new TypeError(`canonicalJson: cycle at ${pathText(path)}`);
      ancestors.push(value);
      const text = Array.isArray(value)
        ? writeArray(value, path, ancestors)
        : writeObject(value, path, ancestors);
      ancestors.pop();
      return text;
    }
    default:
      // undefined, bigint, function, symbol: JSON.stringify would drop them or write null, and
      // a hashed record must not lose data silently.
      throw new TypeError(`canonicalJson: ${typeof value} at ${pathText(path)} has no JSON form`);
  }
}

function writeArray(items: readonly unknown[], path: Path, ancestors: object[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    path.push(i);
    if (i > 0) text += ',';
    text += write(toJsonValue(items[i], String(i)), path, ancestors);
    path.pop();
  }
  return `${text}]`;
}

function writeObject(object: object, path: Path, ancestors: object[]): string {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    // JSON.stringify writes a Map or Set as {}: refuse rather than hash an empty object.
    const name = (object.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    throw new TypeError(`canonicalJson: ${name} at ${pathText(path)} is not a plain object`);
  }
  const record = object as Record<string, unknown>;
  let text = '{';
  let first = true;
  // The default sort compares UTF-16 code units, which is RFC 8785 §3.2.3's order.
  for (const key of Object.keys(record).sort()) {
    const member = toJsonValue(record[key], key);
    // An undefined member is absent, as in JSON.stringify (and in the stored jsonb).
    if (member === undefined) continue;
    path.push(key);
    text += `${first ? '' : ','}${quote(key, path)}:${write(member, path, ancestors)}`;
    path.pop();
    first = false;
  }
  return `${text}}`;
}

function quote(text: string, path: Path): string {
  // RFC 8785 §3.2.2.2 specifies exactly JSON.stringify's escaping for well-formed strings.
  const quoted = JSON.stringify(text);
  // JSON.stringify writes a lone surrogate as a \uDXXX escape and a pair as itself, so only
  // a string whose output holds "\ud" (rare: also an escaped backslash before "ud") can have
  // one; the exact test runs on those alone.
  if (quoted.includes('\\ud') && LONE_SURROGATE.test(text)) {
    throw new TypeError(`canonicalJson: lone surrogate in string at ${pathText(path)}`);
  }
  return quoted;
}
