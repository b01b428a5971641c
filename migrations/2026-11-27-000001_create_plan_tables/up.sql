-- The plan, its strategic areas, their goals (a tree: goals and sub-goals) and
-- the status updates staff record on goals. The application validates every
-- write first; these constraints are the backstop that keeps the record true
-- even if a bug slips past it.

CREATE TABLE plans (
    id                  uuid PRIMARY KEY,
    title               text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    summary             text CHECK (char_length(summary) <= 10000),
    value_proposition   text CHECK (char_length(value_proposition) <= 10000),
    period_start        date NOT NULL,
    period_end          date NOT NULL,
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'active', 'completed', 'archived')),
    approved_by         text CHECK (char_length(approved_by) <= 200),
    approved_on         date,
    predecessor_plan_id uuid REFERENCES plans (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_period_in_order CHECK (period_end >= period_start),
    CONSTRAINT plans_not_own_predecessor CHECK (predecessor_plan_id <> id)
);

-- Plans list newest period first, optionally filtered by status.
CREATE INDEX plans_newest_first ON plans (period_start DESC, id DESC);
CREATE INDEX plans_by_status_newest_first ON plans (status, period_start DESC, id DESC);
CREATE INDEX plans_by_predecessor ON plans (predecessor_plan_id);

CREATE TABLE areas (
    id          uuid PRIMARY KEY,
    plan_id     uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 1),
    title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description text CHECK (char_length(description) <= 10000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Deferred so that a reorder can shift siblings one row at a time and is
    -- checked once, at commit. Also the index that lists a plan's areas in order.
    CONSTRAINT areas_position_unique UNIQUE (plan_id, position) DEFERRABLE INITIALLY DEFERRED,
    -- Target of goals' (area_id, plan_id) key, which keeps a goal in its area's plan.
    CONSTRAINT areas_id_plan_unique UNIQUE (id, plan_id)
);

CREATE TABLE goals (
    id               uuid PRIMARY KEY,
    -- Denormalised from the area so a plan's goals can be listed from one index;
    -- the composite key below keeps it equal to the area's plan.
    plan_id          uuid NOT NULL,
    area_id          uuid NOT NULL,
    parent_goal_id   uuid,
    position         integer NOT NULL CHECK (position >= 1),
    -- The code a client set, if any; `code` is the one shown: this, or the
    -- code derived from positions ("2", "2.1").
    custom_code      text CHECK (custom_code ~ '^[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?$'),
    code             text NOT NULL,
    -- Plan order as an array: [area position, goal position, sub-goal position, ...].
    -- Arrays compare element by element, so ORDER BY sort_key is depth-first plan order.
    sort_key         integer[] NOT NULL,
    title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    description      text CHECK (char_length(description) <= 10000),
    owner            text CHECK (char_length(owner) <= 200),
    start_date       date,
    due_date         date,
    -- Derived from the latest status update, kept in the transaction that writes one.
    status           text NOT NULL DEFAULT 'not_started'
                     CHECK (status IN ('not_started', 'on_track', 'at_risk', 'off_track',
                                       'on_hold', 'completed', 'discontinued')),
    progress_percent smallint CHECK (progress_percent BETWEEN 0 AND 100),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT goals_dates_in_order CHECK (due_date >= start_date),
    CONSTRAINT goals_not_own_parent CHECK (parent_goal_id <> id),
    CONSTRAINT goals_area_in_plan FOREIGN KEY (area_id, plan_id)
        REFERENCES areas (id, plan_id) ON DELETE CASCADE,
    -- A sub-goal lives in its parent's area.
    CONSTRAINT goals_parent_in_area FOREIGN KEY (parent_goal_id, area_id)
        REFERENCES goals (id, area_id) ON DELETE CASCADE,
    CONSTRAINT goals_id_area_unique UNIQUE (id, area_id),
    CONSTRAINT goals_position_unique UNIQUE NULLS NOT DISTINCT (area_id, parent_goal_id, position)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT goals_code_unique UNIQUE (area_id, code) DEFERRABLE INITIALLY DEFERRED
);

-- Goals list in plan order, per plan or per area, optionally filtered.
CREATE INDEX goals_plan_order ON goals (plan_id, sort_key, id);
CREATE INDEX goals_area_order ON goals (area_id, sort_key, id);
CREATE INDEX goals_plan_status_order ON goals (plan_id, status, sort_key, id);
CREATE INDEX goals_plan_owner_order ON goals (plan_id, owner, sort_key, id);
CREATE INDEX goals_by_parent ON goals (parent_goal_id, position);

CREATE TABLE status_updates (
    id               uuid PRIMARY KEY,
    goal_id          uuid NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    status           text NOT NULL
                     CHECK (status IN ('not_started', 'on_track', 'at_risk', 'off_track',
                                       'on_hold', 'completed', 'discontinued')),
    progress_percent smallint CHECK (progress_percent BETWEEN 0 AND 100),
    note             text CHECK (char_length(note) <= 10000),
    author           text CHECK (char_length(author) <= 200),
    as_of            date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Newest first, which is also how a goal finds its latest update.
CREATE INDEX status_updates_newest_first
    ON status_updates (goal_id, as_of DESC, created_at DESC, id DESC);
