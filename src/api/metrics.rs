//! `GET /metrics` on the metrics listener (`METRICS_ADDR`, never the API's): the
//! instance's numbers in Prometheus's text format, version 0.0.4. Written out by
//! hand, as the counters are (see `middleware::metrics`): a few dozen lines
//! instead of a crate and its registry, and nothing on a request's path.

use std::fmt::{Display, Write};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use deadpool::managed::WeakPool;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;

use super::cache::RepresentationCache;
use super::connection::pooled;
use super::middleware::access::{AccessControl, TokenCache};
use super::middleware::metrics::{BUCKETS, RequestMetrics};
use crate::db::Pool;
use crate::models::event;

/// How long a scrape waits for the change feed's head before leaving it out:
/// well within Prometheus's default 10 s scrape timeout, so that a database that
/// is down costs that one number, not the whole scrape.
const FEED_HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// An HTTP worker's pool, held weakly: a stopped worker's pool closes and drops out.
type WorkerPool = WeakPool<AsyncDieselConnectionManager<AsyncPgConnection>>;

/// Everything a scrape reads.
pub struct Sources {
    pub requests: web::Data<RequestMetrics>,
    pub access: web::Data<AccessControl>,
    pub tokens: web::Data<TokenCache>,
    pub representations: web::Data<RepresentationCache>,
    /// The HTTP workers' pools, one each.
    pools: Mutex<Vec<WorkerPool>>,
    /// One connection of its own for the feed's head, so that scrapes neither wait
    /// for the workers' connections nor show in their pools' numbers.
    feed_pool: Pool,
}

impl Sources {
    pub fn new(
        requests: web::Data<RequestMetrics>,
        access: web::Data<AccessControl>,
        tokens: web::Data<TokenCache>,
        representations: web::Data<RepresentationCache>,
        feed_pool: Pool,
    ) -> Self {
        Self {
            requests,
            access,
            tokens,
            representations,
            pools: Mutex::default(),
            feed_pool,
        }
    }

