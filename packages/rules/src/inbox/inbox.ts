import { sql, type Kysely } from 'kysely';
import type { SystemDatabase } from '@tessera/store';

export const INBOX_LIMIT = 200;

export interface InboxTask {
  id: string;
  title: string;
  dueDate: string | null;
  recordId: string | null;
  objectId: string | null;
  status: 'open' | 'done';
  createdAt: string;
}

export interface InboxNotification {
  id: string;
  message: string;
  recordId: string | null;
  objectId: string | null;
  readAt: string | null;
  createdAt: string;
}

/** A user's tasks (the ones automations assigned), newest first. */
export async function listTasks(db: Kysely<SystemDatabase>, workspaceId: string, userId: string, status: 'open' | 'done' = 'open'): Promise<InboxTask[]> {
  const { rows } = await sql<{ id: string; title: string; due_date: string | null; record_id: string | null; object_id: string | null; status: 'open' | 'done'; created_at: Date | string }>`
    SELECT id, title, due_date::text AS due_date, record_id, object_id, status, created_at
    FROM tasks
    WHERE workspace_id = ${workspaceId} AND user_id = ${userId} AND status = ${status}
    ORDER BY created_at DESC, id DESC LIMIT ${INBOX_LIMIT}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    dueDate: r.due_date,
    recordId: r.record_id,
    objectId: r.object_id,
    status: r.status,
    createdAt: iso(r.created_at),
  }));
}

/** A user's in-app notifications, newest first. */
export async function listNotifications(db: Kysely<SystemDatabase>, workspaceId: string, userId: string): Promise<InboxNotification[]> {
  const { rows } = await sql<{ id: string; message: string; record_id: string | null; object_id: string | null; read_at: Date | string | null; created_at: Date | string }>`
    SELECT id, message, record_id, object_id, read_at, created_at
    FROM notifications
    WHERE workspace_id = ${workspaceId} AND user_id = ${userId}
    ORDER BY created_at DESC, id DESC LIMIT ${INBOX_LIMIT}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    message: r.message,
    recordId: r.record_id,
    objectId: r.object_id,
    readAt: r.read_at === null ? null : iso(r.read_at),
    createdAt: iso(r.created_at),
  }));
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
