//! The documented operations as one table, read from the OpenAPI document: the
//! access check finds a request's operation (and its declared `security`) in it,
//! and the answer for requests no route takes (404 or 405 with `Allow`) finds the
//! path's methods in it, so neither can disagree with the other or the document.

use actix_web::http::Method;
use serde_json::Value;
use utoipa::openapi::OpenApi as Document;

/// The order `Allow` lists methods in: reads first, as RFC 9110 lists them.
const ALLOW_ORDER: [Method; 8] = [
    Method::GET,
    Method::HEAD,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::PATCH,
    Method::TRACE,
];

/// One operation of the document.
pub struct Operation {
    pub method: Method,
    /// The documented path, such as `/api/v1/plans/{plan_id}`.
    pub pattern: String,
    /// The operation's declared `security`, as JSON (null when it declares none).
    pub security: Value,
}

/// Every operation of the document, literal paths first.
pub struct RouteTable(Vec<Operation>);

impl RouteTable {
    /// Reads the operations of the document.
    pub fn from_document(document: &Document) -> Self {
        let paths = serde_json::to_value(&document.paths).expect("the document's paths serialize");
        let mut operations = Vec::new();
        for (path, item) in paths.as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                operations.push(Operation {
                    method,
                    pattern: path.clone(),
                    security: operation.get("security").cloned().unwrap_or_default(),
                });
            }
        }
        // Where a literal segment and a parameter could both fit (`/plans/import`,
        // `/plans/{plan_id}`), the literal wins, as it does in the router.
        operations.sort_by_key(|operation| operation.pattern.matches('{').count());
        Self(operations)
    }

    /// Every operation, literal paths first.
    pub fn operations(&self) -> &[Operation] {
        &self.0
    }

    /// The operation a request is for: the first whose pattern its decoded path
    /// fits segment by segment. A comparison of strings: actix's own lookup runs a
    /// regular expression per route, which cost a tenth of each GET.
    /// Also says where it is in [`Self::operations`].
    pub fn operation(&self, method: &Method, path: &str) -> Option<(usize, &Operation)> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, operation)| operation.method == *method && fits(&operation.pattern, path))
    }

    /// The methods of the documented path that `path` fits most closely (a literal
    /// segment wins over a parameter), as `Allow` lists them: HEAD beside GET, as
    /// the service answers it (see `middleware::head`). `None` when no documented
    /// path fits.
    pub fn methods_for(&self, path: &str) -> Option<Vec<String>> {
        let pattern = &self.0.iter().find(|op| fits(&op.pattern, path))?.pattern;
        let mut methods: Vec<Method> = (self.0.iter())
            .filter(|op| op.pattern == *pattern)
            .map(|op| op.method.clone())
            .collect();
        if methods.contains(&Method::GET) {
            methods.push(Method::HEAD);
        }
        methods.sort_by_key(|method| ALLOW_ORDER.iter().position(|known| known == method));
        Some(methods.iter().map(Method::to_string).collect())
    }
}

/// Whether `path` fits `pattern` segment by segment, as the router matches it:
/// `{name}` is one segment that is not empty, so a trailing or doubled slash fits
/// nothing.
fn fits(pattern: &str, path: &str) -> bool {
    let mut patterns = pattern.split('/');
    let mut segments = path.split('/');
    loop {
        match (patterns.next(), segments.next()) {
            (None, None) => return true,
            (Some(pattern), Some(segment))
                if pattern == segment || (parameter(pattern).is_some() && !segment.is_empty()) => {}
            _ => return false,
        }
    }
}

/// The name of a `{name}` path segment.
pub fn parameter(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn paths_fit_their_patterns_segment_by_segment() {
        assert!(fits("/api/v1/plans/{plan_id}", "/api/v1/plans/abc"));
        assert!(!fits("/api/v1/plans/{plan_id}", "/api/v1/plans/"));
        assert!(!fits("/api/v1/plans/{plan_id}", "/api/v1/plans/abc/"));
        assert!(!fits("/api/v1/plans", "/api/v1//plans"));
        assert!(fits("/api/v1/plans/import", "/api/v1/plans/import"));
    }
}
