import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTransports, deliverEffect, EMAIL_NOT_CONFIGURED, messageIdFor, type EffectRequest, type EffectTransports } from '../src/effects';

// ---- a receiver that honours Idempotency-Key: it acts once per key and replays its answer

interface Received {
  method: string;
  path: string;
  key: string | undefined;
  contentType: string | undefined;
  body: string;
}
const received: Received[] = [];
const actedOn = new Map<string, unknown>();
const flakyFailures = new Map<string, number>();
let server: Server;
let base: string;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });
}

beforeAll(async () => {
  server = createHttpServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url!, 'http://x');
    const key = req.headers['idempotency-key'] as string | undefined;
    received.push({ method: req.method!, path: url.pathname, key, contentType: req.headers['content-type'], body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    const [, route, arg] = url.pathname.split('/');
    if (route === 'orders') {
      // fails the first `fail` deliveries of a key with 503, then acts once and replays
      const failures = flakyFailures.get(key!) ?? 0;
      if (failures < Number(url.searchParams.get('fail') ?? 0)) {
        flakyFailures.set(key!, failures + 1);
        return json(503, { error: 'busy' });
      }
      if (!actedOn.has(key!)) actedOn.set(key!, { orderId: `o-${actedOn.size + 1}`, got: JSON.parse(body || 'null') });
      return json(201, actedOn.get(key!));
    }
    if (route === 'status') return json(Number(arg), { status: Number(arg) });
    if (route === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('plain words');
    }
    if (route === 'empty') {
      res.writeHead(204);
      return res.end();
    }
    if (route === 'slow') return setTimeout(() => json(200, { late: true }), 2_000);
    json(404, { error: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const http = (path: string, extra: Partial<Extract<EffectRequest, { kind: 'http' }>> = {}): EffectRequest => ({
  kind: 'http',
  method: 'POST',
  url: `${base}${path}`,
  headers: {},
  ...extra,
});
const transports = defaultTransports({}, { timeoutMs: 300 });
const sent = (key: string) => received.filter((r) => r.key === key);

describe('HTTP effects', () => {
  it('sends JSON with the Idempotency-Key and parses a JSON answer', async () => {
    const result = await deliverEffect(http('/orders', { body: { amount: 12.5, items: ['a'] }, headers: { 'X-Trace': 't1' } }), 'inst-1/step-1', transports);
    expect(result).toEqual({ ok: true, status: 201, result: { orderId: expect.stringMatching(/^o-/), got: { amount: 12.5, items: ['a'] } } });
    expect(sent('inst-1/step-1')).toEqual([{ method: 'POST', path: '/orders', key: 'inst-1/step-1', contentType: 'application/json', body: '{"amount":12.5,"items":["a"]}' }]);
  });

  it('redelivery with the same key reaches the receiver again, which acts once: at least once plus dedup is exactly once', async () => {
    const effect = http('/orders?fail=2', { body: { n: 1 } });
    const results = [];
    for (let attempt = 0; attempt < 4; attempt++) results.push(await deliverEffect(effect, 'inst-2/step-1', transports));
    expect(results.map((r) => (r.ok ? 'ok' : r.retryable ? 'retry' : 'fail'))).toEqual(['retry', 'retry', 'ok', 'ok']);
    expect(sent('inst-2/step-1')).toHaveLength(4);
    expect(results[2]).toEqual(results[3]);
    expect([...actedOn.keys()].filter((k) => k === 'inst-2/step-1')).toHaveLength(1);
  });

  it('property: every delivery of an effect carries exactly its own key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9:/._-]{1,40}$/), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 3 }), async (keys, times) => {
        const before = received.length;
        for (let i = 0; i < times; i++) await Promise.all(keys.map((k) => deliverEffect(http('/orders', { body: { k } }), `p:${k}`, transports)));
        const batch = received.slice(before);
        expect(batch).toHaveLength(keys.length * times);
        for (const k of keys) expect(batch.filter((r) => r.key === `p:${k}`).map((r) => JSON.parse(r.body))).toEqual(Array(times).fill({ k }));
      }),
      { numRuns: 15 },
    );
  });

  it.each([
    [200, true, false],
    [299, true, false],
    [400, false, false],
    [401, false, false],
    [404, false, false],
    [409, false, false],
    [422, false, false],
    [408, false, true],
    [429, false, true],
    [500, false, true],
    [502, false, true],
    [503, false, true],
  ])('status %i: ok %s, retryable %s', async (status, ok, retryable) => {
    const result = await deliverEffect(http(`/status/${status}`), `s-${status}`, transports);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.retryable).toBe(retryable);
      expect(result.error).toContain(`answered ${status}: {"status":${status}}`);
    }
  });

  it('text and empty answers, and GET without a body', async () => {
    expect(await deliverEffect(http('/text', { method: 'get', body: { ignored: true } }), 'g-1', transports)).toEqual({ ok: true, status: 200, result: 'plain words' });
    expect(sent('g-1')[0]).toMatchObject({ method: 'GET', body: '' });
    expect(await deliverEffect(http('/empty', { method: 'DELETE' }), 'd-1', transports)).toEqual({ ok: true, status: 204, result: null });
  });

  it('a receiver that does not answer in time is a retryable timeout', async () => {
    const started = Date.now();
    const result = await deliverEffect(http('/slow'), 'slow-1', transports);
    expect(result).toEqual({ ok: false, retryable: true, error: expect.stringContaining('no response within 300 ms') });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a refused connection is retryable; a URL that is not http(s) is never called', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createTcpServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    expect(await deliverEffect({ kind: 'http', method: 'POST', url: `http://127.0.0.1:${closed}/x`, headers: {} }, 'c-1', transports)).toMatchObject({ ok: false, retryable: true });
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'not a url']) {
      const result = await deliverEffect({ kind: 'http', method: 'GET', url, headers: {} }, 'u-1', transports);
      expect(result).toMatchObject({ ok: false, retryable: false });
    }
  });

  it('a transport that throws becomes a retryable failure', async () => {
    const broken: EffectTransports = {
      http: () => Promise.reject(new Error('boom')),
      email: () => {
        throw new Error('sync boom');
      },
    };
    expect(await deliverEffect(http('/x'), 'k', broken)).toEqual({ ok: false, retryable: true, error: 'the http transport failed: boom' });
    expect(await deliverEffect({ kind: 'email', to: ['a@b.test'], subject: 's', body: 'b' }, 'k', broken)).toMatchObject({ ok: false, retryable: true });
  });
});

