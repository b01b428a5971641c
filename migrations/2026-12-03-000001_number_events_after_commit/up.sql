-- Events are numbered after their transaction commits, not in its commit. Numbering
-- at commit held the counter row's lock through every writer's WAL flush, so commits
-- took turns and PostgreSQL could not group them; and renumbering placeholders left
-- a dead tuple per event that later commits walked past (`WHERE seq < 0`).
--
-- Now a writing transaction only appends its events to `event_queue`, unnumbered,
-- and takes no shared lock. `sequence_events()` (one pass, run by each instance's
-- sequencer after local writes and by readers of the feed before they read) moves
-- every committed queued event into `events` with the next numbers, in the order
-- they were queued. Passes take turns on an advisory lock, so numbers stay gapless
-- (a rolled back transaction's events were never visible to a pass) and a reader
-- never finds a new event below one it has seen (a pass commits its events and the
-- counter together). Two changes to one resource are numbered in their commit
-- order: the second writer queued its event after it got the row's lock, that is
-- after the first had committed, so its queue id is the larger, and any pass that
-- sees the second commit sees the first.

DROP TRIGGER events_number_at_commit ON events;
DROP FUNCTION number_events_at_commit();
DROP SEQUENCE event_placeholders;
ALTER TABLE events DROP CONSTRAINT events_seq_check,
    ADD CONSTRAINT events_seq_check CHECK (seq >= 1);

CREATE TABLE event_queue (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    resource_type text NOT NULL,
    resource_id   uuid NOT NULL,
    plan_id       uuid,
    action        text NOT NULL,
    changes       jsonb NOT NULL,
    revision_note text
);
-- A child's plan while a cascade deletes its recently created parent (event_plan_of).
CREATE INDEX event_queue_of_resource ON event_queue (resource_id);

-- The plan of a resource that may already be deleted: its latest event, numbered
-- or still queued. Only for cascades; a live parent is looked up in its table.
CREATE OR REPLACE FUNCTION event_plan_of(parent_type text, parent_id uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT plan_id FROM event_queue
         WHERE resource_id = parent_id AND resource_type = parent_type
         ORDER BY id DESC LIMIT 1),
        (SELECT plan_id FROM events
         WHERE resource_type = parent_type AND resource_id = parent_id
         ORDER BY seq DESC LIMIT 1))
$$;

-- Each table's statement triggers get a function of their own, with its queries
-- written out rather than built as text at every statement: PL/pgSQL then plans
-- them once per connection. The shared one built and planned its query anew for
-- every statement, most of a small write's cost.
DROP TRIGGER plans_record_created ON plans;
DROP TRIGGER plans_record_updated ON plans;
DROP TRIGGER plans_record_deleted ON plans;
DROP TRIGGER areas_record_created ON areas;
DROP TRIGGER areas_record_updated ON areas;
DROP TRIGGER areas_record_deleted ON areas;
DROP TRIGGER goals_record_created ON goals;
DROP TRIGGER goals_record_updated ON goals;
DROP TRIGGER goals_record_deleted ON goals;
DROP TRIGGER status_updates_record_created ON status_updates;
DROP TRIGGER status_updates_record_updated ON status_updates;
DROP TRIGGER status_updates_record_deleted ON status_updates;
DROP TRIGGER measures_record_created ON measures;
DROP TRIGGER measures_record_updated ON measures;
DROP TRIGGER measures_record_deleted ON measures;
DROP TRIGGER measurements_record_created ON measurements;
DROP TRIGGER measurements_record_updated ON measurements;
DROP TRIGGER measurements_record_deleted ON measurements;
DROP FUNCTION record_events();

DO $migration$
DECLARE
    watched record;
