-- Foundation: tenants, people, credentials, apps with immutable versions, the generic
-- record store and its history. Every table carries workspace_id and every primary key
-- and unique index starts with it, so the store can be distributed by tenant (Citus).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE workspaces (
  workspace_id uuid PRIMARY KEY,
  name         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  workspace_id  uuid NOT NULL REFERENCES workspaces (workspace_id),
  id            uuid NOT NULL,
  email         text NOT NULL,
  name          text NOT NULL DEFAULT '',
  password_hash text,
  is_admin      boolean NOT NULL DEFAULT false,
  locale        text NOT NULL DEFAULT 'zh',
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX users_email_key ON users (workspace_id, lower(email));
CREATE INDEX users_email_lookup ON users (lower(email));

-- Sessions (from login) and personal API tokens. Only a SHA-256 of the secret is kept.
CREATE TABLE auth_tokens (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  user_id      uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('session', 'api')),
  name         text NOT NULL DEFAULT '',
  token_hash   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id)
);
CREATE UNIQUE INDEX auth_tokens_hash_key ON auth_tokens (workspace_id, token_hash);

CREATE TABLE apps (
  workspace_id    uuid NOT NULL REFERENCES workspaces (workspace_id),
  id              uuid NOT NULL,
  key             text NOT NULL,
  name            jsonb NOT NULL DEFAULT '{}'::jsonb,
  draft           jsonb NOT NULL,
  draft_updated_at timestamptz NOT NULL DEFAULT now(),
  draft_updated_by uuid,
  -- the running app is a pointer to one published version; rollback moves the pointer
  current_version integer,
  latest_version  integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX apps_key_key ON apps (workspace_id, key);

CREATE TABLE app_versions (
  workspace_id uuid NOT NULL,
  app_id       uuid NOT NULL,
  version      integer NOT NULL,
  document     jsonb NOT NULL,
  change_plan  jsonb NOT NULL,
  note         text NOT NULL DEFAULT '',
  published_at timestamptz NOT NULL DEFAULT now(),
  published_by uuid,
  PRIMARY KEY (workspace_id, app_id, version),
  FOREIGN KEY (workspace_id, app_id) REFERENCES apps (workspace_id, id)
);

-- One physical table for every object's records. Values live in `data` by field id.
CREATE TABLE records (
  workspace_id uuid NOT NULL,
  object_id    text NOT NULL,
  id           uuid NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  data         jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- concatenated searchable text, kept by the repository on every write, for trigram search
  search_text  text NOT NULL DEFAULT '',
  owner_id     uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  created_by   uuid,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  updated_by   uuid,
  deleted_at   timestamptz,
  PRIMARY KEY (workspace_id, id)
);
-- default list order (newest id first; ids are uuidv7, so time-ordered) and object scans
CREATE INDEX records_object_id_idx ON records (workspace_id, object_id, id);
CREATE INDEX records_search_trgm_idx ON records USING gin (search_text gin_trgm_ops);

-- Append-only audit of record writes: who, when, from where, before/after per field id.
CREATE TABLE record_history (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  record_id    uuid NOT NULL,
  object_id    text NOT NULL,
  version      integer NOT NULL,
  action       text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
  changes      jsonb NOT NULL,
  actor_id     uuid,
  source       text NOT NULL DEFAULT 'api',
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX record_history_record_idx ON record_history (workspace_id, record_id, version);

-- Indexes the index manager created for indexed/unique fields, so it can drop the ones
-- no longer wanted and never creates one twice.
CREATE TABLE field_indexes (
  workspace_id uuid NOT NULL,
  name         text NOT NULL,
  object_id    text NOT NULL,
  field_id     text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('index', 'unique')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, name)
);
