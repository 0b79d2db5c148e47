/**
 * The one entry the outbox calls: dispatches by kind and turns anything a transport throws
 * into a retryable failure, so a bug or a crash inside a transport can never lose the outbox
 * row's state (it is retried, then becomes an incident).
 */
import { emailSender, emailSettingsFrom, EMAIL_NOT_CONFIGURED } from './email';
import { deliverHttp, type HttpTransportOptions } from './http';
import type { EffectRequest, EffectResult, EffectTransports } from './types';

export async function deliverEffect(effect: EffectRequest, idempotencyKey: string, transports: EffectTransports): Promise<EffectResult> {
  try {
    switch (effect.kind) {
      case 'http':
        return await transports.http(effect, idempotencyKey);
      case 'email':
        return await transports.email(effect, idempotencyKey);
      default:
        return { ok: false, retryable: false, error: `unknown effect kind "${String((effect as { kind?: unknown }).kind)}"` };
    }
  } catch (e) {
    return { ok: false, retryable: true, error: `the ${effect.kind} transport failed: ${(e as Error).message ?? String(e)}` };
  }
}

/** fetch-based HTTP; email through SMTP when TESSERA_SMTP_URL is set, else refused as not configured (not retryable) */
export function defaultTransports(env: NodeJS.ProcessEnv = process.env, options: HttpTransportOptions = {}): EffectTransports {
  const settings = emailSettingsFrom(env);
  const email = settings ? emailSender(settings) : null;
  return {
    http: (req, key) => deliverHttp(req, key, options),
    email: email ?? (async () => ({ ok: false, retryable: false, error: EMAIL_NOT_CONFIGURED })),
  };
}
