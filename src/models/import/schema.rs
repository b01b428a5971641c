//! The schemas of an import document: each level is the create body of its
//! resource, plus its nested lists, plus the fields an export carries that an
//! import ignores (so that an export imports as it is).

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::{IGNORED_IN_AREA, IGNORED_IN_GOAL, IGNORED_IN_PLAN, IGNORED_IN_UPDATE, ignored_keys};
use crate::models::area::AreaInput;
use crate::models::goal::GoalInput;
use crate::models::plan::PlanInput;
use crate::models::status_update::StatusUpdateInput;

/// Declares the schema of one level of an import document.
macro_rules! import_schema {
    ($name:ident, $input:ty, $what:literal, ignored: $ignored:expr, lists: [$(($list:literal, $item:literal, $max:literal, $about:literal)),*]) => {
        #[doc = concat!($what, " in an import document.")]
        pub enum $name {}

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let lists: &[(&str, &str, usize, &str)] = &[$(($list, $item, $max, $about)),*];
                extend(<$input as PartialSchema>::schema(), $what, $ignored, lists)
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$input as ToSchema>::schemas(schemas);
                nested_schemas(schemas);
            }
        }
    };
}

import_schema!(PlanImport, PlanInput, "A plan",
    ignored: IGNORED_IN_PLAN,
    lists: [("areas", "AreaImport", 200, "The plan's strategic areas, in order.")]);
import_schema!(AreaImport, AreaInput, "A strategic area",
    ignored: IGNORED_IN_AREA,
    lists: [("goals", "GoalImport", 5000, "The area's goals, in order.")]);
import_schema!(GoalImport, GoalInput, "A goal",
    ignored: IGNORED_IN_GOAL,
lists: [
    ("status_updates", "StatusUpdateImport", 50000, "The goal's status updates, in any order."),
    ("sub_goals", "GoalImport", 5000, "The goal's sub-goals, in order (at most 8 levels in all).")
]);
import_schema!(StatusUpdateImport, StatusUpdateInput, "A status update",
    ignored: IGNORED_IN_UPDATE,
    lists: []);

/// The schemas an import document refers to, for the document's components
/// (each once, though the levels refer to each other).
fn nested_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    for (name, schema) in [
        ("AreaImport", AreaImport::schema()),
        ("GoalImport", GoalImport::schema()),
        ("StatusUpdateImport", StatusUpdateImport::schema()),
    ] {
        if !schemas.iter().any(|(known, _)| known == name) {
            schemas.push((name.to_owned(), schema));
        }
    }
}

/// The create body's schema with the nested lists and the ignored fields added.
fn extend(
    base: RefOr<Schema>,
    what: &str,
    ignored: &'static [&'static str],
    lists: &[(&str, &str, usize, &str)],
) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = base else {
        return base;
    };
    object.description = Some(format!(
        "{what} in an import document: the fields of its create body, with its nested lists. Fields an export carries that an import does not take ({}) are accepted and ignored. A `position`, if given, must be the item's place in its list.",
        ignored_keys(ignored).collect::<Vec<_>>().join(", ")
    ));
    object.examples = Vec::new();
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    for field in ignored_keys(ignored) {
        // Any value: an export sends strings, objects or arrays here.
        let any = ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some("Ignored on import."))
            .build();
        object
            .properties
            .insert(field.to_owned(), RefOr::T(Schema::Object(any)));
    }
    for (name, item, max, about) in lists {
        let array = ArrayBuilder::new()
            .items(Ref::from_schema_name(*item))
            .max_items(Some(*max))
            .description(Some(*about));
        object
            .properties
            .insert((*name).to_owned(), RefOr::T(Schema::Array(array.build())));
    }
    RefOr::T(Schema::Object(object))
}
