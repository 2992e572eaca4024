//! Lambda entry point of `ingest`: wiring only (config, AWS clients, store, routing), built once
//! per cold start; the work is in `handler.rs` and `app::inbound`. A configuration that cannot
//! be used is logged, and every invocation then fails with it.

use ingest::{config, handler};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use store::S3ObjectStore;
use store::sessions::Sessions;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let mut cfg = config::Config::from_env()?;
    let aws = adapters::aws_config().await;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let refused = match adapters::routing_from_env(Some(&aws), env).await {
        Ok(routing) => {
            cfg.ingest.routing = routing;
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "configuration refused: every invocation fails until it is fixed");
            Some(e)
        }
    };
    let deps = handler::Deps {
        sessions: Sessions::new(S3ObjectStore::from_conf(&aws, &cfg.bucket, None)),
        raw_prefix: cfg.raw_prefix,
        config: cfg.ingest,
        raw_retry: config::RAW_RETRY.to_vec(),
        queue: cfg.handoff_queue_url.map(|url| {
            Box::new(adapters::SqsQueue::new(&aws, &url)) as Box<dyn app::ports::HandoffQueue>
        }),
        events: match env("EVENT_BUS") {
            Some(bus) => Box::new(adapters::EventBridgeSink::new(&aws, &bus)),
            None => Box::new(app::ports::NoEvents),
        },
        refused,
    };
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(deps, event).await
    }))
    .await
}
