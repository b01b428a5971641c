//! One `LISTEN` connection per instance, for what other transactions announce at
//! commit: new events, which wake the change feed's long polls, and changes to
//! tokens, which clear the token cache. While the connection is down, the cache is
//! off (every token is checked in the database) and long polls recheck every second.

use std::sync::Arc;
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::events::FeedSignal;
use super::middleware::access::TokenCache;
use crate::db::Connector;

/// The channel the event triggers notify on commit.
const EVENTS: &str = "strategy_tracker_events";
/// The channel the token trigger notifies on revocation and other changes.
const TOKENS: &str = "strategy_tracker_tokens";
/// How long to wait before connecting again after the connection broke.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Starts listening on the database `connector` reaches, in the background, for as
/// long as the returned signal (or a clone of its app data) is alive. Its errors
/// show the URL without the password ([`Connector::connect`]).
pub fn listen(connector: Connector, tokens: Arc<TokenCache>) -> FeedSignal {
    let (sender, receiver) = watch::channel(0);
    actix_web::rt::spawn(async move {
        while !sender.is_closed() {
            if let Err(error) = forward(&connector, &sender, &tokens).await {
                log::debug!("notification listener: {error}; reconnecting");
            }
            tokens.set_listening(false);
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    });
    FeedSignal(receiver)
}

async fn forward(
    connector: &Connector,
    feed: &watch::Sender<u64>,
    tokens: &TokenCache,
) -> Result<(), ConnectionError> {
    let mut conn = connector.connect().await?;
    for channel in [EVENTS, TOKENS] {
        diesel::sql_query(format!("LISTEN {channel}"))
            .execute(&mut conn)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
    }
    // From here on no token change can go unheard.
    tokens.set_listening(true);
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(Ok(notification)) = notifications.next().await {
        if feed.is_closed() {
            break;
        }
        if notification.channel == TOKENS {
            tokens.clear();
        } else {
            feed.send_modify(|commits| *commits += 1);
        }
    }
    Ok(())
}
