// The diesel view of `migrations/`. Kept by hand in `diesel print-schema` form;
// `tests/migrations.rs` checks every column here against the migrated database.

diesel::table! {
    plans (id) {
        id -> Uuid,
        title -> Text,
        summary -> Nullable<Text>,
        value_proposition -> Nullable<Text>,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        approved_by -> Nullable<Text>,
        approved_on -> Nullable<Date>,
        predecessor_plan_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    areas (id) {
        id -> Uuid,
        plan_id -> Uuid,
        position -> Int4,
        title -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    goals (id) {
        id -> Uuid,
        plan_id -> Uuid,
        area_id -> Uuid,
        parent_goal_id -> Nullable<Uuid>,
        position -> Int4,
        custom_code -> Nullable<Text>,
        code -> Text,
        sort_key -> Array<Int4>,
        title -> Text,
        description -> Nullable<Text>,
        owner -> Nullable<Text>,
        start_date -> Nullable<Date>,
        due_date -> Nullable<Date>,
        status -> Text,
        progress_percent -> Nullable<Int2>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    status_updates (id) {
        id -> Uuid,
        goal_id -> Uuid,
        status -> Text,
        progress_percent -> Nullable<Int2>,
        note -> Nullable<Text>,
        author -> Nullable<Text>,
        as_of -> Date,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    measures (id) {
        id -> Uuid,
        goal_id -> Uuid,
        name -> Text,
        unit -> Nullable<Text>,
        baseline -> Float8,
        target -> Float8,
        direction -> Text,
        period -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    measurements (id) {
        id -> Uuid,
        measure_id -> Uuid,
        status_update_id -> Uuid,
        value -> Float8,
    }
}

diesel::table! {
    event_counter (only_row) {
        only_row -> Bool,
        last_seq -> Int8,
    }
}

diesel::table! {
    events (seq) {
        seq -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        resource_type -> Text,
        resource_id -> Uuid,
        plan_id -> Nullable<Uuid>,
        action -> Text,
        changes -> Jsonb,
        revision_note -> Nullable<Text>,
    }
}

diesel::table! {
    event_queue (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        resource_type -> Text,
        resource_id -> Uuid,
        plan_id -> Nullable<Uuid>,
        action -> Text,
        changes -> Jsonb,
        revision_note -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        scopes -> Array<Text>,
        secret_sha256 -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (token_id, key) {
        key -> Text,
        fingerprint -> Bytea,
        status -> Int2,
        headers -> Jsonb,
        body -> Bytea,
        created_at -> Timestamptz,
        token_id -> Uuid,
    }
}

diesel::joinable!(areas -> plans (plan_id));
diesel::joinable!(goals -> areas (area_id));
diesel::joinable!(status_updates -> goals (goal_id));
diesel::joinable!(measures -> goals (goal_id));
diesel::joinable!(measurements -> measures (measure_id));
diesel::joinable!(measurements -> status_updates (status_update_id));

diesel::allow_tables_to_appear_in_same_query!(
    plans,
    areas,
    goals,
    status_updates,
    measures,
    measurements,
    event_counter,
    events,
    event_queue,
    api_tokens,
    idempotency_keys
);
