/**
 * Side effects that leave the database (an HTTP call, an email). The engine records them in an
 * outbox in the step's own transaction and delivers them afterwards, at least once, with an
 * idempotency key that stays the same on every attempt: the receiver can deduplicate, and the
 * outbox records the first success once. The transports only deliver and classify the answer;
 * whether and when to retry is the outbox's decision (see ../time/retry.ts).
 */
export type EffectRequest =
  | { kind: 'http'; method: string; url: string; headers: Record<string, string>; body?: unknown }
  | { kind: 'email'; to: string[]; subject: string; body: string };

export type HttpEffect = Extract<EffectRequest, { kind: 'http' }>;
export type EmailEffect = Extract<EffectRequest, { kind: 'email' }>;

/**
 * ok: delivered; `result` is what a flow may keep (an HTTP response body, parsed when JSON).
 * not ok: `retryable` says whether the same request may succeed later (a timeout, a 503) or
 * never will (a 400, a bad address, nothing configured), so the outbox retries or raises an
 * incident at once.
 */
export type EffectResult = { ok: true; result: unknown; status?: number } | { ok: false; retryable: boolean; error: string; status?: number };

export interface EffectTransports {
  http(req: HttpEffect, idempotencyKey: string): Promise<EffectResult>;
  email(req: EmailEffect, idempotencyKey: string): Promise<EffectResult>;
}
