//! Lambda entry point of `handoff`: configuration, the Dynamics secret (Secrets Manager), the
//! Dataverse client, the routing document and the store are built once per cold start. A
//! configuration that cannot be used is logged, and every invocation then fails with it.

use app::requests::Worker;
use handoff::handler;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use store::S3ObjectStore;
use store::sessions::Sessions;

async fn worker(
    aws: &aws_config::SdkConfig,
) -> Result<Worker<S3ObjectStore, ses::SesSender>, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let bucket =
        env("MAIL_BUCKET").ok_or("MAIL_BUCKET is not set: name the bucket sessions live in")?;
    let secret_id = env("DYNAMICS_SECRET_ID").ok_or("DYNAMICS_SECRET_ID is not set: name the Secrets Manager secret holding the Dynamics credentials")?;
    let routing = adapters::routing_from_env(Some(aws), env).await?;
    let settings = app::handoff::Settings::from_lookup(env)?;
    let attachments = app::attachments::Mode::from_lookup(env)?;
    let reply = app::reply::ReplySettings::from_lookup(env, false)?;
    let events: Box<dyn app::ports::EventSink> = match env("EVENT_BUS") {
        Some(bus) => Box::new(adapters::EventBridgeSink::new(aws, &bus)),
        None => Box::new(app::ports::NoEvents),
    };
    let sentiment: Option<Box<dyn app::ports::SentimentDetector>> =
        match env("SENTIMENT").as_deref().map(str::trim) {
            None | Some("off") | Some("none") => None,
            Some("comprehend") => Some(Box::new(adapters::ComprehendSentiment::new(aws))),
            Some(other) => {
                return Err(format!(
                    "SENTIMENT must be off or comprehend (got `{other}`)"
                ));
            }
        };
    let creds = adapters::dynamics_credentials(aws, &secret_id).await?;
    let crm = dynamics::DataverseClient::new(creds, dynamics::RetryPolicy::default())
        .map_err(|e| e.to_string())?;
    Ok(Worker {
        sessions: Sessions::new(S3ObjectStore::from_conf(aws, &bucket, None)),
        crm,
        routing,
        session_url_template: settings.session_url_template,
        reopen_days: settings.reopen_days,
        limits: app::handoff::LimitsCache::default(),
        attachments,
        sender: ses::SesSender::from_conf(aws),
        reply,
        queue: env("HANDOFF_QUEUE_URL").map(|url| {
            Box::new(adapters::SqsQueue::new(aws, &url)) as Box<dyn app::ports::HandoffQueue>
        }),
        events,
        sentiment,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let aws = adapters::aws_config().await;
    let deps = worker(&aws).await;
    if let Err(e) = &deps {
        tracing::error!(error = %e, "configuration refused: every invocation fails until it is fixed");
    }
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(deps, event).await
    }))
    .await
}
