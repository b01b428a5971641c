//! Where a measure stands: its current value and its percent of target, worked out
//! from its measurements as of a given day, so that tests can pick the day.

use chrono::{Datelike, NaiveDate};

use crate::models::tables::measurements::Point;
use crate::models::tables::measures::MeasureRow;
use crate::models::{MeasureDirection, MeasurePeriod};

/// The measure's current value and its percent of target (rounded to one
/// decimal), as of `today`, as the API shows them and goals take their progress
/// from them.
pub fn of(row: &MeasureRow, points: &[Point], today: NaiveDate) -> (Option<f64>, Option<f64>) {
    let current = current_value(row.period, points, today);
    let percent = current.map(|current| (percent_of_target(row, current) * 10.0).round() / 10.0);
    (current, percent)
}

/// The first day of the calendar period (UTC) that `date` falls in; `None` for a
/// `total` measure, which has no periods.
pub fn period_start(period: MeasurePeriod, date: NaiveDate) -> Option<NaiveDate> {
    let (year, month) = (date.year(), date.month());
    let first_month = match period {
        MeasurePeriod::Total => return None,
        MeasurePeriod::PerYear => 1,
        MeasurePeriod::PerQuarter => month - (month - 1) % 3,
        MeasurePeriod::PerMonth => month,
    };
    NaiveDate::from_ymd_opt(year, first_month, 1)
}

/// The measure's current value on `today` (see [`super::Measure::current_value`]); `today`
/// is a parameter so that the rule can be tested on either side of a period's end.
pub fn current_value(period: MeasurePeriod, points: &[Point], today: NaiveDate) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let Some(current) = period_start(period, today) else {
        let latest = points
            .iter()
            .max_by_key(|point| (point.as_of, point.recorded_at, point.update_id))?;
        return Some(latest.value);
    };
    let in_period = points
        .iter()
        .filter(|point| period_start(period, point.as_of) == Some(current));
    Some(in_period.map(|point| point.value).sum())
}

/// Progress from the starting point toward the target, 0 to 100 (see
/// [`super::Measure::percent_of_target`]); not yet rounded.
pub fn percent_of_target(measure: &MeasureRow, current: f64) -> f64 {
    let start = match measure.period {
        MeasurePeriod::Total => measure.baseline,
        _ => 0.0,
    };
    // Turn a decrease into an increase, so that "toward the target" is always up.
    let sign = match measure.direction {
        MeasureDirection::Increase => 1.0,
        MeasureDirection::Decrease => -1.0,
    };
    let needed = sign * (measure.target - start);
    let gained = sign * (current - start);
    let percent = if needed <= 0.0 {
        if gained >= needed { 100.0 } else { 0.0 }
    } else {
        gained / needed * 100.0
    };
    percent.clamp(0.0, 100.0)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;

    use super::{current_value, percent_of_target};
    use crate::models::tables::measurements::Point;
    use crate::models::tables::measures::MeasureRow;
    use crate::models::{MeasureDirection, MeasurePeriod};

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a test date")
    }

    /// A measurement as of `as_of`, recorded at the `n`th second.
    fn point(as_of: &str, n: i64, value: f64) -> Point {
        Point {
            as_of: date(as_of),
            recorded_at: DateTime::<Utc>::from_timestamp(n, 0).expect("a time"),
            update_id: Uuid::from_u128(n as u128),
            value,
        }
    }

    fn measure(
        baseline: f64,
        target: f64,
        direction: MeasureDirection,
        period: MeasurePeriod,
    ) -> MeasureRow {
        MeasureRow {
            id: Uuid::nil(),
            goal_id: Uuid::nil(),
            name: "Webinars".to_owned(),
            unit: None,
            baseline,
            target,
            direction,
            period,
            created_at: DateTime::<Utc>::from_timestamp(0, 0).expect("a time"),
            updated_at: DateTime::<Utc>::from_timestamp(0, 0).expect("a time"),
        }
    }

    #[test]
    fn without_measurements_there_is_no_current_value() {
        for period in [MeasurePeriod::Total, MeasurePeriod::PerYear] {
            assert_eq!(current_value(period, &[], date("2024-06-01")), None);
        }
    }

    #[test]
    fn a_total_is_the_latest_value_by_as_of_then_by_recording() {
        let points = [
            point("2024-03-31", 1, 10.0),
            point("2024-06-30", 2, 30.0),
            point("2024-06-30", 3, 25.0),
            point("2024-01-31", 4, 99.0),
        ];
        let today = date("2025-01-01");
        assert_eq!(
            current_value(MeasurePeriod::Total, &points, today),
            Some(25.0)
        );
    }

    #[test]
    fn per_period_values_are_summed_within_the_period_of_today_only() {
        let points = [
            point("2023-12-31", 1, 5.0),
            point("2024-01-01", 2, 1.0),
            point("2024-03-31", 3, 2.0),
            point("2024-04-01", 4, 4.0),
        ];
        let value = |period, today| current_value(period, &points, date(today));

        assert_eq!(value(MeasurePeriod::PerYear, "2023-12-31"), Some(5.0));
        assert_eq!(value(MeasurePeriod::PerYear, "2024-01-01"), Some(7.0));
        assert_eq!(value(MeasurePeriod::PerQuarter, "2024-03-31"), Some(3.0));
        assert_eq!(value(MeasurePeriod::PerQuarter, "2024-04-01"), Some(4.0));
        assert_eq!(value(MeasurePeriod::PerMonth, "2024-03-15"), Some(2.0));
        assert_eq!(value(MeasurePeriod::PerMonth, "2024-02-29"), Some(0.0));
    }

    #[test]
    fn percent_counts_from_the_baseline_in_the_measure_direction() {
        use MeasureDirection::{Decrease, Increase};
        let total = MeasurePeriod::Total;
        let percent = |m: &MeasureRow, current| percent_of_target(m, current);
        let up = measure(10.0, 20.0, Increase, total);
        let down = measure(20.0, 10.0, Decrease, total);

        assert_eq!(percent(&up, 15.0), 50.0);
        assert_eq!(percent(&up, 5.0), 0.0, "the wrong way is 0");
        assert_eq!(percent(&up, 25.0), 100.0, "past the target is 100");
        assert_eq!(percent(&down, 12.5), 75.0);
        assert_eq!(percent(&down, 30.0), 0.0);
        assert_eq!(percent(&down, 0.0), 100.0);
        let met_already = measure(5.0, 5.0, Increase, total);
        assert_eq!(
            (percent(&met_already, 5.0), percent(&met_already, 4.0)),
            (100.0, 0.0)
        );
    }

    #[test]
    fn per_period_percent_counts_from_zero() {
        use MeasureDirection::{Decrease, Increase};
        let year = MeasurePeriod::PerYear;
        let six_a_year = measure(100.0, 6.0, Increase, year);
        let at_most_two = measure(100.0, 2.0, Decrease, year);

        assert_eq!(percent_of_target(&six_a_year, 3.0), 50.0);
        assert_eq!(percent_of_target(&six_a_year, 9.0), 100.0);
        assert_eq!(percent_of_target(&at_most_two, 2.0), 100.0);
        assert_eq!(percent_of_target(&at_most_two, 3.0), 0.0);
    }
}
