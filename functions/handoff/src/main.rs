//! Lambda entry point of `handoff`: configuration, the Dynamics secret (Secrets Manager), the
//! Dataverse client and the store are built once per cold start.

use handoff::handler;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use store::S3ObjectStore;
use store::sessions::Sessions;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = |k: &str| std::env::var(k).ok();
    let bucket = env("MAIL_BUCKET")
        .filter(|b| !b.is_empty())
        .ok_or("MAIL_BUCKET is not set: name the bucket sessions live in")?;
    let secret_id = env("DYNAMICS_SECRET_ID").filter(|s| !s.is_empty()).ok_or("DYNAMICS_SECRET_ID is not set: name the Secrets Manager secret holding the Dynamics credentials")?;
    let settings = app::handoff::Settings::from_lookup(env)?;
    let reply = app::reply::ReplySettings::from_lookup(env, false)?;
    let aws = aws_config::load_from_env().await;
    let secret = aws_sdk_secretsmanager::Client::new(&aws)
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    let text = secret.secret_string().ok_or_else(|| {
        format!("secret {secret_id} has no string value: store the credentials JSON")
    })?;
    let creds = dynamics::Credentials::from_json(text)?;
    let crm = dynamics::DataverseClient::new(creds, dynamics::RetryPolicy::default())?;
    let deps = handler::Deps {
        sessions: Sessions::new(S3ObjectStore::from_conf(&aws, &bucket, None)),
        crm,
        settings,
        limits: app::handoff::LimitsCache::default(),
        sender: ses::SesSender::from_conf(&aws),
        reply,
    };
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(deps, event).await
    }))
    .await
}
