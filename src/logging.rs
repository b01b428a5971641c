//! Log lines, through env_logger so that `RUST_LOG` filters them as operators know
//! it, written as text or as JSON lines (`LOG_FORMAT=json`) by formatters of our
//! own. Every line written while a request is served carries that request's id
//! (and the trace id of its `traceparent`): the request log middleware sets them
//! in a task-local around the request's work, which runs in one task, handler
//! included, and the formatters read it. A line's key-values (`log::info!(status =
//! 200; "...")`) become JSON fields, or `key=value` in text.

use std::fmt::Display;
use std::future::Future;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use env_logger::fmt::Formatter;
use log::Record;
use log::kv::{self, Key, Value, VisitSource, VisitValue};
use serde::Serializer as _;

use crate::config::LogFormat;

/// What identifies the request being served, on every line logged while serving it.
#[derive(Debug)]
pub struct RequestContext {
    /// The request's `X-Request-Id`, the client's or a new one.
    pub request_id: String,
    /// The trace id of a valid W3C `traceparent` header, 32 lowercase hex digits.
    pub trace_id: Option<String>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `work` with `context` on every line it logs.
pub async fn within_request<F: Future>(context: RequestContext, work: F) -> F::Output {
    REQUEST.scope(context, work).await
}

/// Installs the logger, filtered by `RUST_LOG` (`info` when not set), writing to
/// standard error in batches ([`Batched`]). Call [`flush`] before the process ends.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Text => builder.format(text_line),
        LogFormat::Json => builder.format(json_line),
    };
    builder.target(env_logger::Target::Pipe(Box::new(Batched)));
    builder.init();
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(WRITE_OUT_EVERY);
            flush();
        }
    });
}

/// How long a line may wait before it is written out.
const WRITE_OUT_EVERY: Duration = Duration::from_millis(50);
/// How much may wait: more is written out at once, by the thread that logged it.
const WRITE_OUT_AT: usize = 64 * 1024;

/// Lines logged and not yet written out.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held while a batch is written, so that batches go out in the order they were taken.
static WRITING: Mutex<()> = Mutex::new(());

/// Standard error, written a batch at a time. A write of its own for every line
/// (env_logger's, under the lock of standard error) cost a sixth of a small GET's
/// throughput with the access line on: a system call per request, and the workers
/// waiting on each other's. A line now waits at most [`WRITE_OUT_EVERY`]; what a
/// process killed outright had not written out is lost with it, as from any buffer.
struct Batched;

impl Write for Batched {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let full = {
            let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
            pending.extend_from_slice(bytes);
            pending.len() >= WRITE_OUT_AT
        };
        if full {
            flush();
        }
        Ok(bytes.len())
    }

    /// Nothing: env_logger flushes after every line, which would undo the batching.
    /// Lines go out every [`WRITE_OUT_EVERY`], when [`WRITE_OUT_AT`] is reached, and
    /// at [`flush`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes out every line logged so far.
pub fn flush() {
    let _writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
    let batch = std::mem::take(&mut *PENDING.lock().unwrap_or_else(PoisonError::into_inner));
    if !batch.is_empty() {
        // Nowhere to report a failure to write the log.
        let _ = io::stderr().write_all(&batch);
    }
}

/// `[2026-05-01T09:30:00.123Z INFO  target] message key=value request_id=...`: env_logger's
/// own layout, with the fields after the message.
fn text_line(buf: &mut Formatter, record: &Record) -> io::Result<()> {
    write!(
        buf,
        "[{} {:<5} {}] {}",
        buf.timestamp_millis(),
        record.level(),
        record.target(),
        record.args()
    )?;
    let mut fields = TextFields(buf);
    record
        .key_values()
        .visit(&mut fields)
        .map_err(io::Error::other)?;
    let _ = REQUEST.try_with(|request| {
        fields.field("request_id", &request.request_id)?;
        match &request.trace_id {
            Some(trace_id) => fields.field("trace_id", trace_id),
            None => Ok(()),
        }
    });
    writeln!(buf)
}

struct TextFields<'a>(&'a mut Formatter);

