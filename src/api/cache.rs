//! The plan document and the tracking sheet, rendered once and served from memory
//! until their plan changes. Rendering the 1,000-goal document takes about 10 ms of
//! one core (1,000 goals built, serialised, hashed, gzipped), 64 readers got 185 a
//! second, and 64 readers of it whole (every one of a million updates) took the
//! service past 1 GiB (BENCHMARKS.md); it changes only when its plan does.
//!
//! Each rendered body (JSON or CSV, gzipped when it is worth it) is held with its
//! entity tag, shared by every reader (`Bytes`: one copy), per instance and
//! shared by its workers, within `CACHE_BYTES`, the least recently used let go
//! first. It is found by what shapes it (the plan, the query's parameters, the day
//! in UTC: measures' current values depend on it) and is good for a request when it
//! was rendered at the plan's version the request read, or later (see
//! [`Key::read`]). The version is read for every request, from the database that
//! every instance writes to, so a write anywhere is seen at once everywhere.
//!
//! Renders are bounded: [`RENDERS_AT_ONCE`] per instance, and requests for the same
//! representation at the same version wait for one render and share it. A request
//! that cannot get its turn within nine tenths of the time it has left is a 503
//! with `Retry-After` ([`ApiError::Busy`]), while it can still be answered.

mod held;
mod sent;

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant as StdInstant;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, timeout_at};
use uuid::Uuid;

use self::held::Held;
use self::sent::{Inflating, Slices};
use super::connection::ReadPool;
use super::middleware::access::Access;
use super::middleware::compression::{self, MIN_COMPRESSED};
use super::middleware::conditional::etag_of_hashed;
use super::middleware::deadline::Deadline;
use crate::csv;
use crate::error::ApiError;
use crate::models::document::UpdatesInDocument;
use crate::models::event::plan_version;
use crate::models::tracking_sheet::SheetFilter;

/// Renders one instance runs at once. Each holds its rows, its view and its gzip
/// (100 MB at the peak of the 1,000-goal document with every one of a million
/// updates), and they share two cores with the database: four let renders overlap
/// their queries while bounding the memory of any number of readers.
pub const RENDERS_AT_ONCE: usize = 4;

/// The header a CSV file's feed position is sent in.
pub static FEED_POSITION: HeaderName = HeaderName::from_static("feed-position");

/// Bytes counted for an entry besides its bodies: its key, headers and place in
/// the maps, roughly.
const ENTRY_OVERHEAD: usize = 512;

/// What shapes a body besides its plan: the route and the parameters it reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `GET /plans/{plan_id}/document` without `as_of` (a past day is rebuilt
    /// from history, rarely, and not cached).
    Document(UpdatesInDocument),
    /// `GET /plans/{plan_id}/tracking-sheet`, as CSV or JSON.
    Sheet { filter: SheetFilter, csv: bool },
}

/// Where a representation is held: one per shape of a plan's body a day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Slot {
    plan_id: Uuid,
    shape: Shape,
    day: NaiveDate,
}

/// A representation as a request needs it: its slot, at the plan's version the
/// request read, or later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    slot: Slot,
    version: i64,
}

impl Key {
    /// The key of a request for `shape` of the plan, now.
    ///
    /// The day and the version are read before the render reads any row, and each
    /// only ever grows, so whatever is rendered for this key is at least as new as
    /// the key: a write that commits meanwhile makes an entry look older than it is,
    /// never newer. Serving it is then right for every request that read this
    /// version: the request began while the version was current, and what it gets
    /// was committed before it is answered, so it is the plan as it stood at some
    /// moment of the request. The other order (rows, then version) could file a
    /// render from before a write under the write's version, and serve it until
    /// the plan next changed.
    pub async fn read(reads: &ReadPool, plan_id: Uuid, shape: Shape) -> Result<Self, ApiError> {
        let day = Utc::now().date_naive();
        let version = plan_version(&mut *reads.conn().await?, plan_id).await?;
        Ok(Self {
            slot: Slot {
                plan_id,
                shape,
                day,
            },
            version,
        })
    }
}

