import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

// Each migration runs once, in order; `user_version` records how far a file got.
const migrations: string[] = [
  `
  CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    class TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  -- One row per (subscription, node, resource): armed or fired, plus the
  -- progress of a "for" clause, so a restart neither repeats nor loses a crossing.
  CREATE TABLE threshold_states (
    subscription TEXT NOT NULL,
    node TEXT NOT NULL,
    resource TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('armed', 'fired')),
    progress TEXT,
    last_event TEXT,
    PRIMARY KEY (subscription, node, resource)
  ) WITHOUT ROWID;
  -- The latest sample of each resource: $prev after a restart, and GET /v1/resources.
  CREATE TABLE samples (
    class TEXT NOT NULL,
    node TEXT NOT NULL,
    resource TEXT NOT NULL,
    time INTEGER NOT NULL,
    attrs TEXT NOT NULL,
    PRIMARY KEY (class, node, resource)
  ) WITHOUT ROWID;
  -- The event log; pos is this node's delivery order.
  CREATE TABLE events (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    subscription TEXT NOT NULL,
    class TEXT NOT NULL,
    time INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX events_class ON events (class, pos);
  CREATE INDEX events_subscription ON events (subscription, pos);
  CREATE UNIQUE INDEX events_origin_seq ON events (origin, seq);
  -- Highest seq issued (for this node) or held (for peers), per origin.
  CREATE TABLE origin_progress (
    origin TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  );
  -- Outbox and audit of script actions: a row is written in the same
  -- transaction as its event, so delivery to actions is at least once.
  CREATE TABLE action_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    subscription TEXT NOT NULL,
    action_index INTEGER NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'ok', 'failed', 'timeout')),
    attempt INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    signal TEXT,
    error TEXT,
    stdout TEXT,
    stderr TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    UNIQUE (event_id, subscription, action_index)
  );
  CREATE INDEX action_runs_open ON action_runs (status) WHERE status IN ('pending', 'running');
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  -- How far each consumer (consumers/<name>) has got through the event log:
  -- every event at or below pos is done. The events table is the outbox; this
  -- is its cursor, and pruning keeps every event above a running consumer's pos.
  CREATE TABLE consumer_cursors (
    consumer TEXT PRIMARY KEY,
    pos INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  `
  -- The cluster core's durable state (services/eventd/cluster/store.ts):
  -- every frame-visible fact is written in the step that made it, in one
  -- transaction with the deliveries of that step.
  CREATE TABLE cluster_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL
  );
  CREATE TABLE cluster_members (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Every event the core holds, own and peers', for anti-entropy.
  CREATE TABLE cluster_events (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (origin, seq)
  ) WITHOUT ROWID;
  CREATE TABLE cluster_progress (
    origin TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE cluster_subscriptions (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Responses (issue 14): every action kind is retried through the outbox, so
  -- a run may wait ('retrying', until next_at) or be skipped with a reason
  -- (silenced, outside-window, inhibited, flapping); each attempt is audited
  -- in action_attempts. The table is rebuilt because SQLite cannot alter a CHECK.
  CREATE TABLE action_runs_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    subscription TEXT NOT NULL,
    action_index INTEGER NOT NULL,
    response TEXT,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'retrying', 'ok', 'failed', 'timeout', 'skipped')),
    attempt INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    signal TEXT,
    http_status INTEGER,
    smtp_reply TEXT,
    error TEXT,
    stdout TEXT,
    stderr TEXT,
    reason TEXT,
    detail TEXT,
    node TEXT,
    batch TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    next_at INTEGER,
    UNIQUE (event_id, subscription, action_index)
  );
  INSERT INTO action_runs_v2 (id, event_id, subscription, action_index, spec, status, attempt, exit_code, signal, error, stdout, stderr, created_at, started_at, ended_at)
    SELECT id, event_id, subscription, action_index, spec, status, attempt, exit_code, signal, error, stdout, stderr, created_at, started_at, ended_at FROM action_runs;
  DROP TABLE action_runs;
  ALTER TABLE action_runs_v2 RENAME TO action_runs;
  CREATE INDEX action_runs_open ON action_runs (status) WHERE status IN ('pending', 'running', 'retrying');
  CREATE INDEX action_runs_event ON action_runs (event_id);
  CREATE TABLE action_attempts (
    run_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    exit_code INTEGER,
    signal TEXT,
    http_status INTEGER,
    smtp_reply TEXT,
    error TEXT,
    PRIMARY KEY (run_id, attempt)
  ) WITHOUT ROWID;
  -- Named responses (ERRM's mkresponse) and silences (Alertmanager's), by name / id.
  CREATE TABLE responses (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    ends_at INTEGER NOT NULL,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Flap detection: the last states of each (subscription, node, resource), '1' fired.
  CREATE TABLE flap_states (
    subscription TEXT NOT NULL,
    node TEXT NOT NULL,
    resource TEXT NOT NULL,
    history TEXT NOT NULL,
    flapping INTEGER NOT NULL,
    PRIMARY KEY (subscription, node, resource)
  ) WITHOUT ROWID;
  `,
  `
  -- Who changed what through the API, and when (GET /v1/audit): one row per
  -- write request (POST, PUT, PATCH, DELETE), refused ones included.
  CREATE TABLE api_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    who TEXT NOT NULL,
    via TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    subject TEXT
  );
  `,
  `
  -- Why a subscription stopped being evaluated on this node (its status
  -- "error"): it ran out of its evaluation budget. Per node, beside the
  -- subscription rather than in its body, since a cluster subscription's body
  -- is replicated and a fault is what this node saw. Kept until the
  -- subscription is changed (PATCH) or deleted, so a restart does not run the
  -- expression again.
  CREATE TABLE subscription_faults (
    subscription TEXT PRIMARY KEY,
    field TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    node TEXT NOT NULL,
    resource TEXT NOT NULL,
    at INTEGER NOT NULL,
    event TEXT
  ) WITHOUT ROWID;
  -- Runtime errors per (subscription, node, resource): how many evaluations
  -- failed, the last error, and whether the latest evaluation failed.
  CREATE TABLE evaluation_errors (
    subscription TEXT NOT NULL,
    node TEXT NOT NULL,
    resource TEXT NOT NULL,
    errors INTEGER NOT NULL,
    failing INTEGER NOT NULL CHECK (failing IN (0, 1)),
    field TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    position INTEGER,
    at INTEGER NOT NULL,
    PRIMARY KEY (subscription, node, resource)
  ) WITHOUT ROWID;
  `,
  `
  -- Inhibition rules made through the API (POST /v1/inhibit), by id; the
  -- config's own rules are not stored (the config is their one place).
  CREATE TABLE inhibit_rules (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- The agreed order (cluster/core/sequencer.ts): the replicated log of
  -- ordering decisions, position -> event (or view of the primary), and each
  -- agreed event's position in the cluster's agreed sequence, the same on
  -- every node (NULL for fifo and local events).
  CREATE TABLE cluster_decisions (
    position INTEGER PRIMARY KEY,
    body TEXT NOT NULL
  );
  ALTER TABLE events ADD COLUMN position INTEGER;
  CREATE INDEX events_subscription_position ON events (subscription, position);
  `,
  `
  -- No query reads events by (subscription, position): the index only cost
  -- a b-tree write per appended event (issue 11, a burst's receiver).
  DROP INDEX events_subscription_position;
  `,
  `
  -- One insert per event (issue 11): a cluster event in this node's log is
  -- also the cluster core's copy of it. cluster_order and cluster_reach say
  -- how the core replicates the row (NULL: not the core's, e.g. a Cluster view
  -- record or an event of a node without a cluster); the core rebuilds its
  -- event from the row (sqlite-core-store.ts). Events the log does not keep
  -- (peers' local events, agreed events not yet placed) stay in
  -- cluster_events, and so does a row the log's retention prunes
  -- (store/events.ts prune): catch-up never depends on the user's retention.
  ALTER TABLE events ADD COLUMN cluster_order TEXT;
  ALTER TABLE events ADD COLUMN cluster_reach TEXT;
  `,
];

/** Opens (creating if needed) the node's SQLite store in WAL mode and brings its schema up to date. */
export function openDb(dataDir: string, file = 'eventd.db'): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, file));
  db.pragma('journal_mode = WAL');
  // FULL: a committed event survives power loss, not only kill -9. Commits are
  // per sample batch, so the fsync cost is paid once per producer period.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
