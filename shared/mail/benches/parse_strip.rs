//! Parse + strip throughput. `cargo bench -p mail` prints MB/s and messages/s for small
//! replies (the golden corpus) and for one 10 MB message with attachments, the same inputs
//! parsed by bare mail-parser (`MessageParser::default().parse`) in the same run, and the ratio
//! of our throughput (parse + repairs + body + strip + classify) to it: at 0.5 our own work
//! costs as much as the MIME parsing.

use std::hint::black_box;
use std::time::{Duration, Instant};

fn opts() -> mail::ParseOptions {
    mail::ParseOptions {
        internal_domains: vec!["acme.com".into()],
        received_at: Some(0),
    }
}

/// `mail::parse`, what ingest runs.
fn ours(raw: &[u8]) {
    black_box(mail::parse(black_box(raw), &opts()));
}

/// mail-parser alone on the same bytes: the floor our parse builds on.
fn bare(raw: &[u8]) {
    black_box(mail_parser::MessageParser::default().parse(black_box(raw)));
}

/// Runs `f` over `inputs` repeatedly for at least `min` and returns (messages, bytes, elapsed).
fn measure(inputs: &[Vec<u8>], min: Duration, f: fn(&[u8])) -> (u64, u64, Duration) {
    let (mut n, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < min {
        for raw in inputs {
            f(raw);
            n += 1;
            bytes += raw.len() as u64;
        }
    }
    (n, bytes, start.elapsed())
}

/// Prints the line and returns the throughput in bytes per second.
fn report(label: &str, (n, bytes, elapsed): (u64, u64, Duration)) -> f64 {
    let secs = elapsed.as_secs_f64();
    println!(
        "{label:<40} {:>10.1} msg/s {:>9.1} MB/s  ({n} messages, {:.1} MB, {secs:.2} s)",
        n as f64 / secs,
        bytes as f64 / 1e6 / secs,
        bytes as f64 / 1e6
    );
    bytes as f64 / secs
}

fn big_message(size: usize) -> Vec<u8> {
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let mut raw = String::from(
        "From: Ana <ana@client.example>\r\nTo: support@acme.com\r\nSubject: Re: logs\r\n\
         Date: Mon, 18 Mar 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         Here are the logs.\r\n\r\nOn Mon, 18 Mar 2024, Support <support@acme.com> wrote:\r\n> please send logs\r\n",
    );
    for i in 0..2 {
        raw.push_str(&format!(
            "--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"logs{i}.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        while raw.len() < size * (i + 1) / 2 {
            raw.push_str(line);
        }
    }
    raw.push_str("--b--\r\n");
    raw.into_bytes()
}

fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut small: Vec<Vec<u8>> = Vec::new();
    for sub in ["eml", "reply"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Some(ext) = p.extension() else { continue };
            let raw = std::fs::read(&p).unwrap_or_default();
            if ext == "eml" {
                small.push(raw);
            } else if ext == "txt" {
                // Reply-parser fixtures are bare bodies: give them a header block.
                let mut m = b"From: a@client.example\r\nSubject: Re: x\r\n\r\n".to_vec();
                m.extend_from_slice(&raw);
                small.push(m);
            }
        }
    }
    println!(
        "mail parse + strip benchmark ({} small messages)",
        small.len()
    );
    let small_ours = report(
        "small replies (corpus + reply fixtures)",
        measure(&small, Duration::from_secs(3), ours),
    );
    let big = vec![big_message(10 * 1024 * 1024)];
    let big_ours = report(
        "10 MB message with 2 attachments",
        measure(&big, Duration::from_secs(3), ours),
    );
    let small_bare = report(
        "  bare mail-parser: small replies",
        measure(&small, Duration::from_secs(3), bare),
    );
    let big_bare = report(
        "  bare mail-parser: 10 MB message",
        measure(&big, Duration::from_secs(3), bare),
    );
    println!(
        "ratio to bare mail-parser (target >= 0.5): small replies {:.2}x, 10 MB message {:.2}x",
        small_ours / small_bare,
        big_ours / big_bare
    );
    let bodies: Vec<String> = small
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    let start = Instant::now();
    let mut n = 0u64;
    let mut bytes = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        for b in &bodies {
            black_box(mail::strip::reply_text(black_box(b)));
            n += 1;
            bytes += b.len() as u64;
        }
    }
    report("strip only (reply_text)", (n, bytes, start.elapsed()));
}
