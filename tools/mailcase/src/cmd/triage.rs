//! `mailcase triage`: what a handoff of the session would give the case — route, rule,
//! classification, priority, queue, owner, summary, sentiment, policy — creating nothing.

use std::process::ExitCode;

use app::triage::decide;
use serde_json::json;

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase triage`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Session id.
    session: store::SessionId,
}

/// Print the decision.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let routing = super::worker::routing().await?;
    let sentiment = super::worker::sentiment().await?;
    let session = with_sessions!(args.store, |sessions| sessions.load(&args.session).await?);
    let Some(session) = session else {
        eprintln!(
            "mailcase: no session {} (`mailcase sessions` lists them)",
            args.session
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut d = decide(&routing, &session);
    let mut sentiment_error = None;
    if let Some(detector) = &sentiment {
        let text = app::requests::customer_text(&session, app::requests::SENTIMENT_MAX_BYTES);
        match detector.detect(&text).await {
            Ok(s) => d.sentiment = s,
            Err(e) => sentiment_error = Some(e.to_string()),
        }
    }
    if args.json {
        let mut v = serde_json::to_value(&d)?;
        v["session_id"] = json!(session.id);
        if let Some(e) = &sentiment_error {
            v["sentiment_error"] = json!(e);
        }
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    let or = |v: Option<String>, none: &str| v.unwrap_or_else(|| none.to_string());
    println!("session:        {}", session.id);
    println!("route:          {}", d.route);
    println!("rule:           {}", or(d.rule.clone(), "(none matched)"));
    println!("classification: {}", d.classification);
    println!("priority:       {}", d.priority);
    println!(
        "queue:          {}",
        or(d.queue_id.map(|q| q.to_string()), "(none)")
    );
    println!(
        "owner:          {}",
        or(
            serde_json::to_value(&d)?["owner"]
                .as_str()
                .map(str::to_string),
            "(none)"
        )
    );
    println!(
        "properties:     {}",
        serde_json::Value::Object(d.ticket_properties.clone())
    );
    println!("summary:        {}", or(d.summary.clone(), "(none)"));
    println!(
        "sentiment:      {}",
        match (&d.sentiment, &sentiment_error, &sentiment) {
            (Some(s), _, _) => s.clone(),
            (None, Some(e), _) => format!("(failed: {e})"),
            (None, None, Some(_)) => "(language not supported)".into(),
            (None, None, None) => "(off; SENTIMENT=comprehend turns it on)".into(),
        }
    );
    println!("policy:         {}", d.policy);
    Ok(ExitCode::SUCCESS)
}
