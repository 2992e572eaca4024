//! `mailcase ingest`: file .eml files into sessions with the same code as the Lambda.

use std::path::PathBuf;
use std::process::ExitCode;

use app::inbound::Outlets;
use app::ingest::{Config, Receipt};
use serde_json::json;
use store::ids::sha256_hex;

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase ingest`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    domains: super::InternalDomains,
    /// Our support address; mail from it is a loop. Also SUPPORT_ADDRESS.
    #[arg(long, env = "SUPPORT_ADDRESS")]
    support_address: Option<String>,
    /// .eml files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Ingest each file and print one JSON line per file.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let routing = super::worker::routing().await?;
    let events = super::worker::events().await;
    let cfg = Config {
        internal_domains: args.domains.list(),
        own_addresses: args.support_address.iter().cloned().collect(),
        routing,
        flood: app::flood::FloodLimits::from_lookup(|k| std::env::var(k).ok())
            .map_err(|e| anyhow::anyhow!(e))?,
    };
    let mut failed = false;
    let local = args.store.bucket.is_none();
    with_sessions!(args.store, |sessions| {
        let queue = super::worker::queue(None, &sessions, local).await;
        let outlets = Outlets {
            queue: queue.as_deref(),
            events: events.as_ref(),
        };
        for file in &args.files {
            let line = match std::fs::read(file) {
                Err(e) => {
                    failed = true;
                    json!({"file": file, "error": format!("cannot read: {e}")})
                }
                Ok(raw) => {
                    // A local file has no SES id: its content hash plays that role, so ingesting
                    // the same file twice is a redelivery.
                    let receipt = Receipt {
                        ses_message_id: format!("local-{}", &sha256_of_text(&raw)[..32]),
                        received_at: mtime(file).unwrap_or(0),
                        spam: None,
                        virus: None,
                        recipients: Vec::new(),
                    };
                    match app::inbound::process(&sessions, &raw, &receipt, &cfg, outlets).await {
                        Ok(o) => json!({
                            "file": file,
                            "session_id": o.session_id,
                            "disposition": o.disposition,
                            "new_session": o.new_session,
                            "duplicate": o.duplicate,
                            "followup": o.followup,
                            "flood": o.flood,
                            "reason": o.reason,
                        }),
                        Err(e) => {
                            failed = true;
                            json!({"file": file, "error": app::DisplayChain(&e).to_string()})
                        }
                    }
                }
            };
            println!("{line}");
        }
    });
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// SHA-256 of the raw mail read as (lossy) UTF-8 text: the local SES id of a file.
fn sha256_of_text(raw: &[u8]) -> String {
    sha256_hex(&String::from_utf8_lossy(raw))
}

fn mtime(file: &PathBuf) -> Option<i64> {
    let modified = std::fs::metadata(file).ok()?.modified().ok()?;
    i64::try_from(
        modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs(),
    )
    .ok()
}
