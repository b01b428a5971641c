//! The database connection a handler works on, as an extractor whose type says
//! what the handler may do: a [`ReadConn`] reads (a [`ReadPool`] reads with a
//! connection per step, for reads that wait between steps); a [`WriteConn`] makes changes,
//! each attributed (for the change feed) to the request's token, and, for a POST
//! with an `Idempotency-Key`, on the connection whose transaction also records the
//! response (see [`super::middleware::idempotency`]).

use std::cell::RefCell;
use std::future::{Future, Ready, ready};
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::middleware::access::Access;
use super::sequencer::Sequencer;
use crate::db::Pool;
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::writer::Writer;

/// A pooled connection.
pub type Pooled = diesel_async::pooled_connection::deadpool::Object<Conn>;

/// A connection from the app's pool, or 503 when the database cannot be reached in time.
pub async fn pooled(pool: &Pool) -> Result<Pooled, ApiError> {
    Ok(pool.get().await?)
}

/// The app's sequencer, which a request that wrote wakes once its writes committed.
pub fn sequencer_of(request: &HttpRequest) -> web::Data<Sequencer> {
    request
        .app_data::<web::Data<Sequencer>>()
        .expect("the app has a sequencer")
        .clone()
}

/// The app's pool, as every request part that needs a connection finds it.
pub fn pool_of(request: &HttpRequest) -> web::Data<Pool> {
    request
        .app_data::<web::Data<Pool>>()
        .expect("the app has a pool")
        .clone()
}

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A connection for reading.
pub struct ReadConn(Pooled);

impl FromRequest for ReadConn {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pool = pool_of(request);
        Box::pin(async move { Ok(Self(pooled(&pool).await?)) })
    }
}

impl Deref for ReadConn {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

/// Connections for reading, each taken when it is needed and given back after, for
/// a read that may wait between its queries (for another request's render of the
/// same answer, or for its turn to render): waiting holds no connection that the
/// other requests need.
pub struct ReadPool(web::Data<Pool>);

impl ReadPool {
    /// A connection for the next read; 503 when none can be had in time.
    pub async fn conn(&self) -> Result<Pooled, ApiError> {
        pooled(&self.0).await
    }
}

impl FromRequest for ReadPool {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(pool_of(request))))
    }
}

/// The connection an idempotent POST holds in an open transaction while its
/// handler runs; the handler's [`WriteConn`] borrows it.
#[derive(Clone)]
pub struct HeldConnection(Rc<RefCell<Option<Pooled>>>);

impl HeldConnection {
    pub fn new(conn: Pooled) -> Self {
        Self(Rc::new(RefCell::new(Some(conn))))
    }

    /// The connection back, once the handler is done with it.
    pub fn take(&self) -> Option<Pooled> {
        self.0.borrow_mut().take()
    }
}

/// A connection for changes made by the request's token; changes go through
/// [`WriteConn::writer`]. The connection is taken when the first writer is asked
/// for, after the handler has read its body: a client sending its body slowly
/// holds no database connection meanwhile.
pub struct WriteConn {
    pool: web::Data<Pool>,
    sequencer: web::Data<Sequencer>,
    held: Option<HeldConnection>,
    conn: Option<Borrowed>,
    actor: String,
}

/// Where the connection came from: the pool, or an idempotent request's holder,
/// which gets it back when this is dropped.
enum Borrowed {
    Pooled(Pooled),
    Held(HeldConnection, Option<Pooled>),
}

impl WriteConn {
    /// The writer for this request's changes, with the reason a PATCH gave
    /// (`revision_note`), if any; 503 when no connection can be had in time.
    pub async fn writer<'a>(
        &'a mut self,
        revision_note: Option<&'a str>,
    ) -> Result<Writer<'a>, ApiError> {
        if self.conn.is_none() {
            let held = self.held.take();
            self.conn = Some(
                match held.and_then(|holder| holder.take().map(|c| (holder, c))) {
                    Some((holder, conn)) => Borrowed::Held(holder, Some(conn)),
                    None => Borrowed::Pooled(pooled(&self.pool).await?),
                },
            );
        }
        let conn = match &mut self.conn {
            Some(Borrowed::Pooled(conn) | Borrowed::Held(_, Some(conn))) => &mut **conn,
            _ => unreachable!("the connection was just taken, and a held one stays until dropped"),
        };
        Ok(Writer::new(conn, &self.actor, revision_note))
    }
}

impl FromRequest for WriteConn {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let actor = request
            .extensions()
            .get::<Access>()
            .cloned()
            .unwrap_or_default()
            .actor()
            .to_owned();
        ready(Ok(Self {
            pool: pool_of(request),
            sequencer: sequencer_of(request),
            held: request.extensions().get::<HeldConnection>().cloned(),
            conn: None,
            actor,
        }))
    }
}

impl Drop for WriteConn {
    fn drop(&mut self) {
        match &mut self.conn {
            // The holder commits, and wakes the sequencer then.
            Some(Borrowed::Held(holder, conn)) => *holder.0.borrow_mut() = conn.take(),
            // Whatever the writers did has committed or rolled back.
            Some(Borrowed::Pooled(_)) => self.sequencer.wake(),
            None => {}
        }
    }
}
