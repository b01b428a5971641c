//! Builds the app and starts the server on a listener the caller bound, so tests
//! can listen on port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::api::cache::RepresentationCache;
use crate::api::middleware::access::{self, AccessControl, TokenCache};
use crate::api::middleware::client_address::TrustedProxies;
use crate::api::middleware::cors::{self, AllowedOrigins};
use crate::api::middleware::deadline::{self, RequestTimeout};
use crate::api::middleware::metrics::{self as request_metrics, RequestMetrics};
use crate::api::middleware::rate_limit::RateLimiter;
use crate::api::middleware::request_log::request_log;
use crate::api::middleware::{compression, conditional, head, idempotency};
use crate::api::route_table::RouteTable;
use crate::api::sequencer::Sequencer;
use crate::api::service::OpenApiJson;
use crate::api::{self, extract, fallback, metrics, notifications};
use crate::config::Config;
use crate::db;
use crate::openapi;
use crate::shutdown::Stopping;

/// Starts serving on `listener`; the returned server runs until stopped. It does
/// not handle signals itself: whoever runs it calls [`Stopping::begin`] before
/// stopping it, so that long polls answer at once (see [`crate::shutdown`]).
pub fn run(listener: TcpListener, config: &Config) -> std::io::Result<(Server, Arc<Stopping>)> {
    let document = openapi::document();
    let routes = Arc::new(RouteTable::from_document(&document));
    let document_json = web::Data::new(OpenApiJson(openapi::to_json(&document)));
    let workers = config.worker_count();
    let pool_config = config.clone();
    let body_limit = config.body_limit_bytes;
    let request_timeout = web::Data::new(RequestTimeout(Duration::from_secs(
        config.request_timeout_seconds,
    )));
    let write_policy = web::Data::new(conditional::WritePolicy {
        require_if_match: config.require_if_match,
    });
    let stopping = Arc::new(Stopping::default());
    let tokens = Arc::new(TokenCache::default());
    let connector = db::Connector::from_config(config)
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
    let feed_signal = web::Data::new(notifications::listen(connector.clone(), tokens.clone()));
    let sequencer = web::Data::from(Sequencer::start(connector.clone()));
    let access_control = web::Data::new(
        AccessControl::new(
            routes.clone(),
            config.public_reading,
            tokens.clone(),
            RateLimiter::new(config.rate_limit_per_token, config.rate_limit_per_address),
        )
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?,
    );
    let tokens = web::Data::from(tokens);
    // One per instance, shared by its workers: a document rendered by one is served by all.
    let representations = web::Data::new(RepresentationCache::new(config.cache_bytes));
    let requests = web::Data::new(RequestMetrics::new(routes.clone()));
    let metrics = match &config.metrics_addr {
        Some(address) => Some(serve_metrics(
            address,
            metrics::Sources::new(
                requests.clone(),
                access_control.clone(),
                tokens.clone(),
                representations.clone(),
                // Its share of the pool when there are as many workers as
                // connections: one, with the same settings as the workers' pools.
                db::worker_pool(&connector, config, usize::from(config.pool_size)),
            ),
            &stopping,
        )?),
        None => None,
    };
    let route_table = web::Data::from(routes);
    let stopping_data = web::Data::from(stopping.clone());
    let allowed_origins = AllowedOrigins::new(&config.cors_allowed_origins);
    let trusted_proxies = web::Data::new(TrustedProxies::new(config.trusted_proxies.clone()));
    let server = HttpServer::new(move || {
        let pool = web::Data::new(db::worker_pool(&connector, &pool_config, workers));
        if let Some(metrics) = &metrics {
            metrics.watch_pool(&pool);
        }
        App::new()
            .into_utoipa_app()
            .configure(api::routes)
            .into_app()
            .service(
                SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::new(["/api/v1/openapi.json"])),
            )
            .route("/docs", web::get().to(redirect_to_docs))
            .default_service(web::to(fallback::no_route))
            .app_data(pool)
            .app_data(document_json.clone())
            .app_data(route_table.clone())
            .app_data(web::Data::new(extract::BodyLimit(body_limit)))
            .app_data(extract::json_config(body_limit))
            .app_data(extract::path_config())
            .app_data(write_policy.clone())
            .app_data(feed_signal.clone())
            .app_data(sequencer.clone())
            .app_data(trusted_proxies.clone())
            .app_data(access_control.clone())
            .app_data(tokens.clone())
            .app_data(representations.clone())
            .app_data(request_timeout.clone())
            .app_data(stopping_data.clone())
            .app_data(requests.clone())
            // Inside compression: tags and recorded responses are of the plain bytes.
            .wrap(from_fn(idempotency::once_per_key))
            .wrap(from_fn(conditional::entity_tags))
            // Inside compression too, so that a draft's 404 is sent exactly as an
            // unknown id's; inside CORS, so that a browser page can read a 401 or 429.
            .wrap(from_fn(access::check_access))
            // Around every step that may wait on the database.
            .wrap(from_fn(deadline::within_deadline))
            .wrap(from_fn(compression::gzip))
            .wrap(allowed_origins.middleware())
            .wrap(from_fn(cors::as_documented))
            .wrap(from_fn(head::as_get))
            // Outside everything but the log, so that its latency is all but the
            // log's; only with METRICS_ADDR set, so that without it nothing is spent.
            .wrap(Condition::new(
                metrics.is_some(),
                from_fn(request_metrics::count_requests),
            ))
            .wrap(from_fn(request_log))
    });
    let server = server
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(config.shutdown_grace_seconds)
        .listen(listener)?
        .run();
    Ok((server, stopping))
}

/// Starts the metrics listener (`METRICS_ADDR`): a second server, of one worker,
/// so that the API's address never shows the metrics, and it stops when the
/// service begins to stop. Returns what the API's workers register their pools in.
fn serve_metrics(
    address: &str,
    sources: metrics::Sources,
    stopping: &Arc<Stopping>,
) -> std::io::Result<web::Data<metrics::Sources>> {
    let listener = TcpListener::bind(address).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot listen on METRICS_ADDR {address}: {error}"),
        )
    })?;
    log::info!("metrics on http://{}/metrics", listener.local_addr()?);
    let sources = web::Data::new(sources);
    let data = sources.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/metrics", web::get().to(metrics::scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let (handle, stopping) = (server.handle(), stopping.clone());
    actix_web::rt::spawn(server);
    actix_web::rt::spawn(async move {
        stopping.wait().await;
        handle.stop(true).await;
    });
    Ok(sources)
}

/// `/docs` is what people type; Swagger UI lives at `/docs/`.
async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}
