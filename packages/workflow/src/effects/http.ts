/**
 * HTTP effects over the global fetch. Every request carries the `Idempotency-Key` header
 * (the de-facto standard of payment and webhook APIs), identical on every retry, so a receiver
 * that honours it acts once however often the outbox delivers.
 *
 * Classification follows what a retry can change: 408, 429 and 5xx are the receiver's
 * temporary trouble, and a network error or timeout may be ours, so they are retryable; any
 * other 4xx says the request itself is wrong and repeating it cannot help. Only http(s) URLs
 * are called (no file:, data: or custom schemes), each attempt is bounded by a timeout
 * (default 10 s) so a hung receiver cannot hold a worker, and a response body is read up to
 * 1 MB, since it may end up in an instance variable.
 */
import type { EffectResult, HttpEffect } from './types';

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 1_000_000;

export interface HttpTransportOptions {
  timeoutMs?: number;
}

const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD']);

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function targetOf(url: string): URL | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `only http and https URLs are called, not "${parsed.protocol}"`;
  return parsed;
}

function requestBody(req: HttpEffect, headers: Headers): string | undefined {
  if (req.body === undefined || METHODS_WITHOUT_BODY.has(req.method.toUpperCase())) return undefined;
  const declared = headers.get('content-type');
  // a text body sent with a content type of its own (form, XML) goes as it is; everything else is JSON
  if (typeof req.body === 'string' && declared && !/json/i.test(declared)) return req.body;
  if (!declared) headers.set('content-type', 'application/json');
  return JSON.stringify(req.body);
}

async function responseBody(response: Response): Promise<{ body: unknown } | { tooLarge: true }> {
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    return { tooLarge: true };
  }
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) return { tooLarge: true };
  if (text === '') return { body: null };
  if (/\bjson\b|\+json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      return { body: JSON.parse(text) as unknown };
    } catch {
      return { body: text };
    }
  }
  return { body: text };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

function snippet(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text && text !== 'null' ? `: ${text.slice(0, 200)}` : '';
}

export async function deliverHttp(req: HttpEffect, idempotencyKey: string, options: HttpTransportOptions = {}): Promise<EffectResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const target = targetOf(req.url);
  if (typeof target === 'string') return { ok: false, retryable: false, error: target };
  const method = req.method.toUpperCase();
  let headers: Headers;
  try {
    headers = new Headers(req.headers);
  } catch (e) {
    return { ok: false, retryable: false, error: `bad request header: ${(e as Error).message}` };
  }
  headers.set('idempotency-key', idempotencyKey);
  if (!headers.has('accept')) headers.set('accept', 'application/json, */*;q=0.5');
  const body = requestBody(req, headers);
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let read: Awaited<ReturnType<typeof responseBody>>;
  try {
    response = await fetch(target, { method, headers, body, signal, redirect: 'follow' });
    read = await responseBody(response);
  } catch (e) {
    return { ok: false, retryable: true, error: `${method} ${target.origin}${target.pathname} failed: ${describeFailure(e, timeoutMs)}` };
  }
  const status = response.status;
  if ('tooLarge' in read) return { ok: false, retryable: false, status, error: `${method} ${target.origin}${target.pathname} answered more than ${MAX_RESPONSE_BYTES} bytes` };
  if (status >= 200 && status < 300) return { ok: true, status, result: read.body };
  return {
    ok: false,
    retryable: isRetryableStatus(status),
    status,
    error: `${method} ${target.origin}${target.pathname} answered ${status}${snippet(read.body)}`,
  };
}
