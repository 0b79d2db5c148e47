import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { buildServer } from '../src/index';
import { expectProblem, publishApp, startHarness, type Harness } from './harness';

describe('error responses', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ bodyLimit: 64 * 1024 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers malformed JSON with 400 naming the body', async () => {
    const res = await h.call('POST', '/api/apps', '{"key": "crm",', { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).errors).toEqual([expect.objectContaining({ field: 'body', code: 'malformed_json' })]);
    expect((await h.call('GET', '/api/apps')).json()).toEqual({ items: [] });
  });

  it('answers an oversized body with 413 and stores nothing', async () => {
    const big = { key: 'big', name: { en: 'x'.repeat(70 * 1024) } };
    const res = await h.call('POST', '/api/apps', big);
    expect(res.statusCode).toBe(413);
    expectProblem(res);
    expect((await h.call('GET', '/api/apps')).json()).toEqual({ items: [] });
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await h.call('POST', '/api/apps', 'key=crm', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode).toBe(415);
    expectProblem(res);
  });

  it('answers unknown routes with a 404 problem, with or without credentials', async () => {
    for (const res of [await h.call('GET', '/api/nothing/here'), await h.app.inject({ method: 'GET', url: '/nowhere' })]) {
      expect(res.statusCode).toBe(404);
      expectProblem(res);
    }
  });

  it('rejects a prototype-polluting body instead of parsing it', async () => {
    const res = await h.call('POST', '/api/apps', '{"key":"crm","__proto__":{"admin":true}}', { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(400);
    expectProblem(res);
  });

  it('a NUL character in a filter value, a search or a record answers 400, never 500', async () => {
    await publishApp(h, 'nul');
    const base = '/api/apps/nul/records/deal';
    const filter = encodeURIComponent(JSON.stringify({ '==': [{ var: 'title' }, 'a\u0000b'] }));
    for (const [res, status] of [
      [await h.call('GET', `${base}?filter=${filter}`), 400],
      [await h.call('GET', `${base}?q=${encodeURIComponent('x\u0000')}`), 400],
      [await h.call('POST', base, { title: 'x\u0000y' }), 422],
    ] as const) {
      expect(res.statusCode).toBe(status);
      expect(expectProblem(res).errors[0]?.code).toBe('invalid_character');
    }
  });

  it('names invalid path and query parameters', async () => {
    const badKey = await h.call('GET', '/api/apps/Not-A-Key/records/deal');
    expect(badKey.statusCode).toBe(400);
    expect(expectProblem(badKey).errors[0]?.field).toBe('app');
    const badLimit = await h.call('GET', '/api/apps/crm/records/deal?limit=100000');
    expect(badLimit.statusCode).toBe(400);
    expect(expectProblem(badLimit).errors[0]?.field).toBe('limit');
    const unknownParam = await h.call('GET', '/api/apps/crm/records/deal?colour=red');
    expect(unknownParam.statusCode).toBe(400);
    expect(expectProblem(unknownParam).errors[0]).toMatchObject({ field: 'colour', code: 'unknown_field' });
  });

  it('never answers a hostile request with a 5xx', async () => {
    const bodies = ['', 'null', '[]', '"x"', '1e999', '{"key":null}', '{"key":"' + 'a'.repeat(500) + '"}', '\u0000', '{"a":{"b":{"c":[[[[[]]]]]}}}'];
    const urls = ['/api/apps', '/api/apps/crm/draft', '/api/apps/crm/publish', '/api/apps/crm/rollback', '/api/apps/crm/records/deal', '/api/auth/login', '/api/auth/tokens'];
    for (const url of urls) {
      for (const body of bodies) {
        for (const method of ['POST', 'PUT'] as const) {
          const res = await h.call(method, url, body, { 'content-type': 'application/json' });
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`).toBeLessThan(500);
        }
      }
    }
  });

  it('answers an unexpected failure with a generic 500 problem and logs the cause', async () => {
    const logged: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const app = buildServer({ database: h.database, logger: { level: 'error', stream } });
    app.get('/api/boom', { config: { public: true } }, async () => {
      throw new Error('connection string postgres://secret');
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/boom' });
      expect(res.statusCode).toBe(500);
      expect(expectProblem(res).detail).not.toContain('secret');
      expect(logged.join('')).toContain('connection string postgres://secret');
    } finally {
      await app.close();
    }
  });
});
