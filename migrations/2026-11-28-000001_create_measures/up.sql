-- Measures: the countable targets of a goal ("6 webinars a year"), and the
-- measurements status updates record against them. As for the plan tables, the
-- application validates every write first and these constraints are the backstop.

CREATE TABLE measures (
    id         uuid PRIMARY KEY,
    goal_id    uuid NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    unit       text CHECK (char_length(unit) <= 50),
    -- double precision: counts, amounts and rates alike, without a decimal crate.
    -- Finite only (NaN and infinity would make every sum and percent meaningless).
    baseline   double precision NOT NULL DEFAULT 0
               CHECK (baseline BETWEEN -1e15 AND 1e15),
    target     double precision NOT NULL CHECK (target BETWEEN -1e15 AND 1e15),
    direction  text NOT NULL DEFAULT 'increase' CHECK (direction IN ('increase', 'decrease')),
    period     text NOT NULL DEFAULT 'total'
               CHECK (period IN ('total', 'per_year', 'per_quarter', 'per_month')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A goal's measures list in the order they were made (ids are UUID v7).
CREATE INDEX measures_by_goal ON measures (goal_id, id);

CREATE TABLE measurements (
    id               uuid PRIMARY KEY,
    measure_id       uuid NOT NULL REFERENCES measures (id) ON DELETE CASCADE,
    status_update_id uuid NOT NULL REFERENCES status_updates (id) ON DELETE CASCADE,
    value            double precision NOT NULL CHECK (value BETWEEN -1e15 AND 1e15),
    -- One value per measure in an update; also the index that reads an update's values.
    CONSTRAINT measurements_one_per_measure UNIQUE (status_update_id, measure_id)
);

-- A measure's history, its current value, and the 409 on deleting it.
CREATE INDEX measurements_by_measure ON measurements (measure_id);