/// A rendered body with what its answer needs.
pub struct Representation {
    content_type: &'static str,
    /// The tag of the plain bytes (`conditional::etag_of`), worked out as they were
    /// written.
    etag: HeaderValue,
    /// What a file to save is sent with besides: its name (`Content-Disposition`)
    /// and, as a file has no field for it, the feed position it reflects.
    file_headers: Vec<(HeaderName, HeaderValue)>,
    body: Body,
    /// Whether the plan was a draft: then only callers who read drafts get it.
    plan_is_draft: bool,
}

/// A body as it is kept.
enum Body {
    /// Under `MIN_COMPRESSED` bytes: as it is, for everyone.
    Plain(Bytes),
    /// Larger: gzipped only, as nearly every client takes it, and inflated while it
    /// is sent to one that does not. The 1,000-goal document with every update of a
    /// million is 64 MB of JSON and 7 MB gzipped: kept plain, it would not fit the
    /// cache, and its render would hold both.
    Gzip { gzip: Bytes, plain_length: u64 },
}

impl Representation {
    /// `value` as JSON.
    pub fn json(value: &impl Serialize, plan_is_draft: bool) -> Result<Self, ApiError> {
        let body = encode(|out| serde_json::to_writer(out, value).map_err(io::Error::from))?;
        Ok(Self {
            content_type: "application/json",
            etag: body.0,
            file_headers: Vec::new(),
            body: body.1,
            plan_is_draft,
        })
    }

    /// `text` as a CSV file named `file_name`, which reflects the change feed up to
    /// `feed_position`.
    pub fn csv(
        text: &str,
        file_name: &str,
        feed_position: i64,
        plan_is_draft: bool,
    ) -> Result<Self, ApiError> {
        let disposition = HeaderValue::try_from(format!("attachment; filename=\"{file_name}\""))
            .map_err(|_| ApiError::Internal(format!("file name {file_name:?} is no header")))?;
        let body = encode(|out| out.write_all(text.as_bytes()))?;
        Ok(Self {
            content_type: csv::CONTENT_TYPE,
            etag: body.0,
            file_headers: vec![
                (header::CONTENT_DISPOSITION, disposition),
                (FEED_POSITION.clone(), HeaderValue::from(feed_position)),
            ],
            body: body.1,
            plan_is_draft,
        })
    }

    /// The bytes it is counted as in the cache's bound.
    fn size(&self) -> usize {
        ENTRY_OVERHEAD
            + match &self.body {
                Body::Plain(plain) => plain.len(),
                Body::Gzip { gzip, .. } => gzip.len(),
            }
    }

    /// The answer: gzipped if the client accepts it (the compression middleware
    /// leaves an encoded answer alone), tagged (the entity tags middleware answers
    /// 304 from the tag alone).
    fn response(&self, request: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response
            .content_type(self.content_type)
            .insert_header((header::ETAG, self.etag.clone()));
        for (name, value) in &self.file_headers {
            response.insert_header((name.clone(), value.clone()));
        }
        match &self.body {
            Body::Plain(plain) => response.body(Slices(plain.clone())),
            Body::Gzip { gzip, .. } if compression::accepts_gzip(request.headers()) => response
                .insert_header((header::CONTENT_ENCODING, "gzip"))
                .body(Slices(gzip.clone())),
            Body::Gzip { gzip, plain_length } => {
                response.body(Inflating::new(gzip.clone(), *plain_length))
            }
        }
    }
}

