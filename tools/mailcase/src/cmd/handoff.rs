//! `mailcase handoff`: the handoff Lambda's code, run locally.

use std::path::PathBuf;
use std::process::ExitCode;

use app::handoff::{LimitsCache, Request, Settings};
use dynamics::{Credentials, DataverseClient, RetryPolicy};

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase handoff`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Classification (the title's first part), e.g. Billing.
    #[arg(long)]
    classification: Option<String>,
    /// Sentiment, e.g. negative.
    #[arg(long)]
    sentiment: Option<String>,
    /// One-line summary.
    #[arg(long)]
    summary: Option<String>,
    /// Idempotency key (repeat it to retry the same handoff).
    #[arg(long)]
    handoff_id: Option<String>,
    /// The Dynamics credentials JSON (same shape as the secret); else DYNAMICS_SECRET_ID is
    /// read from Secrets Manager.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Session id.
    session: String,
}

/// Credentials from `--credentials FILE` or the Secrets Manager secret `DYNAMICS_SECRET_ID`.
pub async fn credentials(file: Option<&PathBuf>) -> anyhow::Result<Credentials> {
    let text = match file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
        None => {
            let id = std::env::var("DYNAMICS_SECRET_ID").map_err(|_| anyhow::anyhow!("give --credentials FILE or set DYNAMICS_SECRET_ID to the Secrets Manager secret"))?;
            let aws = crate::logging::aws_config().await;
            let out = aws_sdk_secretsmanager::Client::new(&aws)
                .get_secret_value()
                .secret_id(&id)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read secret {id}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                    )
                })?;
            out.secret_string()
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("secret {id} has no string value"))?
        }
    };
    Ok(Credentials::from_json(&text)?)
}

/// Run one handoff and print the case.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let settings =
        Settings::from_lookup(|k| std::env::var(k).ok()).map_err(|e| anyhow::anyhow!(e))?;
    let crm = DataverseClient::new(
        credentials(args.credentials.as_ref()).await?,
        RetryPolicy::default(),
    )?;
    let req = Request {
        session_id: args.session.clone(),
        classification: args.classification.clone(),
        sentiment: args.sentiment.clone(),
        summary: args.summary.clone(),
        handoff_id: args.handoff_id.clone(),
        kind: None,
        ..Request::default()
    };
    let limits = LimitsCache::default();
    let now = super::now();
    let result = with_sessions!(args.store, |sessions| app::handoff::run(
        &sessions, &crm, &settings, &limits, &req, now
    )
    .await);
    match result {
        Ok(o) => {
            println!("incident:      {}", o.incident_id);
            println!("ticket number: {}", o.ticket_number);
            println!(
                "created:       {}",
                if o.created {
                    "yes"
                } else {
                    "no (already handed off; this is the existing case)"
                }
            );
            for (column, why) in &o.dropped_properties {
                println!("dropped ticket property {column}: {why}");
            }
            println!(
                "Dynamics requests: {} ({} retries)",
                crm.requests(),
                crm.retries()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("mailcase: handoff failed: {}", app::DisplayChain(&e));
            eprintln!("fix: {}", e.fix());
            Ok(ExitCode::FAILURE)
        }
    }
}
