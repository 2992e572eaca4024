//! `mailcase attachments SESSION [--out DIR]`: every attachment of a session with what happened
//! to it on the case (uploaded as note <id>, over the limit, blocked, inline, duplicate,
//! refused), and the originals written to DIR.

use std::path::PathBuf;
use std::process::ExitCode;

use app::attachments::{Outcome, records};
use serde_json::json;
use store::ObjectStore;
use store::sessions::Sessions;

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase attachments`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Write the originals here (`<n>-<file name>`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// One JSON object per attachment.
    #[arg(long)]
    json: bool,
    /// Session id (`mc-…`).
    session: store::SessionId,
}

/// List (and export) a session's attachments.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    with_sessions!(args.store, |sessions| list(&sessions, args).await)
}

async fn list<O: ObjectStore>(sessions: &Sessions<O>, args: &Args) -> anyhow::Result<ExitCode> {
    let Some(session) = sessions.load(&args.session).await? else {
        eprintln!(
            "mailcase: no session {} (list them with `mailcase sessions`)",
            args.session
        );
        return Ok(ExitCode::FAILURE);
    };
    let recorded = records(sessions, &session).await?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let mut n = 0usize;
    let mut missing = 0usize;
    for m in &session.messages {
        for a in &m.attachments {
            let record = recorded.get(n).cloned().flatten();
            n += 1;
            let what = match &record {
                Some(r) => r.outcome.describe(),
                None if a.referenced => Outcome::Inline.describe(),
                None => "listed in the transcript, not uploaded".into(),
            };
            let mut written = None;
            if let Some(dir) = &args.out {
                match sessions.objects().get(&a.key).await? {
                    Some(obj) => {
                        let path = dir.join(format!("{n}-{}", a.filename));
                        std::fs::write(&path, &obj.bytes)
                            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                        written = Some(path);
                    }
                    None => missing += 1,
                }
            }
            if args.json {
                println!(
                    "{}",
                    json!({"n": n, "message": m.key, "date": m.date, "filename": a.filename,
                           "content_type": a.content_type, "size": a.size, "key": a.key,
                           "sha256": a.sha256, "outcome": record.as_ref().map(|r| &r.outcome),
                           "status": what, "written": written})
                );
            } else {
                println!(
                    "{n:>3}  {}  {} ({} bytes, {})  {what}{}",
                    m.date,
                    a.filename,
                    a.size,
                    a.content_type,
                    written
                        .map(|p| format!("  -> {}", p.display()))
                        .unwrap_or_default()
                );
            }
        }
    }
    if n == 0 && !args.json {
        println!("Session {} has no attachments.", session.id);
    }
    if missing > 0 {
        eprintln!("mailcase: {missing} original(s) missing from the store");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
