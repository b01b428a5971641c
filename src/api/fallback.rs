//! The answer for requests no route takes: 405 with `Allow` when the path exists
//! with other methods, else 404. Both come from the route table read from the
//! OpenAPI document, so they can never disagree with it.

use actix_web::{HttpRequest, HttpResponse, web};

use super::route_table::RouteTable;
use crate::error::ApiError;

/// The default service of the app: no route took the request.
pub async fn no_route(
    request: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match routes.methods_for(request.path()) {
        Some(methods) => ApiError::MethodNotAllowed(methods),
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
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| routes.methods_for(request.path()));
    match methods {
        Some(methods) if !methods.iter().any(|m| m == request.method().as_str()) => {
            ApiError::MethodNotAllowed(methods)
        }
        _ => ApiError::NotFound(format!(
            "nothing is at {}: ids are UUIDs, such as 0193a3c4-5b6e-7f00-8a1b-2c3d4e5f6a7b",
            request.path()
        )),
    }
}
