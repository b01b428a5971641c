-- The change feed and revision history: every change to a plan, area, goal,
-- status update, measure or measurement writes an event in its own transaction,
-- by trigger, so no write path (cascades and renumbering included) can forget.

-- Events are numbered from one counter row. Its row lock is held from a
-- transaction's first change to its commit, so numbers are gapless (a rolled back
-- transaction gives its numbers back) and become visible in order: a reader that
-- has seen event N will never later find a new event numbered below N.
CREATE TABLE event_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq bigint NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO event_counter (last_seq) VALUES (0);

CREATE TABLE events (
    seq           bigint PRIMARY KEY CHECK (seq >= 1),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    resource_type text NOT NULL
                  CHECK (resource_type IN ('plan', 'area', 'goal', 'status_update',
                                           'measure', 'measurement')),
    resource_id   uuid NOT NULL,
    -- No foreign key: the history of a deleted plan is kept.
    plan_id       uuid,
    action        text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    -- Every column that changed, as {"column": {"old": ..., "new": ...}}: all of
    -- them on create (old null) and delete (new null). Enough to rebuild any row
    -- as it stood after any event.
    changes       jsonb NOT NULL,
    revision_note text
);

-- A resource's history, and the plan a child's events belong to.
CREATE INDEX events_of_resource ON events (resource_type, resource_id, seq);
-- A plan's part of the feed, and the events that rebuild its document.
CREATE INDEX events_of_plan ON events (plan_id, seq);

