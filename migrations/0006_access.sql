-- Record sharing and the indexes record scopes need.

-- A record shared with one user or one team, to read or to edit. Exactly one of
-- user_id / team_id is set. Scopes read this table; it is keyed by the record first,
-- since a scope asks "is this record shared with me?" per candidate row.
CREATE TABLE record_shares (
  workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id),
  id           uuid NOT NULL,
  record_id    uuid NOT NULL,
  user_id      uuid,
  team_id      uuid,
  level        text NOT NULL CHECK (level IN ('read', 'edit')),
  granted_by   uuid,
  granted_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  CHECK ((user_id IS NULL) <> (team_id IS NULL)),
  FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id),
  FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX record_shares_user_key ON record_shares (workspace_id, record_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX record_shares_team_key ON record_shares (workspace_id, record_id, team_id) WHERE team_id IS NOT NULL;
CREATE INDEX record_shares_user_idx ON record_shares (workspace_id, user_id, record_id) WHERE user_id IS NOT NULL;
CREATE INDEX record_shares_team_idx ON record_shares (workspace_id, team_id, record_id) WHERE team_id IS NOT NULL;

-- "own" and "team" scopes select by owner within one object; live records only, which
-- every scoped read asks for, so a scoped count can be an index-only scan.
CREATE INDEX records_owner_idx ON records (workspace_id, object_id, owner_id, id) WHERE deleted_at IS NULL;
CREATE INDEX users_manager_idx ON users (workspace_id, manager_id) WHERE manager_id IS NOT NULL;
CREATE INDEX teams_manager_idx ON teams (workspace_id, manager_id) WHERE manager_id IS NOT NULL;
