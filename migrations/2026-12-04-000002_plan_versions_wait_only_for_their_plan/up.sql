-- A cached document's version (`plan_version`) numbered the whole queue before
-- reading its plan's newest event, so while one plan's large write was being
-- numbered (an import of thousands of goals), every read of every plan's document
-- waited on the counter's lock for it. Only a plan with events of its own queued
-- needs a pass before its version is read.
CREATE OR REPLACE FUNCTION plan_version(plan uuid) RETURNS bigint LANGUAGE plpgsql AS $body$
BEGIN
    IF EXISTS (SELECT FROM event_queue WHERE plan_id = plan) THEN
        PERFORM sequence_events();
    END IF;
    RETURN COALESCE((SELECT max(seq) FROM events WHERE plan_id = plan), 0);
END
$body$;
