import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { AppDocument } from '@tessera/metadata';
import { expectProblem, startHarness, type Harness } from './harness';

const KEYS = `k1:${randomBytes(32).toString('base64')}`;

function patientApp(): AppDocument {
  return {
    objects: [
      {
        key: 'patient',
        label: { en: 'Patient' },
        titleField: 'name',
        fields: [
          { key: 'name', type: 'text', label: { en: 'Name' } },
          { key: 'id_number', type: 'text', label: { en: 'ID number' }, encrypted: true },
        ],
      },
    ],
  };
}

describe('encrypted fields over HTTP', () => {
  let h: Harness;
  const saved = process.env.TESSERA_ENCRYPTION_KEYS;
  beforeAll(async () => {
    delete process.env.TESSERA_ENCRYPTION_KEYS;
    h = await startHarness();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.TESSERA_ENCRYPTION_KEYS;
    else process.env.TESSERA_ENCRYPTION_KEYS = saved;
    await h?.close();
  });

  it('refuses to publish an app with an encrypted field while no key is configured, saying what to set', async () => {
    expect((await h.call('POST', '/api/apps', { key: 'clinic', draft: patientApp() })).statusCode).toBe(201);
    const refused = await h.call('POST', '/api/apps/clinic/publish', {});
    expect(refused.statusCode).toBe(422);
    expect(expectProblem(refused).errors).toContainEqual(
      expect.objectContaining({ field: 'objects/0/fields/1/encrypted', code: 'no_encryption_key', message: expect.stringContaining('TESSERA_ENCRYPTION_KEYS') }),
    );
    process.env.TESSERA_ENCRYPTION_KEYS = KEYS;
    expect((await h.call('POST', '/api/apps/clinic/publish', {})).statusCode).toBe(201);
  });

  it('answers plaintext, stores ciphertext, and writes one audit entry per request that decrypted values', async () => {
    const created = await h.call('POST', '/api/apps/clinic/records/patient', { name: 'Li Lei', id_number: '310101198001011234' });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: string };
    const row = await h.database.db.selectFrom('records').select('data').where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row.data)).not.toContain('310101198001011234');

    const got = await h.call('GET', `/api/apps/clinic/records/patient/${id}`);
    expect(got.json()).toMatchObject({ id_number: '310101198001011234' });
    const filter = encodeURIComponent(JSON.stringify({ '==': [{ var: 'id_number' }, '310101198001011234'] }));
    const found = await h.call('GET', `/api/apps/clinic/records/patient?filter=${filter}`);
    expect((found.json() as { items: Array<{ id: string }> }).items.map((r) => r.id)).toEqual([id]);
    const history = await h.call('GET', `/api/apps/clinic/records/patient/${id}/history`);
    expect((history.json() as { items: Array<{ changes: Record<string, { after: unknown }> }> }).items[0]!.changes.id_number!.after).toBe('310101198001011234');

    const audit = (await h.call('GET', '/api/audit?action=record.decrypt')).json() as {
      items: Array<{ details: { method: string; url: string; reads: Array<{ object: string; recordIds: string[]; fields: string[] }> } }>;
    };
    // create (answers the record), get, list, history: four requests, four entries
    expect(audit.items).toHaveLength(4);
    for (const entry of audit.items) expect(entry.details.reads).toEqual([{ object: 'patient', count: 1, recordIds: [id], fields: ['id_number'] }]);
    expect(audit.items.map((e) => e.details.method)).toEqual(['GET', 'GET', 'GET', 'POST']);
    expect(JSON.stringify(audit.items)).not.toContain('310101198001011234');

    const none = await h.call('GET', `/api/apps/clinic/records/patient?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'name' }, 'nobody'] }))}`);
    expect(none.statusCode).toBe(200);
    expect(((await h.call('GET', '/api/audit?action=record.decrypt')).json() as { items: unknown[] }).items).toHaveLength(4);
  });

  it('refuses other filters and sorts on the encrypted field with a 400 naming it', async () => {
    const filter = encodeURIComponent(JSON.stringify({ startsWith: [{ var: 'id_number' }, '3101'] }));
    const res = await h.call('GET', `/api/apps/clinic/records/patient?filter=${filter}`);
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).errors[0]).toMatchObject({ field: 'filter', code: 'encrypted_field' });
    expect((await h.call('GET', '/api/apps/clinic/records/patient?sort=id_number')).statusCode).toBe(400);
  });
});
