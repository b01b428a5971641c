//! The instance's sequencer. A writing transaction only queues its events; a pass
//! of [`event::sequence`] numbers them and wakes every instance's long polls. This
//! task runs a pass as soon as one of this instance's writes has committed, so that
//! the feed's followers hear of a change within milliseconds; several writes that
//! commit meanwhile share one pass. It also runs one every few seconds regardless,
//! for events that writers elsewhere left queued (the command line, an instance
//! that died between its commit and its pass). Readers of the feed do not depend
//! on it: they run a pass themselves before reading.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::db::Connector;
use crate::models::event;

/// How often a pass runs without a local write to prompt it.
const TICK: Duration = Duration::from_secs(5);
/// How long to wait before connecting again after the connection broke.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// Events numbered between two vacuums of the queue ([`event::vacuum_queue`]).
const VACUUM_EVERY: i64 = 5_000;

/// What writers wake; held as app data.
pub struct Sequencer {
    wake: Arc<Notify>,
}

impl Sequencer {
    /// Starts the sequencer on the database `connector` reaches, in the background,
    /// for as long as the returned handle is alive.
    pub fn start(connector: Connector) -> Arc<Self> {
        let wake = Arc::new(Notify::new());
        let sequencer = Arc::new(Self { wake: wake.clone() });
        let alive = Arc::downgrade(&sequencer);
        actix_web::rt::spawn(async move {
            while alive.strong_count() > 0 {
                if let Err(error) = run(&connector, &wake, &alive).await {
                    log::debug!("sequencer: {error}; reconnecting");
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        });
        sequencer
    }

    /// Asks for a pass: a write of this instance has committed. Wakes that come
    /// while a pass runs are served by one more pass.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs passes on one connection until it breaks or the sequencer is dropped.
async fn run(connector: &Connector, wake: &Notify, alive: &Weak<Sequencer>) -> Result<(), String> {
    let mut conn = connector
        .connect()
        .await
        .map_err(|error| error.to_string())?;
    // The first pass vacuums: the dead rows an earlier instance's passes left are
    // not counted by this one, and probes of the queue would walk them until then.
    let mut vacuumed_at: Option<i64> = None;
    while alive.strong_count() > 0 {
        let _ = tokio::time::timeout(TICK, wake.notified()).await;
        let newest = event::sequence(&mut conn)
            .await
            .map_err(|error| error.to_string())?;
        if vacuumed_at.is_none_or(|at| newest - at >= VACUUM_EVERY) {
            event::vacuum_queue(&mut conn)
                .await
                .map_err(|error| error.to_string())?;
            vacuumed_at = Some(newest);
        }
    }
    Ok(())
}
