-- Rule engine: autonumber counters, and the tasks and notifications automations create.

-- One counter per autonumber field and period ('' when the pattern has no date part,
-- '202405' for {YYYY}{MM}). Incremented with INSERT ... ON CONFLICT DO UPDATE in the
-- record's own transaction, so a rolled-back create gives its number back and two
-- concurrent creates can never draw the same one.
CREATE TABLE autonumber_counters (
  workspace_id uuid NOT NULL,
  object_id    text NOT NULL,
  field_id     text NOT NULL,
  period       text NOT NULL,
  value        bigint NOT NULL,
  PRIMARY KEY (workspace_id, object_id, field_id, period)
);

-- A to-do in a user's inbox, usually about a record.
CREATE TABLE tasks (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  user_id      uuid NOT NULL,
  title        text NOT NULL,
  due_date     date,
  record_id    uuid,
  object_id    text,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
  source       text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX tasks_user_idx ON tasks (workspace_id, user_id, status, id);

-- An in-app message to one user.
CREATE TABLE notifications (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  user_id      uuid NOT NULL,
  message      text NOT NULL,
  record_id    uuid,
  object_id    text,
  source       text NOT NULL DEFAULT '',
  read_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX notifications_user_idx ON notifications (workspace_id, user_id, id);
