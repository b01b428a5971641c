-- Passes take turns on the advisory lock again, as before.
DROP INDEX event_queue_of_plan;

CREATE OR REPLACE FUNCTION sequence_events() RETURNS bigint LANGUAGE plpgsql AS $body$
DECLARE
    moved bigint;
    newest bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM event_queue) THEN
        RETURN (SELECT last_seq FROM event_counter);
    END IF;
    -- 'strategy_tracker events' as a number: the key no other lock of ours uses.
    PERFORM pg_advisory_xact_lock(7310582746102937001);
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
