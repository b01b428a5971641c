DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    DROP COLUMN token_id,
    ADD PRIMARY KEY (key);
DROP TABLE api_tokens;
DROP FUNCTION notify_token_change();
