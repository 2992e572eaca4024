//! `mailcase status`: what mailcase did in the last day (or `--since`), read from the store
//! (`app::status`), plus the dead-letter queue's depth through SQS.

use std::fmt::Write as _;
use std::process::ExitCode;

use app::status::{Count, NoQueue, QueueDepth, Report};

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase status`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// How far back: `90s`, `30m`, `24h`, `7d`.
    #[arg(long, default_value = "24h")]
    since: String,
    /// The dead-letter queue (the stack's `HandoffDeadLetterQueueUrl` output), for its depth.
    #[arg(long, env = "HANDOFF_DLQ_URL")]
    dlq_url: Option<String>,
    /// The report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The dead-letter queue's depth through SQS `GetQueueAttributes`.
pub struct SqsDepth {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueDepth for SqsDepth {
    async fn depth(&self) -> Result<u64, String> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot read {}: {} (check the URL, the region and sqs:GetQueueAttributes)",
                    self.url,
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                )
            })?;
        out.attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| "SQS answered without ApproximateNumberOfMessages".into())
    }
}

/// Run it. Exit 1 when a handoff failed unrecovered or the dead-letter queue is not empty.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let window = app::status::parse_since(&args.since)
        .ok_or_else(|| anyhow::anyhow!("--since {}: use e.g. 90s, 30m, 24h or 7d", args.since))?;
    let now = super::now();
    let report = match &args.dlq_url {
        Some(url) => {
            let aws = crate::logging::aws_config().await;
            let dlq = SqsDepth {
                client: aws_sdk_sqs::Client::new(&aws),
                url: url.clone(),
            };
            with_sessions!(args.store, |sessions| app::status::collect(
                &sessions,
                &dlq,
                now - window,
                now
            )
            .await?)
        }
        None => with_sessions!(args.store, |sessions| app::status::collect(
            &sessions,
            &NoQueue,
            now - window,
            now
        )
        .await?),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    let trouble =
        report.handoffs.failed.count > 0 || report.dead_letter_queue.depth.is_some_and(|d| d > 0);
    Ok(if trouble {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn line(out: &mut String, label: &str, c: &Count) {
    let _ = writeln!(out, "  {label:<26} {}", c.count);
    for e in &c.latest {
        let mut parts = vec![e.at.clone()];
        for v in [
            &e.session_id,
            &e.ticket_number,
            &e.ses_message_id,
            &e.cause,
            &e.detail,
        ]
        .into_iter()
        .flatten()
        {
            parts.push(v.clone());
        }
        if let Some(a) = e.attempts {
            parts.push(format!("{a} attempt(s)"));
        }
        let _ = writeln!(out, "      {}", parts.join("  "));
        if let Some(f) = &e.fix {
            let _ = writeln!(out, "      fix: {f}");
        }
    }
}

/// The report as text.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "mailcase status {} .. {}", r.since, r.now);
    let _ = writeln!(out, "mail filed");
    line(&mut out, "new sessions", &r.filed.new_sessions);
    line(&mut out, "replies", &r.filed.replies);
    line(&mut out, "follow-ups", &r.filed.followups);
    let _ = writeln!(out, "mail not filed");
    for (reason, c) in &r.not_filed {
        line(&mut out, reason, c);
    }
    let _ = writeln!(out, "rejected input");
    if r.rejected.is_empty() {
        let _ = writeln!(out, "  {:<26} 0", "(none)");
    }
    for (cause, c) in &r.rejected {
        line(&mut out, cause, c);
    }
    let _ = writeln!(out, "handoffs");
    line(&mut out, "done", &r.handoffs.done);
    line(&mut out, "failed", &r.handoffs.failed);
    let _ = writeln!(
        out,
        "  {:<26} {} ({} recovered later)",
        "failed attempts", r.handoffs.failed_attempts, r.handoffs.recovered
    );
    line(&mut out, "follow-ups pending", &r.followups_pending);
    match (&r.dead_letter_queue.depth, &r.dead_letter_queue.error) {
        (Some(d), _) => {
            let _ = writeln!(out, "dead-letter queue          {d}");
            if *d > 0 {
                let _ = writeln!(
                    out,
                    "      fix the cause above, then replay: mailcase work --queue <DLQ URL>"
                );
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(out, "dead-letter queue          unknown: {e}");
        }
        (None, None) => {}
    }
    let _ = writeln!(
        out,
        "email channel              {}: {}",
        r.email_channel.state, r.email_channel.detail
    );
    out
}
