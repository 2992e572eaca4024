//! What `handoff`, `work`, `triage` and `ingest` share: the routing in force, the event bus,
//! the handoff queue and the request worker, built from the environment as the Lambdas build
//! them. Outbound mail goes through SESv2 for a bucket store and into the local outbox for a
//! directory store (the output's `via` says which).

use std::path::PathBuf;

use app::ports::{EventSink, HandoffQueue, NoEvents, SentimentDetector, StoreQueue};
use app::reply::{MailSender, ReplySettings};
use app::requests::Worker;
use app::routing::Routing;
use dynamics::{DataverseClient, RetryPolicy};
use store::ObjectStore;
use store::sessions::Sessions;

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// AWS configuration, loaded only when something needs it.
pub async fn aws() -> aws_config::SdkConfig {
    crate::logging::aws_config().await
}

/// `ROUTING` over `DEFAULT_*` and `HANDOFF_POLICY`; an S3 document is read with the AWS settings.
pub async fn routing() -> anyhow::Result<Routing> {
    let aws = match std::env::var("ROUTING") {
        Ok(v) if v.trim().starts_with("s3://") => Some(aws().await),
        _ => None,
    };
    adapters::routing_from_env(aws.as_ref(), env)
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

/// `EVENT_BUS` (EventBridge) or none.
pub async fn events() -> Box<dyn EventSink> {
    match env("EVENT_BUS") {
        Some(bus) => Box::new(adapters::EventBridgeSink::new(&aws().await, &bus)),
        None => Box::new(NoEvents),
    }
}

/// `SENTIMENT=comprehend` or none.
pub async fn sentiment() -> anyhow::Result<Option<Box<dyn SentimentDetector>>> {
    match env("SENTIMENT").as_deref().map(str::trim) {
        None | Some("off") | Some("none") => Ok(None),
        Some("comprehend") => Ok(Some(Box::new(adapters::ComprehendSentiment::new(
            &aws().await,
        )))),
        Some(other) => anyhow::bail!("SENTIMENT must be off or comprehend (got `{other}`)"),
    }
}

/// The handoff queue: `--queue`/`HANDOFF_QUEUE_URL` on SQS, else the store's own `queue/`
/// folder for a directory store, else none.
pub async fn queue<O: ObjectStore + Clone + 'static>(
    url: Option<&str>,
    sessions: &Sessions<O>,
    local: bool,
) -> Option<Box<dyn HandoffQueue>> {
    match url.map(str::to_string).or_else(|| env("HANDOFF_QUEUE_URL")) {
        Some(url) => Some(Box::new(adapters::SqsQueue::new(&aws().await, &url))),
        None if local => Some(Box::new(StoreQueue::new(sessions.clone(), super::now))),
        None => None,
    }
}

/// The request worker over `sessions`, sending through `sender`.
pub async fn worker<O: ObjectStore + Clone + 'static, S: MailSender>(
    sessions: Sessions<O>,
    sender: S,
    credentials: Option<&PathBuf>,
    queue_url: Option<&str>,
    local: bool,
) -> anyhow::Result<Worker<O, S>> {
    let settings = app::handoff::Settings::from_lookup(env).map_err(|e| anyhow::anyhow!(e))?;
    let reply = ReplySettings::from_lookup(env, false).map_err(|e| anyhow::anyhow!(e))?;
    let crm = DataverseClient::new(
        super::handoff::credentials(credentials).await?,
        RetryPolicy::default(),
    )?;
    let queue = queue(queue_url, &sessions, local).await;
    Ok(Worker {
        routing: routing().await?,
        session_url_template: settings.session_url_template.clone(),
        reopen_days: settings.reopen_days,
        queue,
        events: events().await,
        sentiment: sentiment().await?,
        attachments: app::attachments::Mode::from_lookup(env).map_err(|e| anyhow::anyhow!(e))?,
        ..Worker::new(sessions, crm, &settings, sender, reply)
    })
}
