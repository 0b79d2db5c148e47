-- People and their organisation, which record scopes, approval assignees and sharing
-- resolve against: a user's manager, teams (with a manager and a parent team) and the
-- app roles a user holds. Roles themselves are app metadata (the `roles` section).

ALTER TABLE users ADD COLUMN manager_id uuid;

CREATE TABLE teams (
  workspace_id uuid NOT NULL REFERENCES workspaces (workspace_id),
  id           uuid NOT NULL,
  name         text NOT NULL,
  manager_id   uuid,
  parent_id    uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE team_members (
  workspace_id uuid NOT NULL,
  team_id      uuid NOT NULL,
  user_id      uuid NOT NULL,
  PRIMARY KEY (workspace_id, team_id, user_id),
  FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id)
);
CREATE INDEX team_members_user_idx ON team_members (workspace_id, user_id);

-- An app role (by key) held by a user in one app.
CREATE TABLE user_roles (
  workspace_id uuid NOT NULL,
  app_id       uuid NOT NULL,
  user_id      uuid NOT NULL,
  role_key     text NOT NULL,
  PRIMARY KEY (workspace_id, app_id, user_id, role_key),
  FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id)
);
CREATE INDEX user_roles_role_idx ON user_roles (workspace_id, app_id, role_key);
