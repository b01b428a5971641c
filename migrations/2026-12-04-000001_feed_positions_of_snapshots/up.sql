-- Reads that say which change-feed position they reflect (the plan document, the
-- tracking sheet, every list): such a read takes a REPEATABLE READ snapshot and
-- names the newest numbered event of its plan (or of all) in it. That is exact only
-- when no event its snapshot sees is still queued; readers look for one by plan,
-- and when one is there they number it (see models::event::snapshot).
CREATE INDEX event_queue_of_plan ON event_queue (plan_id);

CREATE OR REPLACE FUNCTION sequence_events() RETURNS bigint LANGUAGE plpgsql AS $body$
DECLARE
    moved bigint;
    newest bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM event_queue) THEN
        RETURN (SELECT last_seq FROM event_counter);
    END IF;
    -- Passes take turns on the counter's table lock (EXCLUSIVE: plain reads of the
    -- counter go on). A snapshot reader takes it before its snapshot (a table lock,
    -- unlike an advisory one, can be taken before a REPEATABLE READ transaction's
    -- first query), and so numbers exactly the events its snapshot sees.
    LOCK TABLE event_counter IN EXCLUSIVE MODE;
    WITH queued AS (
        DELETE FROM event_queue RETURNING *
    ), numbered AS (
        SELECT queued.*, row_number() OVER (ORDER BY id) AS n FROM queued
    )
    INSERT INTO events (seq, occurred_at, actor, resource_type, resource_id, plan_id, action,
                        changes, revision_note)
    SELECT (SELECT last_seq FROM event_counter) + n, occurred_at, actor, resource_type,
           resource_id, plan_id, action, changes, revision_note
    FROM numbered;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved = 0 THEN
        RETURN (SELECT last_seq FROM event_counter);
    END IF;
    UPDATE event_counter SET last_seq = last_seq + moved RETURNING last_seq INTO newest;
    PERFORM pg_notify('strategy_tracker_events', newest::text);
    RETURN newest;
END
$body$;
