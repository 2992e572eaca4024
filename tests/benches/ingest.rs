//! Ingest benchmark against a real moto server: S3 requests and time per message (new thread,
//! reply, redelivery; 10 KB, 1 MB, 30 MB), then the peak memory of one ingest per size.
//! `cargo bench -p it --bench ingest`.
//!
//! Peak memory is measured as Lambda sees it: each message is ingested by a fresh process (this
//! binary again, `--rss-child`) wired like `functions/ingest` (`adapters::aws_config`,
//! `S3ObjectStore::from_conf`), whose handler reads `raw/<id>` from S3, parses and files it;
//! the figure is that process's high-water mark (VmHWM), so nothing the benchmark itself holds
//! (the generated messages, earlier cases) is counted, and the raw read is.

use std::process::Command;
use std::time::Instant;

use app::ingest::{Config, Receipt};
use store::sessions::Sessions;
use store::{CountingObjectStore, S3ObjectStore};
use testkit::MotoServer;

fn message(id: &str, in_reply_to: Option<&str>, subject: &str, size: usize) -> Vec<u8> {
    let mut s = format!(
        "From: Ana <ana@client.example>\r\nTo: support@acme.com\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\n"
    );
    if let Some(p) = in_reply_to {
        s.push_str(&format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"));
    }
    s.push_str("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHere you go.\r\n\r\nOn Mon, Support <support@acme.com> wrote:\r\n> please send logs\r\n");
    s.push_str("--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=logs.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while s.len() < size {
        s.push_str(line);
    }
    s.push_str("--b--\r\n");
    s.into_bytes()
}

fn ses_event(ses_id: &str) -> serde_json::Value {
    serde_json::json!({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": ses_id, "timestamp": "2024-03-12T10:15:02.512Z", "source": "ana@client.example"},
        "receipt": {"timestamp": "2024-03-12T10:15:02.512Z", "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}
    }}]})
}

/// `--rss-child BUCKET SES_ID`: one Lambda-shaped ingest of `raw/SES_ID`; prints the
/// disposition and VmHWM in MB.
async fn rss_child(bucket: &str, ses_id: &str) {
    let aws = adapters::aws_config().await;
    let deps = ingest::handler::Deps {
        sessions: Sessions::new(S3ObjectStore::from_conf(&aws, bucket, None)),
        raw_prefix: "raw/".into(),
        config: Config::default(),
        raw_retry: Vec::new(),
        queue: None,
        events: Box::new(app::ports::NoEvents),
        refused: None,
    };
    let event = lambda_runtime::LambdaEvent::new(ses_event(ses_id), Default::default());
    let out = ingest::handler::handle(&deps, event)
        .await
        .expect("handled");
    let disposition = out["outcomes"][0]["disposition"].as_str().unwrap_or("?");
    println!("{disposition} {:.1}", peak_rss_mb());
}

