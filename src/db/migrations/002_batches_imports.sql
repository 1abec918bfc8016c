-- Codes at scale: generated batches, third-party imports, and how codes are found by them.

-- Batches and imports draw ids from one sequence, so a code's source_id names exactly one of them.
CREATE SEQUENCE code_source_ids;

CREATE TABLE batches (
  id            bigint PRIMARY KEY DEFAULT nextval('code_source_ids'),
  list_id       bigint NOT NULL REFERENCES lists (id),
  name          text,
  requested     integer NOT NULL CHECK (requested > 0),
  generated     integer NOT NULL DEFAULT 0,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
  error         text,
  notify        text[] NOT NULL DEFAULT '{}',
  format        jsonb NOT NULL,
  format_key    text NOT NULL,
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  CHECK (generated <= requested)
);
CREATE INDEX batches_list ON batches (list_id, id);

-- Codes requested per generated format, reserved when a batch is accepted so that concurrent
-- requests cannot together break the sparsity rule; a failed batch gives back what it did not make.
CREATE TABLE code_formats (
  format_key  text PRIMARY KEY,
  reserved    bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0)
);

CREATE TABLE imports (
  id               bigint PRIMARY KEY DEFAULT nextval('code_source_ids'),
  list_id          bigint NOT NULL REFERENCES lists (id),
  name             text,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
  total_lines      integer NOT NULL DEFAULT 0,
  processed_lines  integer NOT NULL DEFAULT 0,
  accepted         integer NOT NULL DEFAULT 0,
  rejected         integer NOT NULL DEFAULT 0,
  error            text,
  notify           text[] NOT NULL DEFAULT '{}',
  created_by       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
CREATE INDEX imports_list ON imports (list_id, id);

-- An upload, staged line by line (code is null when the line holds no valid code), until the
-- import job has moved it into codes; then the lines are deleted.
CREATE TABLE import_lines (
  import_id  bigint NOT NULL,
  line       integer NOT NULL,
  value      text NOT NULL,
  code       text COLLATE "C",
  PRIMARY KEY (import_id, line)
);

CREATE TABLE import_rejections (
  import_id  bigint NOT NULL REFERENCES imports (id),
  line       integer NOT NULL,
  value      text NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('duplicate', 'invalid', 'code_taken')),
  PRIMARY KEY (import_id, line)
);

-- The codes of a batch or import. On source_id alone, deduplicated into one entry per batch,
-- it costs next to nothing when a million codes are inserted (with code as a second column it
-- made generation ~60% slower). Pages in code order use it for small sources and the primary
-- key for large ones.
CREATE INDEX codes_by_source ON codes (source_id);

-- Live worker processes, so that jobs locked by a worker that died can be handed to another.
CREATE TABLE worker_heartbeats (
  worker_id  text PRIMARY KEY,
  seen_at    timestamptz NOT NULL DEFAULT now()
);
