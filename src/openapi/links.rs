//! Links between operations (OpenAPI `links`), so that tools and readers can follow
//! the API as a client does: from a created resource to the operations on it and
//! on its children, and from a page of a list to the next one.

use std::collections::BTreeMap;

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{OpenApi as Document, RefOr};

/// Adds the links; the resources and their ids are read off the paths themselves.
pub fn add_links(document: &mut Document) {
    let id_parameters = id_parameters(document);
    let targets: Vec<(String, String, Vec<String>)> = document
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            operations(item).filter_map(move |operation| {
                let id = operation.operation_id.clone()?;
                Some((path.clone(), id, path_parameters(path)))
            })
        })
        .collect();
    for (path, item) in document.paths.paths.iter_mut() {
        for operation in operations_mut(item) {
            if let Some(schema) = body_schema(operation, "201")
                && let Some(parameter) = id_parameters.get(&schema)
            {
                link_created(operation, parameter, &targets);
            }
            if body_schema(operation, "200").is_some_and(|schema| schema.ends_with("List")) {
                link_next_page(operation, path);
            }
        }
    }
}

/// For each resource schema, the path parameter that holds its id: read off the
/// `GET /.../{parameter}` whose 200 answer is that schema.
fn id_parameters(document: &Document) -> BTreeMap<String, String> {
    document
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let schema = body_schema(item.get.as_ref()?, "200")?;
            let parameter = path
                .rsplit('/')
                .next()?
                .strip_prefix('{')?
                .strip_suffix('}')?;
            Some((schema, parameter.to_owned()))
        })
        .collect()
}

/// From a creation to every operation addressed by the new resource's id alone.
fn link_created(
    operation: &mut Operation,
    parameter: &str,
    targets: &[(String, String, Vec<String>)],
) {
    let Some(RefOr::T(response)) = operation.responses.responses.get_mut("201") else {
        return;
    };
    for (_, target, parameters) in targets {
        if parameters.len() == 1 && parameters[0] == parameter {
            let link = LinkBuilder::new()
                .operation_id(target.clone())
                .parameter(parameter, "$response.body#/id")
                .description(format!("`{target}` on the resource just created"))
                .build();
            response.links.insert(target.clone(), RefOr::T(link));
        }
    }
}

/// From a page of a list to the next page, with the same path parameters.
fn link_next_page(operation: &mut Operation, path: &str) {
    let Some(id) = operation.operation_id.clone() else {
        return;
    };
    let Some(RefOr::T(response)) = operation.responses.responses.get_mut("200") else {
        return;
    };
    let mut link = LinkBuilder::new()
        .operation_id(id)
        .parameter("cursor", "$response.body#/next_cursor")
        .description("The next page; there is none when `next_cursor` is null");
    for parameter in path_parameters(path) {
        let value = format!("$request.path.{parameter}");
        link = link.parameter(parameter, value);
    }
    response
        .links
        .insert("next_page".to_owned(), RefOr::T(link.build()));
}

/// The name of the schema of an answer's JSON body, if it is a reference.
fn body_schema(operation: &Operation, status: &str) -> Option<String> {
    let RefOr::T(response) = operation.responses.responses.get(status)? else {
        return None;
    };
    let RefOr::T(content) = response.content.get("application/json")? else {
        return None;
    };
    let RefOr::Ref(reference) = content.schema.as_ref()? else {
        return None;
    };
    Some(reference.ref_location.rsplit('/').next()?.to_owned())
}

fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.post, &item.patch, &item.delete]
        .into_iter()
        .flatten()
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}