/// What `write` writes, hashed for its tag and gzipped as it is written, so that
/// the plain bytes are never whole in memory; a body too small to be worth gzip is
/// inflated back and kept plain.
fn encode(
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(HeaderValue, Body), ApiError> {
    let failed =
        |error: io::Error| ApiError::Internal(format!("a body could not be written: {error}"));
    let mut encoding = Encoding {
        hasher: Sha256::new(),
        gzip: compression::encoder(Vec::new()),
        plain_length: 0,
    };
    let mut buffered = BufWriter::with_capacity(64 * 1024, &mut encoding);
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(failed)?;
    drop(buffered);
    let etag =
        HeaderValue::try_from(etag_of_hashed(encoding.hasher)).expect("an entity tag is ASCII");
    let gzip = encoding.gzip.finish().map_err(failed)?;
    let body = match encoding.plain_length < MIN_COMPRESSED as u64 {
        true => {
            let mut plain = Vec::new();
            GzDecoder::new(gzip.as_slice())
                .read_to_end(&mut plain)
                .map_err(failed)?;
            Body::Plain(Bytes::from(plain))
        }
        false => Body::Gzip {
            gzip: Bytes::from(gzip),
            plain_length: encoding.plain_length,
        },
    };
    Ok((etag, body))
}

/// Where a body is written: its hash, its gzip and its length.
struct Encoding {
    hasher: Sha256,
    gzip: GzEncoder<Vec<u8>>,
    plain_length: u64,
}

impl Write for Encoding {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.gzip.write_all(bytes)?;
        self.hasher.update(bytes);
        self.plain_length += bytes.len() as u64;
        Ok(bytes.len())
    }

    /// Nothing to do: the gzip stream is completed once, by `finish` (a flush of
    /// its own would write a sync marker into it).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The instance's rendered documents and sheets.
pub struct RepresentationCache {
    state: Mutex<State>,
    renders: Semaphore,
    /// Requests answered without rendering (from the cache, or from another
    /// request's render of the same), and requests that rendered.
    hits: AtomicU64,
    misses: AtomicU64,
}

struct State {
    /// Each slot's newest render, with the version it was rendered at.
    held: Held<Slot, (i64, Arc<Representation>)>,
    /// The renders under way, which requests for the same key wait for.
    rendering: HashMap<Key, watch::Receiver<Option<Arc<Representation>>>>,
}

/// `waiting`, given up at `give_up` with a 503 that says the service is busy.
async fn within<T>(
    give_up: Option<Instant>,
    waiting: impl Future<Output = T>,
) -> Result<T, ApiError> {
    match give_up {
        Some(at) => timeout_at(at, waiting).await.map_err(|_| ApiError::Busy),
        None => Ok(waiting.await),
    }
}

/// What a request does for its key.
enum Turn<'a> {
    Found(Arc<Representation>),
    Wait(watch::Receiver<Option<Arc<Representation>>>),
    Render(Rendering<'a>),
}

/// A render under way; those waiting for it are woken when it is dropped, done or
/// not (failed, or cut off by the deadline), and look again.
struct Rendering<'a> {
    cache: &'a RepresentationCache,
    key: Key,
    done: watch::Sender<Option<Arc<Representation>>>,
}

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        self.cache.lock().rendering.remove(&self.key);
    }
}

