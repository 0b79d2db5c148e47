-- Workflow engine: flow instances, their tokens, user tasks and timeline, the durable job
-- queue the workers claim from, the outbox of side effects, and incidents.
-- Every row is workspace-scoped; every statement of the engine filters by workspace_id,
-- except the worker's claim of due jobs, which serves all workspaces of a database.

-- One run of a flow. It stays on the app version it started on (app_version).
CREATE TABLE flow_instances (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  app_id       uuid NOT NULL,
  app_key      text NOT NULL,
  app_version  integer NOT NULL,
  flow_key     text NOT NULL,
  object_id    text,
  record_id    uuid,
  status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'cancelled', 'failed')),
  result       text,
  variables    jsonb NOT NULL DEFAULT '{}',
  -- node id -> times a token entered it: the <visit> of outbox idempotency keys and task rounds
  visits       jsonb NOT NULL DEFAULT '{}',
  -- a start that must happen once (a scheduled fire time): unique per workspace
  start_key    text,
  started_by   uuid,
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  ended_at     timestamptz,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX flow_instances_record_idx ON flow_instances (workspace_id, record_id, started_at) WHERE record_id IS NOT NULL;
CREATE UNIQUE INDEX flow_instances_start_key_idx ON flow_instances (workspace_id, start_key) WHERE start_key IS NOT NULL;

-- Where an instance is: one row per token. A token moves from node to node; a fork adds
-- tokens, a join consumes all but one. `arrived_by` is the edge a token waiting at a join
-- came in on: the join fires when every incoming edge has a waiting token, counted under
-- the instance's row lock, so two branches finishing at once join exactly once.
CREATE TABLE flow_tokens (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  instance_id  uuid NOT NULL,
  node_id      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('ready', 'waiting', 'joining', 'done', 'cancelled')),
  arrived_by   text,
  visit        integer NOT NULL DEFAULT 1,
  -- the approval state machine of the user task this token waits at
  state        jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, instance_id) REFERENCES flow_instances (workspace_id, id)
);
CREATE INDEX flow_tokens_instance_idx ON flow_tokens (workspace_id, instance_id, status);

-- A user task: one row per assignee of one visit of a user task node.
CREATE TABLE flow_tasks (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  instance_id  uuid NOT NULL,
  token_id     uuid NOT NULL,
  node_id      text NOT NULL,
  visit        integer NOT NULL,
  assignee_id  uuid NOT NULL,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  due_at       timestamptz,
  decision     text,
  comment      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, instance_id) REFERENCES flow_instances (workspace_id, id)
);
CREATE INDEX flow_tasks_assignee_idx ON flow_tasks (workspace_id, assignee_id, status, id);
CREATE INDEX flow_tasks_token_idx ON flow_tasks (workspace_id, token_id);

-- The timeline: append-only, one row per step (node, action, who, when, comment).
CREATE TABLE flow_events (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  instance_id  uuid NOT NULL,
  token_id     uuid,
  node_id      text,
  action       text NOT NULL,
  actor_id     uuid,
  comment      text,
  data         jsonb,
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX flow_events_instance_idx ON flow_events (workspace_id, instance_id, id);

-- The durable queue. A worker claims due jobs (FOR UPDATE SKIP LOCKED) with a lease; the
-- job's work, its deletion and the jobs it enqueues commit in one transaction. A job that
-- keeps failing is parked ('failed') with an incident until an admin retries it.
CREATE TABLE jobs (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  kind         text NOT NULL,
  payload      jsonb NOT NULL,
  instance_id  uuid,
  token_id     uuid,
  -- at most one pending job per key (a flow's next scheduled fire)
  key          text,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
  run_at       timestamptz NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  locked_by    text,
  locked_until timestamptz,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status = 'pending';
CREATE INDEX jobs_instance_idx ON jobs (workspace_id, instance_id) WHERE instance_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_key_idx ON jobs (workspace_id, key) WHERE key IS NOT NULL;

-- Side effects that leave the database (HTTP, email), written in the step's transaction
-- and delivered at least once by a job, with the idempotency key sent along; the delivery
-- is recorded once (delivered_at, result).
CREATE TABLE outbox (
  workspace_id    uuid NOT NULL,
  id              uuid NOT NULL,
  idempotency_key text NOT NULL,
  instance_id     uuid,
  token_id        uuid,
  node_id         text,
  effect          jsonb NOT NULL,
  -- the variable the result goes to; the token waits for the delivery when set
  result_variable text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  delivered_at    timestamptz,
  result          jsonb,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, idempotency_key)
);

-- A job or effect that kept failing: visible to admins, retried by them.
CREATE TABLE incidents (
  workspace_id uuid NOT NULL,
  id           uuid NOT NULL,
  job_id       uuid,
  job_kind     text NOT NULL,
  instance_id  uuid,
  node_id      text,
  error        text NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz,
  resolved_by  uuid,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX incidents_status_idx ON incidents (workspace_id, status, id);
