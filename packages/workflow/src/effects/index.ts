export { defaultTransports, deliverEffect } from './deliver';
export { deliverHttp, DEFAULT_HTTP_TIMEOUT_MS, MAX_RESPONSE_BYTES, type HttpTransportOptions } from './http';
export { emailSender, emailSettingsFrom, EMAIL_NOT_CONFIGURED, messageIdFor, type EmailSettings } from './email';
export type { EffectRequest, EffectResult, EffectTransports, EmailEffect, HttpEffect } from './types';
