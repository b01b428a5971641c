//! The database: how it is reached ([`Connector`]: TLS, `sslmode`), creating it on
//! first start, migrating it, and the connection pool.

mod connector;

use std::error::Error;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::Config;

pub use connector::Connector;

/// The migrations under `migrations/`, built into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The advisory lock key held while migrating ("strateg" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_74_72_61_74_65_67;

/// The pool every request takes its connection from.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// Why no connection could be had: the database is down or every connection is busy.
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

/// A blocking connection for set-up work done before the server starts
/// ([`Connector::establish`]). Outside a Tokio runtime it runs its own, so call it
/// from plain threads only.
pub type SetupConnection = AsyncConnectionWrapper<AsyncPgConnection>;

impl Connector {
    /// A blocking connection, for set-up work. The connection's driver is a task on
    /// the runtime it was made on; the wrapper made inside that runtime blocks on
    /// it too, and a runtime with a worker thread of its own drives the connection
    /// between calls. A runtime made per connection would take its driver with it.
    pub fn establish(&self) -> diesel::ConnectionResult<SetupConnection> {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("database-setup")
                .enable_io()
                .enable_time()
                .build()
                .expect("a runtime for set-up connections starts")
        });
        let conn = runtime.block_on(self.connect())?;
        let _inside = runtime.enter();
        Ok(SetupConnection::from(conn))
    }
}

/// A failure while setting up the database.
pub type SetupError = Box<dyn Error + Send + Sync>;

/// Builds one HTTP worker's pool: its share of the configured connections. Each
/// worker has its own, because a connection is served by a task on the worker that
/// opened it: shared, every query of another worker's request was a wake-up across
/// threads (a tenth of the throughput of a GET). Connections are made lazily, so
/// this succeeds while the database is down; requests then answer 503 until it is
/// back.
pub fn worker_pool(connector: &Connector, config: &Config, workers: usize) -> Pool {
    let timeout = Some(Duration::from_secs(config.database_timeout_seconds));
    // No test query on every checkout (the default): it doubled the round trips of a
    // one-query read. A connection that broke meanwhile fails its first query, which
    // answers 503, and the pool drops it (`has_broken`) for a fresh one.
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    let shared = Arc::new(connector.clone());
    manager_config.custom_setup = Box::new(move |_| {
        let connector = shared.clone();
        Box::pin(async move { connector.connect().await })
    });
    // The connector has the URL; the manager's copy is for show only.
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        connector.shown(),
        manager_config,
    );
    Pool::builder(manager)
        .max_size(usize::from(config.pool_size).div_ceil(workers.max(1)))
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

/// Creates the database if it does not exist and applies pending migrations.
/// Blocking: call it before starting the server, or from a thread of its own.
pub fn prepare(connector: &Connector) -> Result<(), SetupError> {
    create_database_if_missing(connector)?;
    let mut conn = connector.establish()?;
    // Instances starting together take turns; the lock ends with the connection.
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
    let applied = conn.run_pending_migrations(MIGRATIONS)?;
    for version in applied {
        log::info!("applied migration {version}");
    }
    Ok(())
}

/// The migrations not yet applied, by name (`<version>_<what it does>`), oldest
/// first: all of them if the database does not exist yet. Only reads, so that a
/// deploy pipeline can ask without changing anything (diesel's own
/// `pending_migrations` creates its bookkeeping table).
pub fn pending(connector: &Connector) -> Result<Vec<String>, SetupError> {
    let name = connector
        .database_name()
        .ok_or(NO_DATABASE_NAME)?
        .to_owned();
    let mut server = connector.with_database("postgres").establish()?;
    let applied: Vec<String> = if database_exists(&mut server, &name)? {
        let mut conn = connector.establish()?;
        let bookkept: Vec<Row> =
            diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations')::text AS value")
                .load(&mut conn)?;
        if bookkept.iter().any(|row| row.value.is_some()) {
            diesel::sql_query("SELECT version::text AS value FROM __diesel_schema_migrations")
                .load::<Row>(&mut conn)?
                .into_iter()
                .filter_map(|row| row.value)
                .collect()
        } else {
            Vec::new()
        }
    } else {
        Vec::new()
    };
    let mut pending: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)?
        .iter()
        .filter(|migration| !applied.contains(&migration.name().version().to_string()))
        .map(|migration| migration.name().to_string())
        .collect();
    pending.sort();
    Ok(pending)
}

/// One nullable text column, for the few queries made before the schema exists.
#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    value: Option<String>,
}

const NO_DATABASE_NAME: &str =
    "DATABASE_URL must name a database, as in postgres://user@host:5432/name";

fn database_exists(
    server: &mut SetupConnection,
    name: &str,
) -> Result<bool, diesel::result::Error> {
    let rows: Vec<Row> =
        diesel::sql_query("SELECT datname::text AS value FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(name)
            .load(server)?;
    Ok(!rows.is_empty())
}

/// Connects to the server's `postgres` database and creates the one the URL names.
fn create_database_if_missing(connector: &Connector) -> Result<(), SetupError> {
    let name = connector
        .database_name()
        .ok_or(NO_DATABASE_NAME)?
        .to_owned();
    let mut conn = connector.with_database("postgres").establish()?;
    if database_exists(&mut conn, &name)? {
        return Ok(());
    }
    let create = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    match diesel::sql_query(create).execute(&mut conn) {
        Ok(_) => {
            log::info!("created database {name}");
            Ok(())
        }
        // Another instance starting at the same moment may have created it first.
        Err(_) if database_exists(&mut conn, &name)? => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The same URL naming database `name` instead: `postgres://user@host:port/name?options`.
pub fn with_database_name(database_url: &str, name: &str) -> Option<String> {
    let range = database_name_range(database_url)?;
    Some(format!(
        "{}{name}{}",
        &database_url[..range.start],
        &database_url[range.end..]
    ))
}

fn database_name_range(database_url: &str) -> Option<std::ops::Range<usize>> {
    let authority_start = database_url.find("://")? + 3;
    let start = authority_start + database_url[authority_start..].find('/')? + 1;
    let end = database_url[start..]
        .find('?')
        .map_or(database_url.len(), |at| start + at);
    (end > start).then_some(start..end)
}

impl From<PoolError> for crate::error::ApiError {
    /// No connection in time: the database is down or every connection is busy.
    fn from(error: PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}
