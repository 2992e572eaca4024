//! Peak memory of a handoff that uploads a 25 MB attachment (block upload) with
//! `ATTACHMENTS=upload`, on moto S3. The emulator runs in a child process (this same binary) so
//! its copies of the file are not counted; the peak (VmHWM) is reset after ingest, so only the
//! handoff is measured. `cargo bench -p it --bench attachments`. Linux only (reads /proc).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use app::attachments::Mode;
use app::handoff::{LimitsCache, Request, Settings};
use app::ingest::{Config, Receipt};
use dynamics::{Credentials, DataverseClient, RetryPolicy};
use store::S3ObjectStore;
use store::sessions::Sessions;
use testkit::MotoServer;

const SIZE: usize = 25 * 1024 * 1024;
const CHILD: &str = "MAILCASE_BENCH_EMULATOR";

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mail(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut m = String::from(
        "From: Ana <ana@client.example>\r\nTo: support@acme.com\r\nSubject: Logs\r\nMessage-ID: <big@client.example>\r\nDate: Tue, 12 Mar 2024 10:15:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe full log is attached.\r\n--B\r\nContent-Type: application/zip; name=\"logs.zip\"\r\nContent-Disposition: attachment; filename=\"logs.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in b64.as_bytes().chunks(76) {
        m.push_str(&String::from_utf8_lossy(line));
        m.push_str("\r\n");
    }
    m.push_str("--B--\r\n");
    m.into_bytes()
}

async fn child() {
    let emu = dataverse_emulator::Emulator::start(dataverse_emulator::Config::default())
        .await
        .expect("emulator");
    emu.set_file_limits(40_000_000, "exe");
    println!("{}", emu.credentials_json());
    let _ = std::io::stdout().flush();
    // Serve until the parent closes our stdin.
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        let _ = std::io::stdin().read_line(&mut s);
    })
    .await;
    let files = emu
        .records("annotations")
        .iter()
        .filter(|n| n.get("filesize").and_then(|v| v.as_u64()) == Some(SIZE as u64))
        .count();
    eprintln!("emulator: {files} note(s) with the 25 MB file");
}

#[tokio::main]
async fn main() {
    if std::env::var(CHILD).is_ok() {
        return child().await;
    }
    let exe = std::env::current_exe().expect("exe");
    let mut emu = Command::new(exe)
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("emulator process");
    let mut line = String::new();
    BufReader::new(emu.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("credentials");
    let crm = DataverseClient::new(
        Credentials::from_json(line.trim()).expect("creds"),
        RetryPolicy::default(),
    )
    .expect("client");
    let moto = MotoServer::start();
    let bucket = moto.bucket("attachments-bench").await;
    let sessions = Sessions::new(S3ObjectStore::new(moto.s3().await, &bucket, None));
    let file: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
    let receipt = Receipt {
        ses_message_id: "big".into(),
        received_at: 0,
        spam: None,
        virus: None,
        recipients: Vec::new(),
    };
    let sid = {
        let raw = mail(&file);
        app::ingest::run(&sessions, &raw, &receipt, &Config::default())
            .await
            .expect("ingest")
            .session_id
            .expect("filed")
    };
    drop(file);
    // Reset the peak so only the handoff counts (Linux: "5" clears VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = status_kb("VmRSS:");
    let before = crm.requests();
    let started = Instant::now();
    let out = app::handoff::run(
        &sessions,
        &crm,
        &Settings::default(),
        &LimitsCache::default(),
        &Request {
            session_id: sid,
            ..Request::default()
        },
        0,
        Mode::Upload,
    )
    .await
    .expect("handoff");
    let ms = started.elapsed().as_millis();
    let peak = status_kb("VmHWM:");
    println!(
        "attachments benchmark: handoff uploading one 25 MB attachment (block upload, moto S3)"
    );
    println!(
        "  case {} created, {} Dynamics requests, {ms} ms",
        out.ticket_number,
        crm.requests() - before
    );
    println!(
        "  RSS before the handoff {:.1} MB, peak during it {:.1} MB: +{:.1} MB for a {:.1} MB file",
        base as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(base) as f64 / 1024.0,
        SIZE as f64 / (1024.0 * 1024.0)
    );
    drop(emu.stdin.take());
    let _ = emu.wait();
}
