CREATE OR REPLACE FUNCTION plan_version(plan uuid) RETURNS bigint LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM sequence_events();
    RETURN COALESCE((SELECT max(seq) FROM events WHERE plan_id = plan), 0);
END
$body$;
