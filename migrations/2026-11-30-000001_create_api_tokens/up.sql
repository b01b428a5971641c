-- API tokens: who may read drafts, change plans and manage tokens. A token is
-- `stk_` + its id + a 256-bit secret; only the SHA-256 of the secret is kept, so
-- the database never holds a token that works.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    -- Recorded as the actor of every change made with the token.
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes text[] NOT NULL CHECK (
        cardinality(scopes) BETWEEN 1 AND 3
        AND scopes <@ ARRAY['read', 'write', 'admin']::text[]
    ),
    secret_sha256 bytea NOT NULL CHECK (octet_length(secret_sha256) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- Names tell tokens apart in the change feed: no two tokens in use share one.
CREATE UNIQUE INDEX api_tokens_name_in_use ON api_tokens (name) WHERE revoked_at IS NULL;

-- Each instance keeps recently checked tokens in memory; a revocation (or any
-- change that could take access away) tells them all to forget what they hold.
CREATE FUNCTION notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('strategy_tracker_tokens', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_tokens_changed
    AFTER UPDATE OF scopes, expires_at, revoked_at, secret_sha256 OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_token_change();

-- An idempotency key belongs to the token that sent it: two clients that happen to
-- choose the same key never see each other's responses. Keys live 24 hours, so
-- those recorded before tokens existed are simply dropped.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    ADD COLUMN token_id uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (token_id, key);
