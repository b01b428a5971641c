//! Counts every request for the Prometheus metrics (`METRICS_ADDR`, served by
//! `api::metrics`): how many, by route template, method and status; how long they
//! took, by route template and method; how many are in flight.
//!
//! Written by hand, with atomics, rather than with a metrics crate (such as
//! `prometheus-client`, whose label families look each observation's series up in a
//! map behind a lock): every series a request can land in exists from the start,
//! one per operation of the route table (its pattern, never the raw path, so the
//! number of series is bounded), and recording one is a few relaxed additions, with
//! no lock and no lookup by label.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web;

use crate::api::route_table::RouteTable;

/// The upper bounds of the latency histogram's buckets, in seconds: 1 ms to 10 s,
/// about three a decade.
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The route label of requests for no documented operation: unknown paths,
/// methods a path does not have, Swagger UI.
pub const UNMATCHED: &str = "unmatched";
/// The methods a request outside the documented operations is counted under; any
/// other is counted as `OTHER`, so that made-up methods add no series.
const METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::TRACE,
    Method::CONNECT,
];
const OTHER: &str = "OTHER";
/// Statuses counted one by one: every code HTTP defines, 100 to 599.
const STATUSES: std::ops::RangeInclusive<u16> = 100..=599;

/// The requests of one route template and method.
pub struct Series {
    pub route: String,
    pub method: String,
    /// By status, from 100.
    statuses: Box<[AtomicU64]>,
    /// By bucket of [`BUCKETS`], each counting only its own range (summed when
    /// shown), and one past the last for slower ones.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    nanoseconds: AtomicU64,
}

impl Series {
    fn new(route: &str, method: &str) -> Self {
        Self {
            route: route.to_owned(),
            method: method.to_owned(),
            statuses: STATUSES.map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            nanoseconds: AtomicU64::new(0),
        }
    }

    fn record(&self, status: StatusCode, started: Instant) {
        let elapsed = started.elapsed();
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.partition_point(|&bound| bound < seconds);
        // Relaxed: each number only ever grows, and a scrape needs no order among them.
        // The `http` crate allows codes up to 999, which no handler here answers.
        let status = usize::from(status.as_u16() - STATUSES.start());
        if let Some(count) = self.statuses.get(status) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanoseconds = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanoseconds.fetch_add(nanoseconds, Ordering::Relaxed);
    }

    /// The requests answered with each status, those with none left out.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        STATUSES
            .zip(&self.statuses)
            .map(|(status, count)| (status, count.load(Ordering::Relaxed)))
            .filter(|&(_, count)| count > 0)
    }

    /// The cumulative count of each bucket of [`BUCKETS`] and then of all (`+Inf`),
    /// and the seconds taken in all.
    pub fn latency(&self) -> ([u64; BUCKETS.len() + 1], f64) {
        let mut total = 0;
        let cumulative = std::array::from_fn(|at| {
            total += self.buckets[at].load(Ordering::Relaxed);
            total
        });
        let seconds = self.nanoseconds.load(Ordering::Relaxed) as f64 / 1e9;
        (cumulative, seconds)
    }
}

/// Every series, made when the app starts.
pub struct RequestMetrics {
    routes: Arc<RouteTable>,
    /// One per operation of the route table, in its order; after them, one for
    /// `HEAD` of each `GET` operation (answered as `GET`: see `middleware::head`);
    /// then the unmatched ones, by method.
    series: Vec<Series>,
    /// Where the `HEAD` series of each operation is in `series`, if it has one.
    heads: Vec<Option<usize>>,
    unmatched: usize,
    in_flight: AtomicI64,
}

impl RequestMetrics {
    pub fn new(routes: Arc<RouteTable>) -> Self {
        let operations = routes.operations();
        let mut series: Vec<Series> = (operations.iter())
            .map(|op| Series::new(&op.pattern, op.method.as_str()))
            .collect();
        let mut heads = Vec::with_capacity(operations.len());
        for op in operations {
            heads.push((op.method == Method::GET).then(|| {
                series.push(Series::new(&op.pattern, Method::HEAD.as_str()));
                series.len() - 1
            }));
        }
        let unmatched = series.len();
        let methods = METHODS.iter().map(Method::as_str).chain([OTHER]);
        series.extend(methods.map(|method| Series::new(UNMATCHED, method)));
        Self {
            routes,
            series,
            heads,
            unmatched,
            in_flight: AtomicI64::new(0),
        }
    }

    /// Every series, in a fixed order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The series a request for `path` with `method` counts in.
    fn series_for(&self, method: &Method, path: &str) -> &Series {
        let head = *method == Method::HEAD;
        let lookup = if head { &Method::GET } else { method };
        let at = match self.routes.operation(lookup, path) {
            Some((index, _)) if head => self.heads[index],
            Some((index, _)) => Some(index),
            None => None,
        };
        let unmatched = || {
            let by_method = METHODS.iter().position(|known| known == method);
            self.unmatched + by_method.unwrap_or(METHODS.len())
        };
        &self.series[at.unwrap_or_else(unmatched)]
    }
}

/// Counts a request in flight for as long as it lives, even if the client goes
/// away and the request is dropped unanswered.
struct InFlight<'a>(&'a AtomicI64);

impl<'a> InFlight<'a> {
    fn start(count: &'a AtomicI64) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: see the module documentation. The latency is until the response
/// is ready to send; its body's streaming is not included.
pub async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = request
        .app_data::<web::Data<RequestMetrics>>()
        .expect("the app has its request metrics")
        .clone();
    // The decoded path, as the access check and the router see it.
    let series = metrics.series_for(request.method(), request.match_info().as_str());
    let _in_flight = InFlight::start(&metrics.in_flight);
    let outcome = next.call(request).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        // Answered by the server itself (a request past its deadline).
        Err(error) => error.as_response_error().status_code(),
    };
    series.record(status, started);
    outcome
}
