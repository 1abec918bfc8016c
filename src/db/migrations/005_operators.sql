-- Dashboard operators and their sessions (docs/product.md): people who sign in to the dashboard with
-- an email and a password, holding the same roles as API keys.

CREATE TABLE operators (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email                 text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  name                  text CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 200),
  role                  text NOT NULL CHECK (role IN ('admin', 'agent', 'client')),
  -- scrypt, self-describing: scrypt$<N>$<r>$<p>$<salt>$<hash> (operators/passwords.ts)
  password_hash         text NOT NULL,
  -- set for a password an admin generated (first admin, new operator, reset); the operator
  -- must choose their own before anything else
  must_change_password  boolean NOT NULL DEFAULT true,
  disabled_at           timestamptz,
  created_by            text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  last_login_at         timestamptz
);
-- One operator per email, whatever its case.
CREATE UNIQUE INDEX operators_email ON operators (lower(email));

-- A session is known only by the SHA-256 of its cookie's token (256 random bits), so the
-- table holds nothing a browser could present. It expires SESSION_TTL after it was last seen.
CREATE TABLE operator_sessions (
  id            text PRIMARY KEY,
  operator_id   bigint NOT NULL REFERENCES operators (id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