-- The plan an event belongs to. Children find it through their parent's latest
-- event, which exists even while a cascade is deleting the parent.
CREATE FUNCTION event_plan_of(parent_type text, parent_id uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT plan_id FROM events
    WHERE resource_type = parent_type AND resource_id = parent_id
    ORDER BY seq DESC LIMIT 1
$$;

-- Records the events of one statement at once, from its transition tables (one
-- trigger per table and kind of statement, below): set-based, so a bulk import
-- pays for its events in a few statements, and the counter row is updated once
-- per statement rather than once per row.
CREATE FUNCTION record_events() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    row_pairs text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT NULL::jsonb, to_jsonb(n) FROM new_rows n'
        WHEN 'UPDATE' THEN 'SELECT to_jsonb(o), to_jsonb(n) FROM old_rows o JOIN new_rows n USING (id)'
        ELSE 'SELECT to_jsonb(o), NULL::jsonb FROM old_rows o'
    END;
    plan_of text := CASE TG_ARGV[0]
        WHEN 'plan' THEN '(any_row ->> ''id'')::uuid'
        WHEN 'area' THEN '(any_row ->> ''plan_id'')::uuid'
        WHEN 'goal' THEN '(any_row ->> ''plan_id'')::uuid'
        WHEN 'measurement'
            THEN 'event_plan_of(''status_update'', (any_row ->> ''status_update_id'')::uuid)'
        ELSE 'event_plan_of(''goal'', (any_row ->> ''goal_id'')::uuid)'
    END;
    touched boolean;
BEGIN
    -- Statement triggers fire for statements that touch no row (a renumbering
    -- with nothing to renumber): those end here, before the costlier query.
    EXECUTE format('SELECT EXISTS (SELECT FROM %I)',
                   CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END)
        INTO touched;
    IF NOT touched THEN
        RETURN NULL;
    END IF;
    EXECUTE format($sql$
        -- Materialized: each row becomes JSON once, not once per column compared.
        WITH pairs (old_row, new_row) AS MATERIALIZED (%s),
        changed AS (
            SELECT COALESCE(r.new_row, r.old_row) AS any_row,
                   (SELECT jsonb_object_agg(key, jsonb_build_object('old', r.old_row -> key,
                                                                    'new', r.new_row -> key))
                    FROM jsonb_object_keys(COALESCE(r.new_row, r.old_row)) AS key
                    WHERE (r.old_row -> key) IS DISTINCT FROM (r.new_row -> key)) AS diff
            FROM pairs AS r
        ), numbered AS (
            SELECT any_row, diff, row_number() OVER (ORDER BY any_row ->> 'id') AS n
            FROM changed WHERE diff IS NOT NULL
        ), counter AS (
            UPDATE event_counter SET last_seq = last_seq + (SELECT count(*) FROM numbered)
            WHERE EXISTS (SELECT FROM numbered)
            RETURNING last_seq - (SELECT count(*) FROM numbered) AS base
        )
        INSERT INTO events (seq, actor, resource_type, resource_id, plan_id, action, changes,
                            revision_note)
        SELECT counter.base + numbered.n, $1, $2, (any_row ->> 'id')::uuid,
               %s,
               $3, diff, $4
        FROM numbered, counter
        $sql$, row_pairs, plan_of)
    USING
        COALESCE(NULLIF(current_setting('strategy_tracker.actor', true), ''), 'anonymous'),
        TG_ARGV[0],
        CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
        NULLIF(current_setting('strategy_tracker.revision_note', true), '');
    -- Wakes long polls of the feed; one notification per transaction, at commit.
    PERFORM pg_notify('strategy_tracker_events', '');
    RETURN NULL;
END
$body$;

-- A trigger may only name the transition tables of one kind of statement: three
-- per table, named <table>_record_{created,updated,deleted}.
DO $$
DECLARE
    watched record;
BEGIN
    FOR watched IN
        SELECT * FROM (VALUES ('plans', 'plan'), ('areas', 'area'), ('goals', 'goal'),
                              ('status_updates', 'status_update'), ('measures', 'measure'),
                              ('measurements', 'measurement')) AS t(name, kind)
    LOOP
        EXECUTE format('CREATE TRIGGER %1$s_record_created AFTER INSERT ON %1$s '
                       'REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION record_events(%2$L)',
                       watched.name, watched.kind);
        EXECUTE format('CREATE TRIGGER %1$s_record_updated AFTER UPDATE ON %1$s '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION record_events(%2$L)',
                       watched.name, watched.kind);
        EXECUTE format('CREATE TRIGGER %1$s_record_deleted AFTER DELETE ON %1$s '
                       'REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION record_events(%2$L)',
                       watched.name, watched.kind);
    END LOOP;
END
$$;

-- What was recorded before the feed existed starts its history now, as created
-- by "migration": parents before children.
INSERT INTO events (seq, actor, resource_type, resource_id, plan_id, action, changes)
SELECT row_number() OVER (ORDER BY rank, id), 'migration', resource_type, id, plan_id, 'created',
       (SELECT jsonb_object_agg(key, jsonb_build_object('old', NULL, 'new', value))
        FROM jsonb_each(fields))
FROM (
    SELECT 1 AS rank, 'plan' AS resource_type, p.id, p.id AS plan_id, to_jsonb(p) AS fields
    FROM plans p
    UNION ALL
    SELECT 2, 'area', a.id, a.plan_id, to_jsonb(a) FROM areas a
    UNION ALL
    SELECT 3, 'goal', g.id, g.plan_id, to_jsonb(g) FROM goals g
    UNION ALL
    SELECT 4, 'status_update', s.id, g.plan_id, to_jsonb(s)
    FROM status_updates s JOIN goals g ON g.id = s.goal_id
    UNION ALL
    SELECT 5, 'measure', m.id, g.plan_id, to_jsonb(m) FROM measures m JOIN goals g ON g.id = m.goal_id
    UNION ALL
    SELECT 6, 'measurement', v.id, g.plan_id, to_jsonb(v)
    FROM measurements v
    JOIN status_updates s ON s.id = v.status_update_id
    JOIN goals g ON g.id = s.goal_id
) AS existing;
UPDATE event_counter SET last_seq = (SELECT count(*) FROM events);

-- Idempotency keys of POST requests, with the response to replay on a retry.
-- A row is written in the transaction that did the work, so a key is recorded if
-- and only if its work committed. Kept 24 hours.
CREATE TABLE idempotency_keys (
    key         text PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, query, content type and body.
    fingerprint bytea NOT NULL,
    status      smallint NOT NULL,
    -- The response headers worth replaying, as [[name, value], ...].
    headers     jsonb NOT NULL,
    body        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
