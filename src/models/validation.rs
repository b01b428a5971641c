//! Reading a JSON request body field by field, so that one answer names every bad
//! field and the rule it breaks, not just the first one a deserializer trips on.
//!
//! The same reading serves create (`current` is `None`: required fields must be
//! present) and JSON merge patch (`current` is the stored resource: an absent field
//! keeps its value, `null` clears a nullable one).

use chrono::NaiveDate;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

/// Longest single-line text (names, owners, authors), in characters.
pub const SHORT_TEXT: usize = 200;
/// Longest multi-paragraph text (descriptions, notes), in characters.
pub const LONG_TEXT: usize = 10_000;

/// A rule that turns one JSON value into a typed value, or says what is wrong.
pub trait Rule<T>: Fn(&Value) -> Result<T, String> {}
impl<T, F: Fn(&Value) -> Result<T, String>> Rule<T> for F {}

/// Declares a body a client writes together with `FIELDS`, the names of its
/// fields, so that the struct (which its schema is derived from) is the one list:
/// [`FieldReader`] takes `FIELDS` as the known fields, and in debug builds checks
/// that `read` consulted each of them.
macro_rules! input_body {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $type:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $type),*
        }

        impl $name {
            /// The fields a client may send, by name.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}
pub(crate) use input_body;

/// The fields of one JSON object body, read one at a time; collects every problem.
pub struct FieldReader {
    fields: Map<String, Value>,
    errors: Vec<FieldError>,
    /// In debug builds, the fields the body may have and those read so far.
    #[cfg(debug_assertions)]
    writable: &'static [&'static str],
    #[cfg(debug_assertions)]
    read: Vec<String>,
}

