//! `mailcase handoff`: the handoff Lambda's request path, run locally — triage, the case, the
//! acknowledgement when `HANDOFF_ACK` is on, the events.

use std::path::PathBuf;
use std::process::ExitCode;

use app::handoff::Request;
use app::reply::MailSender;
use app::requests::Worker;
use dynamics::Credentials;
use store::ObjectStore;

use super::store::{Opened, StoreArgs};

/// Arguments of `mailcase handoff`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Classification (the title's first part), e.g. Billing; default: triage.
    #[arg(long)]
    classification: Option<String>,
    /// Sentiment, e.g. negative.
    #[arg(long)]
    sentiment: Option<String>,
    /// One-line summary; default: the first sentence of the customer's first message.
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
    session: store::SessionId,
}

/// Credentials from `--credentials FILE` or the Secrets Manager secret `DYNAMICS_SECRET_ID`.
pub async fn credentials(file: Option<&PathBuf>) -> anyhow::Result<Credentials> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        return Credentials::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()));
    }
    let id = std::env::var("DYNAMICS_SECRET_ID").map_err(|_| {
        anyhow::anyhow!(
            "give --credentials FILE or set DYNAMICS_SECRET_ID to the Secrets Manager secret"
        )
    })?;
    adapters::dynamics_credentials(&crate::logging::aws_config().await, &id)
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

/// Run one handoff and print the case.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let req = Request {
        session_id: args.session.to_string(),
        classification: args.classification.clone(),
        sentiment: args.sentiment.clone(),
        summary: args.summary.clone(),
        handoff_id: args.handoff_id.clone(),
        ..Request::default()
    };
    let creds = args.credentials.as_ref();
    match super::store::open(&args.store).await? {
        Opened::Dir(s) => {
            let outbox = app::reply::StoreOutbox::new(s.objects().clone());
            print(
                &super::worker::worker(s, outbox, creds, None, true).await?,
                &req,
            )
            .await
        }
        Opened::S3(s) => {
            let ses = ses::SesSender::from_conf(&super::worker::aws().await);
            print(
                &super::worker::worker(s, ses, creds, None, false).await?,
                &req,
            )
            .await
        }
    }
}

async fn print<O: ObjectStore, S: MailSender>(
    worker: &Worker<O, S>,
    req: &Request,
) -> anyhow::Result<ExitCode> {
    match worker.handle(req, super::now()).await {
        Ok(o) => {
            let s = |k: &str| o[k].as_str().unwrap_or("").to_string();
            println!("incident:      {}", s("incident_id"));
            println!("ticket number: {}", s("ticket_number"));
            println!(
                "created:       {}",
                if o["created"] == true {
                    "yes"
                } else {
                    "no (already handed off; this is the existing case)"
                }
            );
            println!(
                "route:         {} (classification {}, priority {})",
                s("route"),
                s("classification"),
                o["priority"]
            );
            for d in o["dropped_properties"].as_array().into_iter().flatten() {
                println!(
                    "dropped ticket property {}: {}",
                    d[0].as_str().unwrap_or(""),
                    d[1].as_str().unwrap_or("")
                );
            }
            if let Some(ack) = o["acknowledgement"].as_str() {
                let via = s("via");
                let how = if via == "outbox" {
                    "written to the local outbox (not delivered)"
                } else {
                    "sent through SES"
                };
                println!("acknowledgement: <{ack}> {how} (via {via})");
            }
            if let Some(e) = o["acknowledgement_error"].as_str() {
                println!("acknowledgement not sent: {e}");
            }
            println!(
                "Dynamics requests: {} ({} retries)",
                worker.crm.requests(),
                worker.crm.retries()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("mailcase: handoff failed: {}", f.error);
            eprintln!("fix: {}", f.fix);
            Ok(ExitCode::FAILURE)
        }
    }
}
