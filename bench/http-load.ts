import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the load generator sends. */
export interface LoadRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What a load run measured. */
export interface LoadResult {
  perSecond: number;
  failures: number;
  firstFailure?: string;
  /** Per request, in request order: milliseconds from sending it to reading its whole answer. */
  latenciesMs: Float64Array;
  /** How many answers came back with each status code. */
  statuses: Map<number, number>;
}

/** Sends `requests` with `concurrency` in flight over keep-alive; returns requests/s and failures. */
export async function runLoad(
  port: number,
  requests: LoadRequest[],
  concurrency: number,
  expectStatus: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs = new Float64Array(requests.length);
  const statuses = new Map<number, number>();
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next++;
      const sent = process.hrtime.bigint();
      const { status, body } = await send(agent, port, requests[index]);
      latenciesMs[index] = Number(process.hrtime.bigint() - sent) / 1e6;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== expectStatus) {
        failures++;
        firstFailure ??= `${status} ${body.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { perSecond: requests.length / seconds, failures, firstFailure, latenciesMs, statuses };
}

function send(
  agent: Agent,
  port: number,
  r: LoadRequest,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        agent,
        headers: { ...(r.body ? { 'content-type': 'application/json' } : {}), ...r.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** The baseline: bare node:http hello-world on this machine, in this run. */
export async function helloWorldRate(total: number, concurrency: number): Promise<number> {
  const server = createServer((_, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"hello":"world"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const result = await runLoad(
    port,
    Array.from({ length: total }, () => ({ method: 'GET', path: '/' })),
    concurrency,
    200,
  );
  await new Promise((resolve) => server.close(resolve));
  return result.perSecond;
}
