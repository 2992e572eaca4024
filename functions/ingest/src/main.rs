//! Lambda entry point of `ingest`: wiring only (config, AWS clients, store), built once per
//! cold start; the work is in `handler.rs` and `app::ingest`.

use ingest::{config, handler, notify};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use store::S3ObjectStore;
use store::sessions::Sessions;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let cfg = config::Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let objects = S3ObjectStore::from_conf(&aws, &cfg.bucket, None);
    let deps = handler::Deps {
        sessions: Sessions::new(objects),
        raw_prefix: cfg.raw_prefix,
        config: cfg.ingest,
        raw_retry: config::RAW_RETRY.to_vec(),
        followups: cfg.handoff_queue_url.map(|url| notify::FollowupQueue {
            sqs: aws_sdk_sqs::Client::new(&aws),
            url,
        }),
    };
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(deps, event).await
    }))
    .await
}