/// VmHWM in MB (10^6 bytes, like the message sizes and the target).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        * 1024.0
        / 1e6
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        rss_child(&args[i + 1], &args[i + 2]).await;
        return;
    }
    let moto = MotoServer::start();
    let bucket = moto.bucket("bench").await;
    let store = CountingObjectStore::new(S3ObjectStore::new(moto.s3().await, &bucket, None));
    let counts = store.counts.clone();
    let sessions = Sessions::new(store);
    let cfg = Config::default();
    let receipt = |id: &str| Receipt {
        ses_message_id: id.into(),
        received_at: 0,
        spam: None,
        virus: None,
        recipients: Vec::new(),
    };
    println!("ingest benchmark (moto S3 on 127.0.0.1; requests counted at the store port)");
    println!(
        "{:<26} {:>4} {:>4} {:>7} {:>9} {:>7} {:>9}",
        "case", "GET", "PUT", "attach", "+raw GET", "target", "ms"
    );
    let trace = std::env::var_os("INGEST_TRACE").is_some();
    for (label, size) in [
        ("10 KB", 10_000usize),
        ("1 MB", 1_000_000),
        ("30 MB", 30_000_000),
    ] {
        // One thread per size, so each size's "new thread" is one.
        let tag = label.replace(' ', "");
        let root_id = format!("root-{tag}@client.example");
        let subject = format!("Logs for {label}");
        let root = message(&root_id, None, &subject, size);
        let reply = message(
            &format!("reply-{tag}@client.example"),
            Some(&root_id),
            &format!("Re: {subject}"),
            size,
        );
        for (case, raw, ses, target) in [
            ("new thread", &root, format!("a-{label}"), 5),
            ("reply in thread", &reply, format!("b-{label}"), 5),
            ("redelivery", &reply, format!("b-{label}"), 3),
        ] {
            counts.take_log();
            let (g0, p0) = counts.gets_puts();
            let started = Instant::now();
            app::ingest::run(&sessions, raw, &receipt(&ses), &cfg)
                .await
                .expect("ingest");
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let (g1, p1) = counts.gets_puts();
            let log = counts.take_log();
            let attach = log
                .iter()
                .filter(|l| l.starts_with("PUT") && l.contains("/attachments/"))
                .count() as u64;
            let filed = (g1 - g0) + (p1 - p0) - attach + 1;
            println!(
                "{:<26} {:>4} {:>4} {:>7} {:>9} {:>7} {:>9.1}",
                format!("{label} {case}"),
                g1 - g0,
                p1 - p0,
                attach,
                filed,
                format!("<= {target}"),
                ms,
            );
            if trace {
                for l in log {
                    println!("    {l}");
                }
            }
        }
    }
    println!(
        "(GET and PUT: requests of app::ingest::run; attach: the attachment PUTs among them (one per \
         attachment); +raw GET: the requests per filed message the target counts, i.e. without \
         the attachments and with the Lambda handler's GET of raw/<id>; INGEST_TRACE=1 lists them)"
    );
    println!();
    peak_memory(&moto).await;
}

/// One fresh process per message (see the crate doc): the Lambda handler on moto S3.
async fn peak_memory(moto: &MotoServer) {
    let bucket = moto.bucket("rss").await;
    let s3 = moto.s3().await;
    let exe = std::env::current_exe().expect("own path");
    println!(
        "peak memory of one ingest (fresh process per message: the Lambda handler reads raw/<id> from S3, parses, files; VmHWM)"
    );
    println!("{:<34} {:>12} {:>14}", "case", "peak RSS MB", "target MB");
    for (label, size) in [
        ("10 KB", 10_000usize),
        ("1 MB", 1_000_000),
        ("30 MB", 30_000_000),
    ] {
        let tag = label.replace(' ', "");
        let root_id = format!("rss-root-{tag}@client.example");
        let subject = format!("Memory for {label}");
        for (case, ses, raw) in [
            (
                "new thread",
                format!("rss-a-{tag}"),
                message(&root_id, None, &subject, size),
            ),
            (
                "reply in thread",
                format!("rss-b-{tag}"),
                message(
                    &format!("rss-reply-{tag}@client.example"),
                    Some(&root_id),
                    &format!("Re: {subject}"),
                    size,
                ),
            ),
        ] {
            let len = raw.len();
            s3.put_object()
                .bucket(&bucket)
                .key(format!("raw/{ses}"))
                .body(raw.into())
                .send()
                .await
                .expect("raw put");
            let out = Command::new(&exe)
                .args(["--rss-child", &bucket, &ses])
                .envs(moto.env())
                .output()
                .expect("child runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let (disposition, peak) = stdout.trim().split_once(' ').unwrap_or(("?", "?"));
            assert!(
                out.status.success() && disposition == "customer",
                "child failed: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // Issue 14's budget: twice the message plus 40 MB.
            let target = 2.0 * len as f64 / 1e6 + 40.0;
            println!(
                "{:<34} {:>12} {:>14.0}",
                format!("{label} {case}"),
                peak,
                target
            );
        }
    }
}