impl FieldReader {
    /// Starts reading `body`, which must be an object whose keys are all in `writable`.
    /// `read_only` names fields a client sees in responses but cannot set, with the reason.
    pub fn new(
        body: Value,
        writable: &'static [&'static str],
        read_only: &[(&str, &str)],
    ) -> Result<Self, ApiError> {
        let Value::Object(fields) = body else {
            return Err(ApiError::invalid(
                "",
                format!(
                    "the body must be a JSON object, not {}",
                    json_type_name(&body)
                ),
            ));
        };
        let mut errors = Vec::new();
        for key in fields.keys() {
            if writable.contains(&key.as_str()) {
                continue;
            }
            let message = match read_only.iter().find(|(name, _)| name == key) {
                Some((_, why)) => format!("cannot be set: {why}"),
                None => format!(
                    "is not a field of this resource; the fields are {}",
                    writable.join(", ")
                ),
            };
            errors.push(FieldError::new(key.clone(), message));
        }
        Ok(Self {
            fields,
            errors,
            #[cfg(debug_assertions)]
            writable,
            #[cfg(debug_assertions)]
            read: Vec::new(),
        })
    }

    /// A field that always has a value: the body's, else `current` (PATCH), else it is missing.
    pub fn required<T>(&mut self, name: &str, current: Option<T>, rule: impl Rule<T>) -> Option<T> {
        self.mark_read(name);
        match self.fields.get(name) {
            None if current.is_some() => current,
            None => self.reject(name, "is required".to_owned()),
            Some(Value::Null) => self.reject(name, "must not be null".to_owned()),
            Some(value) => self.apply(name, value.clone(), rule),
        }
    }

    /// A field that may be null: the body's value (`null` clears it), else `current`.
    pub fn optional<T>(
        &mut self,
        name: &str,
        current: Option<Option<T>>,
        rule: impl Rule<T>,
    ) -> Option<T> {
        self.mark_read(name);
        match self.fields.get(name) {
            None => current.flatten(),
            Some(Value::Null) => None,
            Some(value) => self.apply(name, value.clone(), rule),
        }
    }

    /// A field that may be left out but not set to null: the body's value, if any.
    pub fn if_present<T>(&mut self, name: &str, rule: impl Rule<T>) -> Option<T> {
        self.mark_read(name);
        match self.fields.get(name) {
            None => None,
            Some(Value::Null) => {
                self.reject(name, "must not be null; leave it out instead".to_owned())
            }
            Some(value) => self.apply(name, value.clone(), rule),
        }
    }

    /// A list of objects, each read by `item` (with a [`FieldReader`] of its own), of
    /// at most `max` items. Each item's problems are named `name/index/field`, so one
    /// answer names every bad field of every item. `None` when the list is left out
    /// or has problems (which [`Self::finish`] reports); `null` is refused, as `[]`
    /// says "none" without ambiguity.
    pub fn objects<T>(
        &mut self,
        name: &str,
        max: usize,
        item: impl Fn(Value) -> Result<T, ApiError>,
    ) -> Option<Vec<T>> {
        self.mark_read(name);
        let items = match self.fields.get(name)? {
            Value::Array(items) if items.len() > max => {
                let count = items.len();
                return self.reject(
                    name,
                    format!("must have at most {max} items (it has {count})"),
                );
            }
            Value::Array(items) => items.clone(),
            Value::Null => {
                return self.reject(name, "must not be null; send [] for none".to_owned());
            }
            other => {
                let kind = json_type_name(other);
                return self.reject(name, format!("must be an array, not {kind}"));
            }
        };
        let mut read = Vec::with_capacity(items.len());
        for (index, value) in items.into_iter().enumerate() {
            match item(value) {
                Ok(value) => read.push(value),
                Err(ApiError::Invalid(errors)) => {
                    for error in errors {
                        let at = match error.field.as_str() {
                            "" => format!("{name}/{index}"),
                            field => format!("{name}/{index}/{field}"),
                        };
                        self.errors.push(FieldError::new(at, error.message));
                    }
                }
                Err(other) => {
                    let at = format!("{name}/{index}");
                    self.errors
                        .push(FieldError::new(at, other.problem().detail));
                }
            }
        }
        (read.len() == self.fields_len_of(name)).then_some(read)
    }

    fn fields_len_of(&self, name: &str) -> usize {
        self.fields
            .get(name)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    }

    /// Checks that the date `later` is not before the date `earlier`. When the body
    /// gives both (or creates the resource), breaking that is a rule of the body: a
    /// 422 on `later`. When one of them is the stored value, the change conflicts
    /// with the resource as it is: a 409, unless the body has problems of its own,
    /// which are told first.
    pub fn dates_in_order(
        &mut self,
        (earlier_name, earlier): (&str, Option<NaiveDate>),
        (later_name, later): (&str, Option<NaiveDate>),
        creating: bool,
    ) -> Result<(), ApiError> {
        let (Some(earlier), Some(later)) = (earlier, later) else {
            return Ok(());
        };
        if later >= earlier {
            return Ok(());
        }
        if creating || (self.has(earlier_name) && self.has(later_name)) {
            self.reject::<()>(
                later_name,
                format!("must not be before {earlier_name} ({earlier}) (got {later})"),
            );
            return Ok(());
        }
        if !self.errors.is_empty() {
            return Ok(());
        }
        let (sent, stored) = if self.has(later_name) {
            (later_name, earlier_name)
        } else {
            (earlier_name, later_name)
        };
        Err(ApiError::Conflict(format!(
            "{later_name} ({later}) would be before {earlier_name} ({earlier}): the request changes {sent}, and the stored {stored} does not fit it; send both to change them together"
        )))
    }

    /// Whether the body sets `name` at all (to a value or to null).
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// Records a rule that spans fields (dates in order) or needs the database.
    pub fn reject<T>(&mut self, field: &str, message: String) -> Option<T> {
        self.errors.push(FieldError::new(field, message));
        None
    }

    /// Notes that `name` was read: [`Self::finish`] checks, in debug builds, that
    /// every writable field was, so that a field added to an input is read too.
    fn mark_read(&mut self, name: &str) {
        #[cfg(debug_assertions)]
        self.read.push(name.to_owned());
        #[cfg(not(debug_assertions))]
        let _ = name;
    }

    /// The read value, or a 422 naming every problem found.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        #[cfg(debug_assertions)]
        for field in self.writable {
            assert!(
                self.read.iter().any(|read| read == field),
                "a bug: the input's reader never reads its field {field}"
            );
        }
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(ApiError::Invalid(self.errors)),
        }
    }

    fn apply<T>(&mut self, name: &str, value: Value, rule: impl Rule<T>) -> Option<T> {
        rule(&value).map_or_else(|message| self.reject(name, message), Some)
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string(value: &Value) -> Result<&str, String> {
    match value {
        Value::String(text) if text.contains('\0') => {
            Err("must not contain NUL characters (\\u0000)".to_owned())
        }
        Value::String(text) => Ok(text),
        other => Err(format!("must be a string, not {}", json_type_name(other))),
    }
}

/// Text of at most `max` characters.
pub fn text(max: usize) -> impl Rule<String> {
    move |value| {
        let text = string(value)?;
        let length = text.chars().count();
        if length > max {
            return Err(format!(
                "must be at most {max} characters long (it is {length})"
            ));
        }
        Ok(text.to_owned())
    }
}

/// Text of at most `max` characters that is not blank: a title or a name.
pub fn title(max: usize) -> impl Rule<String> {
    let text = text(max);
    move |value| {
        let title = text(value)?;
        if title.trim().is_empty() {
            return Err("must not be empty or only spaces".to_owned());
        }
        Ok(title)
    }
}

/// A calendar date written `YYYY-MM-DD`.
pub fn date(value: &Value) -> Result<NaiveDate, String> {
    let text = string(value)?;
    let parsed = (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten();
    parsed.ok_or_else(|| {
        format!("must be a date written YYYY-MM-DD, such as 2025-06-30 (got {text:?})")
    })
}

/// The id of another resource.
pub fn id(value: &Value) -> Result<Uuid, String> {
    let text = string(value)?;
    Uuid::try_parse(text).map_err(|_| format!("must be a UUID (got {text:?})"))
}

/// A whole number from `min` to `max`, inclusive. JSON does not tell `3` from
/// `3.0`, so neither do we.
pub fn integer<T: TryFrom<i64>>(min: i64, max: i64) -> impl Rule<T> {
    move |value| {
        let whole = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|number| number.fract() == 0.0 && number.abs() < 2f64.powi(53))
                .map(|number| number as i64)
        });
        whole
            .filter(|number| (min..=max).contains(number))
            .and_then(|number| T::try_from(number).ok())
            .ok_or_else(|| format!("must be a whole number from {min} to {max} (got {value})"))
    }
}

/// A number from `min` to `max`, inclusive, such as a measured value. JSON has no
/// NaN or infinity, and the bounds keep sums of many values finite and exact enough.
pub fn number(min: f64, max: f64) -> impl Rule<f64> {
    move |value| match value {
        Value::Number(number) => number
            .as_f64()
            .filter(|number| number.is_finite() && (min..=max).contains(number))
            .ok_or_else(|| format!("must be a number from {min:e} to {max:e} (got {value})")),
        other => Err(format!("must be a number, not {}", json_type_name(other))),
    }
}

/// One of the values of a text enumeration such as a status.
pub fn one_of<T: crate::models::TextEnum>(value: &Value) -> Result<T, String> {
    let text = string(value)?;
    T::parse(text).ok_or_else(|| format!("must be one of {} (got {text:?})", T::VALUES.join(", ")))
}

/// Fields every resource shows but no client sets.
pub const SERVER_SET: &[(&str, &str)] = &[
    ("id", "ids are assigned by the server"),
    (
        "created_at",
        "the server records when a resource was created",
    ),
    (
        "updated_at",
        "the server records when a resource was last changed",
    ),
];
