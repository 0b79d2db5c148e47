-- Audit and credentials: an append-only audit log of everything that is not a record
-- write (metadata, logins, tokens, access changes, reads of encrypted fields, personal
-- data requests), "from where" on record history, role-scoped API tokens, and the
-- login lock-out state (in the database, so it holds across server processes).

CREATE TABLE audit_log (
  workspace_id uuid NOT NULL,
  -- uuidv7: time-ordered, so (workspace_id, id) is the keyset of "newest first"
  id           uuid NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  actor_id     uuid,
  -- e.g. 'auth.login', 'auth.login_failed', 'app.publish', 'record.decrypt', 'privacy.erase'
  action       text NOT NULL,
  target_type  text,
  target_id    text,
  source       text NOT NULL DEFAULT 'api',
  ip           text,
  user_agent   text,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX audit_log_actor_idx ON audit_log (workspace_id, actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (workspace_id, action, id);
CREATE INDEX audit_log_target_idx ON audit_log (workspace_id, target_id, id);

ALTER TABLE record_history ADD COLUMN ip text;
ALTER TABLE record_history ADD COLUMN user_agent text;
CREATE INDEX record_history_actor_idx ON record_history (workspace_id, actor_id, at);

-- Append-only by construction: UPDATE, DELETE and TRUNCATE are refused on both audit
-- tables. Two documented paths may rewrite values (never delete rows), each inside its
-- own transaction with the transaction-local setting tessera.audit_rewrite: 'erasure'
-- (a personal-data erasure) and 'rekey' (re-encrypting values under a new key). See
-- docs/security.md.
CREATE FUNCTION tessera_reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND coalesce(current_setting('tessera.audit_rewrite', true), '') IN ('erasure', 'rekey') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION tessera_reject_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_reject_audit_change();
CREATE TRIGGER record_history_append_only BEFORE UPDATE OR DELETE ON record_history
  FOR EACH ROW EXECUTE FUNCTION tessera_reject_audit_change();
CREATE TRIGGER record_history_no_truncate BEFORE TRUNCATE ON record_history
  FOR EACH STATEMENT EXECUTE FUNCTION tessera_reject_audit_change();

-- An API token may be narrowed to some of its user's app roles (by key); NULL = all of them.
ALTER TABLE auth_tokens ADD COLUMN roles text[];

-- Lock-out after repeated failed logins: the count within the current window, when the
-- window started, and until when the account is locked.
ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_login_window_at timestamptz;
ALTER TABLE users ADD COLUMN locked_until timestamptz;