BEGIN
    FOR watched IN
        SELECT * FROM (VALUES
            ('plans', 'plan', 'r.id'),
            ('areas', 'area', 'r.plan_id'),
            ('goals', 'goal', 'r.plan_id'),
            ('status_updates', 'status_update',
             'COALESCE((SELECT g.plan_id FROM goals g WHERE g.id = r.goal_id), '
             'event_plan_of(''goal'', r.goal_id))'),
            ('measures', 'measure',
             'COALESCE((SELECT g.plan_id FROM goals g WHERE g.id = r.goal_id), '
             'event_plan_of(''goal'', r.goal_id))'),
            ('measurements', 'measurement',
             'COALESCE((SELECT g.plan_id FROM status_updates s JOIN goals g ON g.id = s.goal_id '
             'WHERE s.id = r.status_update_id), '
             'event_plan_of(''status_update'', r.status_update_id))')
        ) AS t(name, kind, plan_of)
    LOOP
        -- created and deleted: every column, with null on the side that has none.
        -- updated: the columns that changed; an update that changed none is no event.
        EXECUTE format($f$
            CREATE FUNCTION %1$s_record_events() RETURNS trigger LANGUAGE plpgsql AS $body$
            DECLARE
                -- Named so that no table's column (a status update's note) can shadow them.
                change_actor text := COALESCE(NULLIF(current_setting('strategy_tracker.actor', true), ''),
                                       'anonymous');
                change_note text := NULLIF(current_setting('strategy_tracker.revision_note', true), '');
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO event_queue (actor, resource_type, resource_id, plan_id, action,
                                             changes, revision_note)
                    SELECT change_actor, %2$L, r.id, %3$s, 'created',
                           (SELECT jsonb_object_agg(key, jsonb_build_object('old', NULL, 'new', value))
                            FROM jsonb_each(to_jsonb(r))),
                           change_note
                    FROM new_rows r ORDER BY r.id;
                ELSIF TG_OP = 'UPDATE' THEN
                    INSERT INTO event_queue (actor, resource_type, resource_id, plan_id, action,
                                             changes, revision_note)
                    SELECT change_actor, %2$L, r.id, %3$s, 'updated', diff.changes, change_note
                    FROM old_rows o JOIN new_rows r USING (id),
                         LATERAL (SELECT to_jsonb(o) AS old_row, to_jsonb(r) AS new_row) AS j,
                         LATERAL (SELECT jsonb_object_agg(key, jsonb_build_object('old', j.old_row -> key,
                                                                                 'new', value)) AS changes
                                  FROM jsonb_each(j.new_row)
                                  WHERE (j.old_row -> key) IS DISTINCT FROM value) AS diff
                    WHERE diff.changes IS NOT NULL
                    ORDER BY r.id;
                ELSE
                    INSERT INTO event_queue (actor, resource_type, resource_id, plan_id, action,
                                             changes, revision_note)
                    SELECT change_actor, %2$L, r.id, %3$s, 'deleted',
                           (SELECT jsonb_object_agg(key, jsonb_build_object('old', value, 'new', NULL))
                            FROM jsonb_each(to_jsonb(r))),
                           change_note
                    FROM old_rows r ORDER BY r.id;
                END IF;
                RETURN NULL;
            END
            $body$;
            $f$, watched.name, watched.kind, watched.plan_of);
        EXECUTE format('CREATE TRIGGER %1$s_record_created AFTER INSERT ON %1$s '
                       'REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION %1$s_record_events()', watched.name);
        EXECUTE format('CREATE TRIGGER %1$s_record_updated AFTER UPDATE ON %1$s '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION %1$s_record_events()', watched.name);
        EXECUTE format('CREATE TRIGGER %1$s_record_deleted AFTER DELETE ON %1$s '
                       'REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION %1$s_record_events()', watched.name);
    END LOOP;
END
$migration$;

-- One pass of the sequencer: numbers every committed queued event, in queue order,
-- and returns the newest event's number. Passes take turns on the advisory lock;
-- each statement after it takes a fresh snapshot, so it sees what the previous pass
-- committed. Wakes the feed's long polls once per pass that numbered anything: a
-- NOTIFY per writing transaction would make commits take turns on the notification
-- queue's lock instead.
CREATE FUNCTION sequence_events() RETURNS bigint LANGUAGE plpgsql AS $body$
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

-- A plan's version, for the cache of rendered plans and sheets: the number of its
-- newest event, once everything committed is numbered, so that a change committed
-- on any instance is never behind it. In PL/pgSQL so that the read after the pass
-- takes a fresh snapshot, which sees what the pass numbered.
CREATE FUNCTION plan_version(plan uuid) RETURNS bigint LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM sequence_events();
    RETURN COALESCE((SELECT max(seq) FROM events WHERE plan_id = plan), 0);
END
$body$;