    /// Adds an HTTP worker's pool to the pool numbers.
    pub fn watch_pool(&self, pool: &Pool) {
        self.lock_pools().push(pool.weak());
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, Vec<WorkerPool>> {
        // A panic while holding the lock leaves a list that is still true.
        self.pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The newest event's number, read at each scrape (one row: the counter the
    /// numbering trigger keeps), rather than followed from the `LISTEN`
    /// notifications, which carry no number and are missed while that connection
    /// is down. `None` when the database does not answer in time.
    async fn feed_head(&self) -> Option<i64> {
        let read = async {
            let mut conn = pooled(&self.feed_pool).await?;
            event::newest_seq(&mut conn).await
        };
        match tokio::time::timeout(FEED_HEAD_TIMEOUT, read).await {
            Ok(Ok(head)) => Some(head),
            Ok(Err(error)) => {
                log::warn!("metrics: cannot read the change feed's head: {error}");
                None
            }
            Err(_) => {
                log::warn!("metrics: the change feed's head took over {FEED_HEAD_TIMEOUT:?}");
                None
            }
        }
    }
}

/// The metrics, in the text format.
pub async fn scrape(sources: web::Data<Sources>) -> HttpResponse {
    let mut out = Exposition::default();
    let requests = &sources.requests;
    out.family(
        "strategy_tracker_http_requests_total",
        "counter",
        "Requests answered, by route template (unmatched: no documented operation), method and status.",
    );
    for series in requests.series() {
        for (status, count) in series.statuses() {
            let labels = [
                ("route", series.route.as_str()),
                ("method", &series.method),
                ("status", &status.to_string()),
            ];
            out.sample("strategy_tracker_http_requests_total", &labels, count);
        }
    }
    let name = "strategy_tracker_http_request_duration_seconds";
    out.family(
        name,
        "histogram",
        "Time from a request's arrival to its response being ready, by route template and method.",
    );
    for series in requests.series() {
        let (cumulative, seconds) = series.latency();
        let count = cumulative[BUCKETS.len()];
        if count == 0 {
            continue;
        }
        let (route, method) = (series.route.as_str(), series.method.as_str());
        let bounds = BUCKETS
            .iter()
            .map(f64::to_string)
            .chain(["+Inf".to_owned()]);
        for (bound, count) in bounds.zip(cumulative) {
            let labels = [("route", route), ("method", method), ("le", &bound)];
            out.sample(&format!("{name}_bucket"), &labels, count);
        }
        let labels = [("route", route), ("method", method)];
        out.sample(&format!("{name}_sum"), &labels, seconds);
        out.sample(&format!("{name}_count"), &labels, count);
    }
    out.gauge(
        "strategy_tracker_http_requests_in_flight",
        "Requests being served now.",
        requests.in_flight(),
    );
    pool_numbers(&mut out, &sources);
    if let Some(head) = sources.feed_head().await {
        out.gauge(
            "strategy_tracker_change_feed_newest_seq",
            "The number of the change feed's newest event (its newest_seq); 0 before any.",
            head,
        );
    }
    let name = "strategy_tracker_rate_limit_refusals_total";
    out.family(
        name,
        "counter",
        "Requests refused with 429 by the rate limits, by kind of client: token, or address for calls without a working token.",
    );
    for (kind, count) in sources.access.limiter().refusals() {
        out.sample(name, &[("kind", kind)], count);
    }
    let (hits, misses) = sources.tokens.hits_and_misses();
    out.counter(
        "strategy_tracker_token_cache_hits_total",
        "Token checks answered from this instance's cache.",
        hits,
    );
    out.counter(
        "strategy_tracker_token_cache_misses_total",
        "Token checks that asked the database (the cache is off while the LISTEN connection is down).",
        misses,
    );
    let (hits, misses, bytes) = sources.representations.counts();
    out.counter(
        "strategy_tracker_render_cache_hits_total",
        "Plan documents and tracking sheets served without rendering them: from this instance's cache, or from another request's render of the same.",
        hits,
    );
    out.counter(
        "strategy_tracker_render_cache_misses_total",
        "Plan documents and tracking sheets rendered (their plan changed, or they were not held).",
        misses,
    );
    out.gauge(
        "strategy_tracker_render_cache_bytes",
        "Bytes of rendered documents and sheets this instance holds (at most CACHE_BYTES).",
        bytes,
    );
    let name = "strategy_tracker_build_info";
    out.family(name, "gauge", "Always 1; the version running.");
    out.sample(name, &[("version", env!("CARGO_PKG_VERSION"))], 1);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out.0)
}

/// The HTTP workers' pools, summed.
fn pool_numbers(out: &mut Exposition, sources: &Sources) {
    let (mut max, mut open, mut idle, mut waiting) = (0, 0, 0, 0);
    for pool in sources.lock_pools().iter().filter_map(WeakPool::upgrade) {
        let status = pool.status();
        max += status.max_size;
        open += status.size;
        idle += status.available;
        waiting += status.waiting;
    }
    out.gauge(
        "strategy_tracker_db_pool_max_connections",
        "Most database connections the HTTP workers' pools may open (DATABASE_POOL_SIZE, shared out among the workers).",
        max,
    );
    out.gauge(
        "strategy_tracker_db_pool_connections",
        "Database connections open in the HTTP workers' pools, idle or in use.",
        open,
    );
    out.gauge(
        "strategy_tracker_db_pool_idle_connections",
        "Database connections open and idle in the HTTP workers' pools.",
        idle,
    );
    out.gauge(
        "strategy_tracker_db_pool_waiting_requests",
        "Requests waiting for a database connection, every one of their worker's being in use.",
        waiting,
    );
}

/// The text format being written: each family's `# HELP` and `# TYPE`, then its
/// samples.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        // HELP text escapes only backslashes and line breaks; ours has neither.
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        for (at, (label, text)) in labels.iter().enumerate() {
            self.0.push_str(if at == 0 { "{" } else { "," });
            let _ = write!(self.0, "{label}=\"");
            for c in text.chars() {
                match c {
                    '\\' => self.0.push_str("\\\\"),
                    '"' => self.0.push_str("\\\""),
                    '\n' => self.0.push_str("\\n"),
                    c => self.0.push(c),
                }
            }
            self.0.push('"');
        }
        if !labels.is_empty() {
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: impl Display) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    fn counter(&mut self, name: &str, help: &str, value: impl Display) {
        self.family(name, "counter", help);
        self.sample(name, &[], value);
    }
}