// ---- a minimal SMTP server: enough of RFC 5321 for nodemailer, recording each message

interface Mail {
  from: string;
  to: string[];
  data: string;
}
interface Sink {
  port: number;
  mails: Mail[];
  /** replies to force: a recipient to refuse with 550, or a 451 at the end of DATA */
  refuse: Set<string>;
  tempFailData: boolean;
  close(): Promise<void>;
}

async function startSmtpSink(): Promise<Sink> {
  const sockets = new Set<Socket>();
  const sink: Sink = { port: 0, mails: [], refuse: new Set(), tempFailData: false, close: async () => undefined };
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let mail: Mail = { from: '', to: [], data: '' };
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 sink.test ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            if (sink.tempFailData) reply('451 4.3.0 try again later');
            else {
              sink.mails.push(mail);
              reply('250 2.0.0 queued');
            }
            mail = { from: '', to: [], data: '' };
          } else mail.data += `${line.startsWith('..') ? line.slice(1) : line}\r\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') reply('250-sink.test\r\n250 8BITMIME');
        else if (verb === 'MAIL') (mail.from = /<(.*)>/.exec(line)?.[1] ?? ''), reply('250 2.1.0 ok');
        else if (verb === 'RCPT') {
          const to = /<(.*)>/.exec(line)?.[1] ?? '';
          if (sink.refuse.has(to)) reply('550 5.1.1 no such user');
          else mail.to.push(to), reply('250 2.1.5 ok');
        } else if (verb === 'DATA') (inData = true), reply('354 go ahead');
        else if (verb === 'RSET') (mail = { from: '', to: [], data: '' }), reply('250 ok');
        else if (verb === 'QUIT') reply('221 bye'), socket.end();
        else reply('250 ok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.address() as AddressInfo).port;
  sink.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return sink;
}

const header = (data: string, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(data)?.[1];

describe('email effects', () => {
  let sink: Sink;
  let mailer: EffectTransports;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = defaultTransports({ TESSERA_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, TESSERA_MAIL_FROM: 'Tessera <flows@acme.test>' });
  });
  afterAll(() => sink?.close());

  it('without TESSERA_SMTP_URL an email is refused for good', async () => {
    expect(await deliverEffect({ kind: 'email', to: ['a@acme.test'], subject: 's', body: 'b' }, 'k', defaultTransports({}))).toEqual({
      ok: false,
      retryable: false,
      error: EMAIL_NOT_CONFIGURED,
    });
  });

  it('sends over SMTP with the idempotency key as the Message-ID, the same on every delivery', async () => {
    const effect: EffectRequest = { kind: 'email', to: ['boss@acme.test', 'amy@acme.test'], subject: 'Deal 42 needs you', body: 'Please approve.' };
    const first = await deliverEffect(effect, 'inst-9/notify-1', mailer);
    const again = await deliverEffect(effect, 'inst-9/notify-1', mailer);
    expect(first).toMatchObject({ ok: true, result: { messageId: '<inst-9/notify-1@acme.test>', accepted: ['boss@acme.test', 'amy@acme.test'], rejected: [] } });
    expect(again).toEqual(first);
    expect(sink.mails).toHaveLength(2);
    for (const mail of sink.mails) {
      expect(mail.from).toBe('flows@acme.test');
      expect(mail.to).toEqual(['boss@acme.test', 'amy@acme.test']);
      expect(header(mail.data, 'Message-ID')).toBe('<inst-9/notify-1@acme.test>');
      expect(header(mail.data, 'Subject')).toBe('Deal 42 needs you');
      expect(mail.data).toContain('Please approve.');
    }
  });

  it('keys with characters a Message-ID cannot hold are encoded, distinct keys stay distinct', () => {
    expect(messageIdFor('a b<c>@d', 'x@acme.test')).toBe('<a=20b=3cc=3e=40d@acme.test>');
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const id = messageIdFor(a, 'flows@acme.test');
        expect(id).toMatch(/^<[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]*@acme\.test>$/);
        if (a !== b) expect(messageIdFor(b, 'flows@acme.test')).not.toBe(id);
      }),
    );
  });

  it('a 5xx reply is permanent, a 4xx is retryable, a bad address is refused before sending', async () => {
    sink.refuse.add('nobody@acme.test');
    expect(await deliverEffect({ kind: 'email', to: ['nobody@acme.test'], subject: 's', body: 'b' }, 'e-1', mailer)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('550') });
    sink.tempFailData = true;
    expect(await deliverEffect({ kind: 'email', to: ['amy@acme.test'], subject: 's', body: 'b' }, 'e-2', mailer)).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('451') });
    sink.tempFailData = false;
    expect(await deliverEffect({ kind: 'email', to: ['not an address'], subject: 's', body: 'b' }, 'e-3', mailer)).toEqual({ ok: false, retryable: false, error: 'not an email address: not an address' });
    expect(await deliverEffect({ kind: 'email', to: [], subject: 's', body: 'b' }, 'e-4', mailer)).toMatchObject({ ok: false, retryable: false });
  });

  it('an SMTP server that is down is retryable', async () => {
    const down = await startSmtpSink();
    await down.close();
    const result = await deliverEffect({ kind: 'email', to: ['a@acme.test'], subject: 's', body: 'b' }, 'e-5', defaultTransports({ TESSERA_SMTP_URL: `smtp://127.0.0.1:${down.port}` }));
    expect(result).toMatchObject({ ok: false, retryable: true });
  });
});