impl TextFields<'_> {
    fn field(&mut self, key: &str, value: &(impl Display + ?Sized)) -> io::Result<()> {
        write!(self.0, " {key}={value}")
    }
}

impl<'kvs> VisitSource<'kvs> for TextFields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        value.visit(TextValue {
            fields: self,
            key: key.as_str(),
        })
    }
}

/// A field's value as text; a field whose value is `None` is left out.
struct TextValue<'a, 'b> {
    fields: &'a mut TextFields<'b>,
    key: &'a str,
}

impl<'v> VisitValue<'v> for TextValue<'_, '_> {
    fn visit_any(&mut self, value: Value) -> Result<(), kv::Error> {
        Ok(self.fields.field(self.key, &value)?)
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        Ok(())
    }

    fn visit_str(&mut self, text: &str) -> Result<(), kv::Error> {
        // Quoted if it has spaces, quotes or `=`, so that each field stays one.
        let quoted = text.is_empty()
            || text.contains(|c: char| c == ' ' || c == '"' || c == '=' || c.is_control());
        Ok(if quoted {
            self.fields.field(self.key, &format_args!("{text:?}"))
        } else {
            self.fields.field(self.key, text)
        }?)
    }
}

/// `{"timestamp":"2026-05-01T09:30:00.123Z","level":"INFO","target":...,"message":...,
/// fields..., "request_id":...,"trace_id":...}`, escaped by serde_json whatever the
/// message holds.
fn json_line(buf: &mut Formatter, record: &Record) -> io::Result<()> {
    let timestamp = buf.timestamp_millis();
    write!(
        buf,
        "{{\"timestamp\":\"{timestamp}\",\"level\":\"{}\",\"target\":",
        record.level()
    )?;
    json_string(buf, record.target())?;
    buf.write_all(b",\"message\":")?;
    json_string(buf, record.args())?;
    let mut fields = JsonFields(buf);
    record
        .key_values()
        .visit(&mut fields)
        .map_err(io::Error::other)?;
    let _ = REQUEST.try_with(|request| {
        fields.key("request_id")?;
        json_string(fields.0, &request.request_id)?;
        if let Some(trace_id) = &request.trace_id {
            fields.key("trace_id")?;
            json_string(fields.0, trace_id)?;
        }
        io::Result::Ok(())
    });
    buf.write_all(b"}\n")
}

/// `text` as a JSON string, escaped as it is written (no copy of it is made).
fn json_string(buf: &mut Formatter, text: &(impl Display + ?Sized)) -> io::Result<()> {
    serde_json::Serializer::new(buf)
        .collect_str(text)
        .map_err(io::Error::other)
}

struct JsonFields<'a>(&'a mut Formatter);

impl JsonFields<'_> {
    fn key(&mut self, key: &str) -> io::Result<()> {
        self.0.write_all(b",")?;
        json_string(self.0, key)?;
        self.0.write_all(b":")
    }
}

impl<'kvs> VisitSource<'kvs> for JsonFields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        value.visit(JsonValue {
            fields: self,
            key: key.as_str(),
        })
    }
}

/// A field's value as JSON: numbers and booleans as such, anything else as a
/// string; a field whose value is `None` is left out.
struct JsonValue<'a, 'b> {
    fields: &'a mut JsonFields<'b>,
    key: &'a str,
}

impl JsonValue<'_, '_> {
    fn raw(&mut self, json: &(impl Display + ?Sized)) -> Result<(), kv::Error> {
        self.fields.key(self.key)?;
        write!(self.fields.0, "{json}")?;
        Ok(())
    }

    fn string(&mut self, text: &(impl Display + ?Sized)) -> Result<(), kv::Error> {
        self.fields.key(self.key)?;
        json_string(self.fields.0, text)?;
        Ok(())
    }
}

impl<'v> VisitValue<'v> for JsonValue<'_, '_> {
    fn visit_any(&mut self, value: Value) -> Result<(), kv::Error> {
        self.string(&value)
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.raw(&value)
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.raw(&value)
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        // JSON has no infinities or NaN.
        if value.is_finite() {
            self.raw(&value)
        } else {
            self.string(&value)
        }
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.raw(&value)
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.string(value)
    }
}
