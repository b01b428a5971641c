//! The connection a writing request works on: attributed, for the change feed, to
//! the request's token (and a PATCH's `revision_note`), and, for a POST with an
//! `Idempotency-Key`, the one whose transaction also records the response.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use actix_web::{HttpMessage, HttpRequest};
use serde_json::Value;

use super::access::Access;
use super::{Db, connection};
use crate::error::ApiError;
use crate::models::Conn;
use crate::models::event::{self, REVISION_NOTE_LENGTH};

/// A pooled connection.
pub type Pooled = diesel_async::pooled_connection::deadpool::Object<Conn>;

/// The connection an idempotent POST holds in an open transaction while its
/// handler runs (see [`super::idempotency`]); the handler borrows it.
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

/// A connection for writing; a held one goes back to its holder when dropped.
pub enum WriteConnection {
    Pooled(Pooled),
    Held(HeldConnection, Option<Pooled>),
}

impl Deref for WriteConnection {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match self {
            Self::Pooled(conn) | Self::Held(_, Some(conn)) => conn,
            Self::Held(_, None) => unreachable!("a held connection is there until dropped"),
        }
    }
}

impl DerefMut for WriteConnection {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            Self::Pooled(conn) | Self::Held(_, Some(conn)) => conn,
            Self::Held(_, None) => unreachable!("a held connection is there until dropped"),
        }
    }
}

impl Drop for WriteConnection {
    fn drop(&mut self) {
        if let Self::Held(holder, conn) = self {
            *holder.0.borrow_mut() = conn.take();
        }
    }
}

/// The connection for a request that writes, its changes attributed to the
/// request's token (by name) and `revision_note`.
pub async fn write_connection(
    db: &Db,
    request: &HttpRequest,
    revision_note: Option<&str>,
) -> Result<WriteConnection, ApiError> {
    let access = request
        .extensions()
        .get::<Access>()
        .cloned()
        .unwrap_or_default();
    let held = request.extensions().get::<HeldConnection>().cloned();
    let mut conn = match held.and_then(|holder| holder.take().map(|conn| (holder, conn))) {
        Some((holder, conn)) => WriteConnection::Held(holder, Some(conn)),
        None => WriteConnection::Pooled(connection(db).await?),
    };
    event::attribute_changes(&mut conn, access.actor(), revision_note).await?;
    Ok(conn)
}

/// Takes the `revision_note` out of a PATCH body ("Revised by the board, March
/// 2024"), for the change's events; the rest of the body is the merge patch.
pub fn take_revision_note(body: &mut Value) -> Result<Option<String>, ApiError> {
    let Some(note) = body
        .as_object_mut()
        .and_then(|body| body.remove("revision_note"))
    else {
        return Ok(None);
    };
    let rule = format!(
        "must be text of at most {REVISION_NOTE_LENGTH} characters saying why the change was made, or null"
    );
    match note {
        Value::Null => Ok(None),
        Value::String(note) if note.trim().is_empty() => Ok(None),
        Value::String(note)
            if note.chars().count() <= REVISION_NOTE_LENGTH && !note.contains('\0') =>
        {
            Ok(Some(note))
        }
        _ => Err(ApiError::invalid("revision_note", rule)),
    }
}