impl RepresentationCache {
    /// A cache holding up to `bound` bytes; 0 holds nothing (renders are still
    /// bounded and shared).
    pub fn new(bound: usize) -> Self {
        Self {
            state: Mutex::new(State {
                held: Held::new(bound),
                rendering: HashMap::new(),
            }),
            renders: Semaphore::new(RENDERS_AT_ONCE),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Requests answered without rendering, requests that rendered, and the bytes
    /// held now: for the metrics.
    pub fn counts(&self) -> (u64, u64, usize) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
            self.lock().held.bytes(),
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves maps that are still a valid cache.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer to `request` for `key`: from the cache, or from another
    /// request's render of the same, or rendered by `render` (which takes its own
    /// connection, once it has its turn). A draft plan's is a 404 for callers who
    /// may not read drafts, as an id that names nothing.
    pub async fn answer(
        &self,
        request: &HttpRequest,
        access: &Access,
        key: Key,
        render: impl AsyncFnOnce() -> Result<Representation, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let representation = self.get(request, &key, render).await?;
        if representation.plan_is_draft && !access.reads_drafts() {
            return Err(ApiError::not_found("plan", key.slot.plan_id));
        }
        Ok(representation.response(request))
    }

    async fn get(
        &self,
        request: &HttpRequest,
        key: &Key,
        render: impl AsyncFnOnce() -> Result<Representation, ApiError>,
    ) -> Result<Arc<Representation>, ApiError> {
        // Nine tenths of the time left, so that a refusal still gets out in time.
        let give_up = Deadline::remaining(request).map(|left| Instant::now() + left * 9 / 10);
        let rendering = loop {
            match self.turn(key) {
                Turn::Found(found) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    log::debug!("cache hit: {key:?}");
                    return Ok(found);
                }
                Turn::Wait(mut done) => {
                    let shared = within(give_up, async move {
                        done.wait_for(Option::is_some)
                            .await
                            .ok()
                            .and_then(|d| d.clone())
                    })
                    .await?;
                    if let Some(shared) = shared {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        log::debug!("cache hit (another request's render): {key:?}");
                        return Ok(shared);
                    }
                    // That render failed or was cut off: look again.
                }
                Turn::Render(rendering) => break rendering,
            }
        };
        let _turn = within(give_up, self.renders.acquire())
            .await?
            .map_err(|_| ApiError::Internal("the renders' semaphore closed".to_owned()))?;
        self.misses.fetch_add(1, Ordering::Relaxed);
        let started = StdInstant::now();
        let representation = Arc::new(render().await?);
        log::debug!(
            "cache miss: {key:?} rendered in {:?}, {} bytes",
            started.elapsed(),
            representation.size()
        );
        rendering.done.send_replace(Some(representation.clone()));
        let size = representation.size();
        let mut state = self.lock();
        // A render of a later version, finished first, stays.
        if !matches!(state.held.get(&key.slot), Some((newer, _)) if *newer > key.version) {
            let entry = (key.version, representation.clone());
            state.held.put(key.slot.clone(), entry, size);
        }
        drop(state);
        drop(rendering);
        Ok(representation)
    }

    /// Whether `key` is held, being rendered, or is this request's to render.
    fn turn(&self, key: &Key) -> Turn<'_> {
        let mut state = self.lock();
        if let Some((version, found)) = state.held.get(&key.slot)
            && *version >= key.version
        {
            return Turn::Found(found.clone());
        }
        if let Some(done) = state.rendering.get(key) {
            return Turn::Wait(done.clone());
        }
        let (done, waiting) = watch::channel(None);
        state.rendering.insert(key.clone(), waiting);
        Turn::Render(Rendering {
            cache: self,
            key: key.clone(),
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use chrono::{Days, NaiveDate};
    use uuid::Uuid;

    use super::{Key, Representation, RepresentationCache, Shape, Slot, Turn};
    use crate::models::document::UpdatesInDocument;

    fn key(version: i64, day: NaiveDate) -> Key {
        let shape = Shape::Document(UpdatesInDocument::All);
        let (plan_id, day) = (Uuid::nil(), day);
        Key {
            slot: Slot {
                plan_id,
                shape,
                day,
            },
            version,
        }
    }

    /// The day is part of the key because measures' current values (and so the
    /// sheet) change at midnight UTC with no write: a key of another day, as
    /// `Key::read` makes after midnight, is rendered afresh.
    #[actix_web::test]
    async fn a_render_serves_its_version_and_earlier_ones_but_not_a_later_one_or_another_day() {
        let cache = RepresentationCache::new(1 << 20);
        let request = TestRequest::default().to_http_request();
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date");
        let tomorrow = today + Days::new(1);
        cache
            .get(&request, &key(5, today), async || {
                Representation::json(&"at version 5", false)
            })
            .await
            .expect("a render");
        for (version, day, found) in [
            (5, today, true),
            (4, today, true),
            (6, today, false),
            (5, tomorrow, false),
        ] {
            let turn = cache.turn(&key(version, day));
            assert_eq!(
                matches!(turn, Turn::Found(_)),
                found,
                "version {version} on {day}"
            );
        }
        assert_eq!(cache.counts().1, 1);
    }
}
