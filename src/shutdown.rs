//! Stopping gracefully on `SIGTERM` (or `SIGINT`), as a deployment's rolling restart
//! asks: the listener closes, so new connections are refused before anything is
//! read; requests in flight finish; long polls of the change feed answer at once
//! with what they have, instead of holding the exit for the whole grace period
//! (`SHUTDOWN_GRACE_SECONDS`), after which whatever is left is cut off.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::ServerHandle;
use futures_util::future::{Either, select};
use tokio::sync::Notify;

/// Whether the service has begun to stop; long polls wait on it.
#[derive(Debug, Default)]
pub struct Stopping {
    begun: AtomicBool,
    notify: Notify,
}

impl Stopping {
    /// Marks the service as stopping and wakes every waiting long poll.
    pub fn begin(&self) {
        self.begun.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn has_begun(&self) -> bool {
        self.begun.load(Ordering::SeqCst)
    }

    /// Returns once the service has begun to stop.
    pub async fn wait(&self) {
        // Made before the check, so that a `begin` in between still wakes it.
        let woken = self.notify.notified();
        if !self.has_begun() {
            woken.await;
        }
    }
}

/// Waits for `SIGTERM` or `SIGINT`, then stops the server gracefully. The server's
/// own signal handling is off (see `startup::run`), so that long polls hear first.
pub async fn on_signal(server: ServerHandle, stopping: std::sync::Arc<Stopping>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::error!("cannot listen for SIGTERM and SIGINT; stop the service with SIGKILL");
        return;
    };
    let terminated = std::pin::pin!(terminate.recv());
    let interrupted = std::pin::pin!(interrupt.recv());
    let name = match select(terminated, interrupted).await {
        Either::Left(_) => "SIGTERM",
        Either::Right(_) => "SIGINT",
    };
    log::info!("{name} received: finishing the requests in flight, refusing new ones");
    stopping.begin();
    server.stop(true).await;
}
