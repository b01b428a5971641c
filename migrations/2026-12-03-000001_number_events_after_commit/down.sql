-- Back to numbering events at commit (the previous migration's design): whatever is
-- still queued is numbered first, then the queue and the per-table functions go.
SELECT sequence_events();
DROP FUNCTION plan_version(uuid);
DROP FUNCTION sequence_events();
DO $$
DECLARE
    watched text;
BEGIN
    FOREACH watched IN ARRAY ARRAY['plans', 'areas', 'goals', 'status_updates', 'measures',
                                   'measurements']
    LOOP
        EXECUTE format('DROP TRIGGER %1$s_record_created ON %1$s', watched);
        EXECUTE format('DROP TRIGGER %1$s_record_updated ON %1$s', watched);
        EXECUTE format('DROP TRIGGER %1$s_record_deleted ON %1$s', watched);
        EXECUTE format('DROP FUNCTION %1$s_record_events()', watched);
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION event_plan_of(parent_type text, parent_id uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT plan_id FROM events
    WHERE resource_type = parent_type AND resource_id = parent_id
    ORDER BY seq DESC LIMIT 1
$$;
DROP TABLE event_queue;

CREATE SEQUENCE event_placeholders;
-- Committed events still number from 1 (the commit-time trigger sees to it).
ALTER TABLE events DROP CONSTRAINT events_seq_check,
    ADD CONSTRAINT events_seq_check CHECK (seq <> 0);

-- Records the events of one statement at once, from its transition tables (one
-- trigger per table and kind of statement): set-based, so a bulk import pays for
-- its events in a few statements.
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
        ), ordered AS (
            SELECT any_row, diff FROM changed WHERE diff IS NOT NULL
            ORDER BY any_row ->> 'id'
        )
        -- A placeholder number, below zero and rising in the order recorded; the
        -- real one comes at commit (number_events_at_commit).
        INSERT INTO events (seq, actor, resource_type, resource_id, plan_id, action, changes,
                            revision_note)
        SELECT nextval('event_placeholders') - 9223372036854775807, $1, $2,
               (any_row ->> 'id')::uuid,
               %s,
               $3, diff, $4
        FROM ordered
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


-- At commit, once per transaction that recorded events: the first of its deferred
-- triggers takes the counter and gives every placeholder a number, in the order
-- recorded, and notes the highest placeholder it numbered; the others (one per
-- event) see that theirs is done and return at once, without looking at the table.
CREATE FUNCTION number_events_at_commit() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    pending bigint;
    highest bigint;
BEGIN
    IF NEW.seq <= COALESCE(NULLIF(current_setting('strategy_tracker.numbered_through', true), '')::bigint,
                           -9223372036854775808) THEN
        RETURN NULL;
    END IF;
    SELECT count(*), max(seq) INTO pending, highest FROM events WHERE seq < 0;
    WITH counter AS (
        UPDATE event_counter SET last_seq = last_seq + pending
        RETURNING last_seq - pending AS base
    ), placeholders AS (
        SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events WHERE seq < 0
    )
    UPDATE events SET seq = counter.base + placeholders.n
    FROM counter, placeholders
    WHERE events.seq = placeholders.seq;
    -- For this transaction only.
    PERFORM set_config('strategy_tracker.numbered_through', highest::text, true);
    RETURN NULL;
END
$body$;

CREATE CONSTRAINT TRIGGER events_number_at_commit AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION number_events_at_commit();

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
