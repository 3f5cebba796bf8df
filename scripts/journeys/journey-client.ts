// What every journey needs to talk to the running services: their URLs, a way to sign tokens,
// somewhere to tell the story, and HTTP calls that fail loudly with the service's own answer.
import type { Role } from '#common';

export interface ServiceUrls {
  consent: string;
  gateway: string;
  audit: string;
}

/** Signs a bearer token the services accept (the local key pair under `npm start`). */
export type TokenSigner = (claims: {
  sub: string;
  org: string;
  roles: Role[];
  name?: string;
}) => string;

/** Where a journey tells what it did: printed by the demo, kept quiet by the tests. */
export interface Narrator {
  step(title: string): void;
  say(line: string): void;
}

export interface JourneyContext {
  urls: ServiceUrls;
  sign: TokenSigner;
  narrator: Narrator;
  /**
   * Where the audit service writes notices when it has no GOV.UK Notify key, so a journey can
   * read what the person received; null when notices go elsewhere.
   */
  noticeDir: string | null;
  /** How long to wait for an asynchronous effect (consent replica, audit log) before failing. */
  timeoutMs: number;
}

export type Body = Record<string, unknown>;

export interface Answer<T = Body> {
  status: number;
  body: T;
  /** When the answer arrived (Date.now()), for timing enforcement from the caller's side. */
  receivedAt: number;
}

export async function call<T = Body>(
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : {}) as T,
    receivedAt: Date.now(),
  };
}

/** A call that must succeed; anything else stops the journey with the service's answer. */
export async function must<T = Body>(
  method: string,
  url: string,
  bearer: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const answer = await call<T>(method, url, bearer, body, headers);
  if (answer.status >= 400) {
    throw new Error(`${method} ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

/**
 * Asks `probe` again until it returns something other than null, or fails after `timeoutMs`
 * naming what it waited for. Events travel asynchronously (outbox, consumers), so effects are
 * awaited by polling with a deadline rather than by sleeping a guessed time.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
