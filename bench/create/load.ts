import http from 'node:http';
import { percentile } from '../lib/stats';

export interface LoadOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  concurrency: number;
  seconds: number;
  /** a hard cap, so a surprisingly fast server cannot run away */
  maxRequests: number;
  body: (i: number) => unknown;
  expectStatus: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  firstFailure?: string;
}

/**
 * A closed-loop load generator: `concurrency` clients on keep-alive connections, each
 * sending its next request as soon as the previous answer arrives, for a fixed time.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(options.seconds * 1e9));
  const client = async () => {
    while (process.hrtime.bigint() < deadline && sent < options.maxRequests) {
      const i = sent++;
      const t0 = process.hrtime.bigint();
      const { status, text } = await post(agent, options, JSON.stringify(options.body(i)));
      if (status === options.expectStatus) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else {
        failed++;
        firstFailure ??= `${status} ${text.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return {
    ok: latencies.length,
    failed,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

function post(agent: http.Agent, options: LoadOptions, payload: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
