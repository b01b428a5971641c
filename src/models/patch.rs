//! The schema of a PATCH body, made from the create body's, so that the two cannot
//! drift: each resource declares its patch beside its input with [`patch_schema`].

use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

use super::event::REVISION_NOTE_LENGTH;
use crate::error::ApiError;

/// Declares the body of a PATCH: the create body's schema with no field required.
macro_rules! patch_schema {
    ($patch:ident, $input:ty, $what:literal) => {
        #[doc = concat!("A JSON merge patch of ", $what, ": the fields to change. Fields left out keep their value; `null` clears a field that may be empty.")]
        pub enum $patch {}

        impl utoipa::PartialSchema for $patch {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::models::patch::patch_of(<$input as utoipa::PartialSchema>::schema(), $what)
            }
        }

        impl utoipa::ToSchema for $patch {
            fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                <$input as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

pub(crate) use patch_schema;

/// The schema of a merge patch made from a create body's: nothing required, no
/// defaults, and the `revision_note` every PATCH takes.
pub fn patch_of(schema: RefOr<Schema>, what: &str) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.required.clear();
            // A default applies to a new resource; a patch leaves out what stays.
            for property in object.properties.values_mut() {
                match property {
                    RefOr::T(Schema::Object(property)) => property.default = None,
                    RefOr::Ref(reference) => reference.default = None,
                    RefOr::T(_) => {}
                }
            }
            object.properties.insert(
                "revision_note".to_owned(),
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .max_length(Some(REVISION_NOTE_LENGTH))
                    .pattern(Some("^[^\\u0000]*$"))
                    .description(Some(
                        "Why the change was made (\"Revised by the board, March 2024\"): recorded on the change's events in the history, not stored on the resource.",
                    ))
                    .into(),
            );
            object.description = Some(format!(
                "A JSON merge patch of {what}: the fields to change. Fields left out keep their value; `null` clears a field that may be empty."
            ));
            object.examples = Vec::new();
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// Takes the `revision_note` out of a PATCH body ("Revised by the board, March
/// 2024"), for the change's events; the rest of the body is the merge patch.
pub fn take_revision_note(body: &mut Value) -> Result<Option<String>, ApiError> {
    let Some(note) = body
        .as_object_mut()
        .and_then(|body| body.remove("revision_note"))
    else {
        return Ok(None);
    };
    let rule = format!(
        "must be text of at most {REVISION_NOTE_LENGTH} characters saying why the change was made, or null"
    );
    match note {
        Value::Null => Ok(None),
        Value::String(note) if note.trim().is_empty() => Ok(None),
        Value::String(note)
            if note.chars().count() <= REVISION_NOTE_LENGTH && !note.contains('\0') =>
        {
            Ok(Some(note))
        }
        _ => Err(ApiError::invalid("revision_note", rule)),
    }
}
