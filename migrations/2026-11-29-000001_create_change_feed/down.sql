DROP TABLE idempotency_keys;
DO $$
DECLARE
    watched text;
    kind text;
BEGIN
    FOREACH watched IN ARRAY ARRAY['plans', 'areas', 'goals', 'status_updates', 'measures',
                                   'measurements'] LOOP
        FOREACH kind IN ARRAY ARRAY['created', 'updated', 'deleted'] LOOP
            EXECUTE format('DROP TRIGGER %1$s_record_%2$s ON %1$s', watched, kind);
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION record_events();
DROP FUNCTION event_plan_of(text, uuid);
DROP TABLE events;
DROP TABLE event_counter;
