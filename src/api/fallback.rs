//! The answer for requests no route takes: 405 with `Allow` when the path exists
//! with other methods, else 404. Both come from the OpenAPI document, so they can
//! never disagree with it.

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The documented paths, as segments (`{plan_id}` matches any one segment), with their methods.
pub struct KnownPaths(Vec<(Vec<String>, Vec<String>)>);

impl KnownPaths {
    /// Reads the paths and methods of the document.
    pub fn from_document(document: &OpenApi) -> Self {
        let paths = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let item = serde_json::to_value(item).unwrap_or_default();
                let methods = METHODS
                    .iter()
                    .filter(|method| item.get(**method).is_some())
                    .map(|method| method.to_uppercase())
                    .collect();
                (segments(path).map(str::to_owned).collect(), methods)
            })
            .collect();
        Self(paths)
    }

    /// The methods of the documented path that matches `path` most closely: a
    /// literal segment (`/plans/import`) wins over a parameter (`/plans/{plan_id}`).
    fn methods_for(&self, path: &str) -> Option<&[String]> {
        let requested: Vec<&str> = segments(path).collect();
        self.0
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == requested.len()
                    && pattern
                        .iter()
                        .zip(&requested)
                        .all(|(p, r)| p.starts_with('{') || p == r)
            })
            .max_by_key(|(pattern, _)| pattern.iter().filter(|p| !p.starts_with('{')).count())
            .map(|(_, methods)| methods.as_slice())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// The default service of the app: no route took the request.
pub async fn no_route(
    request: HttpRequest,
    known: web::Data<KnownPaths>,
) -> Result<HttpResponse, ApiError> {
    Err(match known.methods_for(request.path()) {
        Some(methods) => ApiError::MethodNotAllowed(methods.to_vec()),
        None => ApiError::NotFound(format!(
            "there is no route {}; the API is described at /api/v1/openapi.json and /docs",
            request.path()
        )),
    })
}

/// The answer when a route took the request but an id in its path is not a UUID:
/// a 405 when the path is really another one that lacks this method (`PATCH
/// /plans/import`), else a 404, since such an id names nothing.
pub fn not_an_id(request: &HttpRequest) -> ApiError {
    let methods = request
        .app_data::<web::Data<KnownPaths>>()
        .and_then(|known| known.methods_for(request.path()));
    match methods {
        Some(methods) if !methods.iter().any(|m| m == request.method().as_str()) => {
            ApiError::MethodNotAllowed(methods.to_vec())
        }
        _ => ApiError::NotFound(format!(
            "nothing is at {}: ids are UUIDs, such as 0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
            request.path()
        )),
    }
}
