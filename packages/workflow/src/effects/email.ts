/**
 * Email effects over SMTP with nodemailer, configured by TESSERA_SMTP_URL
 * (smtp[s]://user:pass@host:port) and the sender TESSERA_MAIL_FROM. The idempotency key
 * becomes the Message-ID, which mail systems use to recognise the same message delivered
 * twice (an SMTP server may accept a message whose "250 OK" we never receive; the retry then
 * carries the same Message-ID).
 *
 * An SMTP 5xx reply (a rejected address, a refused login) is permanent and not retried; 4xx
 * replies and connection trouble are. Without TESSERA_SMTP_URL nothing can be sent, which is
 * a configuration problem for an admin, not a reason to retry.
 */
import { isEmail } from '@tessera/expr';
import { createTransport, type Transporter } from 'nodemailer';
import type { EffectResult, EmailEffect } from './types';

export const EMAIL_NOT_CONFIGURED = 'email is not configured (TESSERA_SMTP_URL)';

export interface EmailSettings {
  smtpUrl: string;
  from: string;
  /** ms for connecting, the greeting and each reply (default 10 s) */
  timeoutMs?: number;
}

/** the Message-ID for a key: '<' local-part '@' domain '>', with anything unsafe in the key encoded */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'tessera.invalid';
  const local = idempotencyKey.replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `<${local}@${domain}>`;
}

function isPermanent(error: { responseCode?: number; code?: string }): boolean {
  if (typeof error.responseCode === 'number') return error.responseCode >= 500;
  return error.code === 'EAUTH' || error.code === 'EMESSAGE';
}

export function emailSender(settings: EmailSettings): (req: EmailEffect, idempotencyKey: string) => Promise<EffectResult> {
  const timeout = settings.timeoutMs ?? 10_000;
  let transporter: Transporter | null = null;
  return async (req, idempotencyKey) => {
    const bad = req.to.filter((address) => !isEmail(address));
    if (req.to.length === 0) return { ok: false, retryable: false, error: 'the email has no recipient' };
    if (bad.length > 0) return { ok: false, retryable: false, error: `not an email address: ${bad.join(', ')}` };
    transporter ??= createTransport({ url: settings.smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
    try {
      const info = await transporter.sendMail({
        from: settings.from,
        to: req.to,
        subject: req.subject,
        text: req.body,
        messageId: messageIdFor(idempotencyKey, settings.from),
        headers: { 'X-Tessera-Idempotency-Key': idempotencyKey },
      });
      return { ok: true, result: { messageId: info.messageId, accepted: (info.accepted ?? []).map(String), rejected: (info.rejected ?? []).map(String) } };
    } catch (e) {
      const error = e as Error & { responseCode?: number; code?: string; response?: string };
      return { ok: false, retryable: !isPermanent(error), error: `SMTP: ${error.response ?? error.message}` };
    }
  };
}

export function emailSettingsFrom(env: NodeJS.ProcessEnv): EmailSettings | null {
  const smtpUrl = env.TESSERA_SMTP_URL;
  if (!smtpUrl) return null;
  return { smtpUrl, from: env.TESSERA_MAIL_FROM || 'Tessera <no-reply@tessera.invalid>' };
}
