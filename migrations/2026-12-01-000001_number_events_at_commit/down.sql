-- Back to numbering events in each statement's trigger, under the counter's lock.
DROP TRIGGER events_number_at_commit ON events;
DROP FUNCTION number_events_at_commit();
CREATE OR REPLACE FUNCTION record_events() RETURNS trigger LANGUAGE plpgsql AS $body$
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

DROP SEQUENCE event_placeholders;
ALTER TABLE events DROP CONSTRAINT events_seq_check,
    ADD CONSTRAINT events_seq_check CHECK (seq >= 1);
