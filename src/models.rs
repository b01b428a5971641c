//! Rows, their validation and their queries. Nothing here knows about HTTP: each
//! function takes a connection and returns data or an [`ApiError`](crate::error::ApiError)
//! that says what was wrong with the input.

/// A status stored as text with a `CHECK` constraint and sent as a snake_case string.
pub trait TextEnum: Sized + Copy + 'static {
    /// Every value, in the order they are documented.
    const VALUES: &'static [&'static str];
    /// The value written as `text`, or `None` if it is not one of [`Self::VALUES`].
    fn parse(text: &str) -> Option<Self>;
    /// The text form, as stored and sent.
    fn as_str(self) -> &'static str;
}

/// Declares a [`TextEnum`] with its serde, OpenAPI and diesel (`Text`) mappings.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // Spelled out rather than `rename = $text`: utoipa does not read a renamed
        // variant that comes through a macro, and the document must say what is sent.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $crate::models::TextEnum for $name {
            const VALUES: &'static [&'static str] = &[$($text),+];

            fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write as _;
                out.write_all($crate::models::TextEnum::as_str(*self).as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(value.as_bytes())?;
                <Self as $crate::models::TextEnum>::parse(text)
                    .ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }
    };
}

// After the macro, so that every model can declare its own text enums.
pub mod api_token;
pub mod area;
pub mod derived;
pub mod document;
pub mod event;
pub mod goal;
pub mod idempotency_key;
pub mod import;
pub mod measure;
pub mod measurement;
pub mod patch;
pub mod plan;
pub mod prepared;
pub mod sheet_import;
pub mod status_update;
pub mod tables;
pub mod tracking_sheet;
pub mod validation;
pub mod writer;

text_enum! {
    /// Where a plan is in its life.
    PlanStatus {
        /// Being written; not yet approved.
        Draft = "draft",
        /// Approved and in effect.
        Active = "active",
        /// Its period is over and its work is done.
        Completed = "completed",
        /// Kept for the record only.
        Archived = "archived",
    }
}

text_enum! {
    /// How a goal is doing, as its latest status update says.
    GoalStatus {
        /// No status update yet.
        NotStarted = "not_started",
        /// Progressing as planned.
        OnTrack = "on_track",
        /// Progressing, but may miss its date or target.
        AtRisk = "at_risk",
        /// Will miss its date or target without a change of course.
        OffTrack = "off_track",
        /// Paused on purpose.
        OnHold = "on_hold",
        /// Done.
        Completed = "completed",
        /// Dropped from the plan's work.
        Discontinued = "discontinued",
    }
}

text_enum! {
    /// Which way a measure should move from its baseline to meet its target.
    MeasureDirection {
        /// More is better: the target is reached from below.
        Increase = "increase",
        /// Less is better: the target is reached from above.
        Decrease = "decrease",
    }
}

text_enum! {
    /// What a measure's target counts: the value as it stands, or what happens in
    /// each calendar period (UTC).
    MeasurePeriod {
        /// The target is for the value itself, such as members in total.
        Total = "total",
        /// The target is for each calendar year, such as 6 webinars a year.
        PerYear = "per_year",
        /// The target is for each calendar quarter (January to March, ...).
        PerQuarter = "per_quarter",
        /// The target is for each calendar month.
        PerMonth = "per_month",
    }
}

/// The connection every query function takes.
pub type Conn = diesel_async::AsyncPgConnection;

#[cfg(test)]
mod tests {
    use super::{GoalStatus, MeasureDirection, MeasurePeriod, PlanStatus, TextEnum};

    /// The JSON name of every value is its stored text, which the CHECK constraints list.
    fn json_matches_text<T: TextEnum + serde::Serialize>() {
        for text in T::VALUES {
            let value = T::parse(text).expect("every listed value parses");
            assert_eq!(value.as_str(), *text);
            assert_eq!(serde_json::to_value(value).expect("serializes"), *text);
        }
    }

    #[test]
    fn statuses_are_sent_as_they_are_stored() {
        json_matches_text::<PlanStatus>();
        json_matches_text::<GoalStatus>();
        json_matches_text::<MeasureDirection>();
        json_matches_text::<MeasurePeriod>();
    }
}
