//! `mailcase work`: process handoff-queue requests with the handoff function's code until the
//! queue is empty — the local stand-in for the SQS trigger, and the way to replay a dead-letter
//! queue after a fix. One JSON line per request; exit 1 when any failed (a failed SQS message
//! stays in its queue).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use app::ports::StoreQueue;
use app::reply::MailSender;
use app::requests::Worker;
use serde_json::{Value, json};
use store::ObjectStore;

use super::store::{Opened, StoreArgs};

/// Arguments of `mailcase work`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// SQS queue to drain (the handoff queue, or its dead-letter queue to replay); default
    /// HANDOFF_QUEUE_URL, else the local store's `queue/` folder.
    #[arg(long)]
    queue: Option<String>,
    /// Also wait for requests still delayed (a quiet period), for at most this many seconds.
    #[arg(long)]
    wait: Option<u64>,
    /// The Dynamics credentials JSON; else DYNAMICS_SECRET_ID.
    #[arg(long)]
    credentials: Option<PathBuf>,
}

/// Drain the queue.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let creds = args.credentials.as_ref();
    let queue = args.queue.clone().or_else(|| {
        std::env::var("HANDOFF_QUEUE_URL")
            .ok()
            .filter(|v| !v.is_empty())
    });
    let wait = args.wait.map(Duration::from_secs);
    let (done, failed) = match super::store::open(&args.store).await? {
        Opened::Dir(s) => {
            let outbox = app::reply::StoreOutbox::new(s.objects().clone());
            let local = StoreQueue::new(s.clone(), super::now);
            let w = super::worker::worker(s, outbox, creds, queue.as_deref(), true).await?;
            match &queue {
                Some(url) => drain_sqs(&w, url, wait).await?,
                None => drain_local(&w, &local, wait).await?,
            }
        }
        Opened::S3(s) => {
            let ses = ses::SesSender::from_conf(&super::worker::aws().await);
            let w = super::worker::worker(s, ses, creds, queue.as_deref(), false).await?;
            let url = queue.ok_or_else(|| {
                anyhow::anyhow!(
                    "give --queue URL or set HANDOFF_QUEUE_URL: a bucket store has no local queue"
                )
            })?;
            drain_sqs(&w, &url, wait).await?
        }
    };
    eprintln!("mailcase work: {done} done, {failed} failed");
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn one<O: ObjectStore, S: MailSender>(w: &Worker<O, S>, id: &str, body: &str) -> bool {
    let line = match serde_json::from_str::<app::handoff::Request>(body) {
        Err(e) => {
            json!({"request": id, "ok": false, "error": format!("unreadable handoff request: {e}"),
                         "fix": "send a JSON handoff request: {\"session_id\": ...}"})
        }
        Ok(req) => match w.handle(&req, super::now()).await {
            Ok(v) => json!({"request": id, "ok": true, "session_id": req.session_id,
                            "kind": req.kind.as_deref().unwrap_or("handoff"), "result": v}),
            Err(f) => json!({"request": id, "ok": false, "session_id": req.session_id,
                             "error": f.error, "fix": f.fix, "retryable": f.retryable}),
        },
    };
    println!("{line}");
    line["ok"] == Value::Bool(true)
}

async fn drain_sqs<O: ObjectStore, S: MailSender>(
    w: &Worker<O, S>,
    url: &str,
    wait: Option<Duration>,
) -> anyhow::Result<(usize, usize)> {
    let q = adapters::SqsQueue::new(&super::worker::aws().await, url);
    let out = adapters::drain(&q, wait, |id, body| async move { one(w, &id, &body).await })
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok((out.done, out.failed))
}

async fn drain_local<O: ObjectStore, S: MailSender>(
    w: &Worker<O, S>,
    q: &StoreQueue<O>,
    wait: Option<Duration>,
) -> anyhow::Result<(usize, usize)> {
    let deadline = wait.map(|d| std::time::Instant::now() + d);
    let (mut done, mut failed) = (0, 0);
    let mut tried: Vec<String> = Vec::new();
    loop {
        let include_delayed = false;
        let due = q.due(super::now(), include_delayed).await?;
        let fresh: Vec<_> = due
            .into_iter()
            .filter(|(k, _)| !tried.contains(k))
            .collect();
        if fresh.is_empty() {
            let pending = q
                .due(super::now(), true)
                .await?
                .into_iter()
                .any(|(k, _)| !tried.contains(&k));
            match deadline {
                Some(d) if pending && std::time::Instant::now() < d => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
                _ => return Ok((done, failed)),
            }
        }
        for (key, item) in fresh {
            if one(w, &key, &item.body).await {
                done += 1;
                q.remove(&key).await?;
            } else {
                failed += 1;
                tried.push(key);
            }
        }
    }
}
