//! Every request is answered within `REQUEST_TIMEOUT_SECONDS`. A database that stops
//! answering without closing its connections (a frozen server, a network partition)
//! would otherwise hold requests, and the connections they took, until the client
//! gives up. Past the deadline the request's work is dropped: a connection dropped
//! in a transaction is discarded by the pool, so the server rolls the transaction
//! back, unless its commit was already sent. The client gets a 503 with
//! `Retry-After`, and a write repeated with its `Idempotency-Key` is applied once.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::future::{Either, select};
use tokio::time::{Instant, sleep_until};

use crate::error::ApiError;

/// The longest a request may take, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// When the request being answered must be done by; a handler that waits on
/// purpose (a long poll) moves it by the time it waits.
#[derive(Debug, Clone)]
pub struct Deadline(Rc<Cell<Instant>>);

impl Deadline {
    /// The time `request` has left before its deadline; `None` outside this
    /// middleware. For a handler that waits its turn, so that it gives up while it
    /// can still say why.
    pub fn remaining(request: &HttpRequest) -> Option<Duration> {
        let deadline = request.extensions().get::<Deadline>()?.0.get();
        Some(deadline.saturating_duration_since(Instant::now()))
    }

    /// Moves the deadline of `request` later by `wait`.
    pub fn extend(request: &HttpRequest, wait: Duration) {
        if let Some(deadline) = request.extensions().get::<Deadline>() {
            deadline.0.set(deadline.0.get() + wait);
        }
    }
}

/// Middleware: answers 503 when the rest of the service has not answered by the
/// request's deadline.
pub async fn within_deadline(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timeout = request
        .app_data::<web::Data<RequestTimeout>>()
        .expect("the app has a request timeout")
        .0;
    let deadline = Deadline(Rc::new(Cell::new(Instant::now() + timeout)));
    request.extensions_mut().insert(deadline.clone());
    let mut answer = std::pin::pin!(next.call(request));
    loop {
        let due = std::pin::pin!(sleep_until(deadline.0.get()));
        match select(answer.as_mut(), due).await {
            Either::Left((response, _)) => return Ok(response?.map_into_boxed_body()),
            // Not yet if a long poll moved the deadline meanwhile.
            Either::Right(_) if deadline.0.get() > Instant::now() => {}
            // An error, not a response: a response needs the request, which the
            // work being dropped holds, and a copy of it kept aside would break
            // routing, which needs the only one. The server makes the problem
            // document from the error, without the headers of the outer middleware.
            Either::Right(_) => return Err(ApiError::TimedOut(timeout.as_secs()).into()),
        }
    }
}
