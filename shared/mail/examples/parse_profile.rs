//! `mail::parse` (or bare mail-parser) over the benchmark's small-reply corpus, for profilers:
//! `ROUNDS=100` and `ROUNDS=300` under `valgrind --tool=callgrind`, and the difference of the two
//! per function is the steady-state cost per message without the one-time regex compilation.
//! `cargo build --profile bench -p mail --example parse_profile` (with
//! `CARGO_PROFILE_BENCH_STRIP=false CARGO_PROFILE_BENCH_DEBUG=line-tables-only` for symbols);
//! `parse_profile [bare]`. Without `ROUNDS` it runs 5 s and prints µs per message and the
//! slowest inputs; `ONLY=<part of a name>` keeps just those inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut small = Vec::new();
    for sub in ["eml", "reply"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let raw = std::fs::read(&p).unwrap_or_default();
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            match p.extension().and_then(|e| e.to_str()) {
                Some("eml") => small.push((name, raw)),
                // Reply-parser fixtures are bare bodies: a header block, as the benchmark does.
                Some("txt") => {
                    let mut m = b"From: a@client.example\r\nSubject: Re: x\r\n\r\n".to_vec();
                    m.extend_from_slice(&raw);
                    small.push((name, m));
                }
                _ => {}
            }
        }
    }
    small
}

fn main() {
    // `ONLY=<part of a file name>`: just those inputs.
    let only = std::env::var("ONLY").unwrap_or_default();
    let small: Vec<_> = corpus()
        .into_iter()
        .filter(|(name, _)| name.contains(&only))
        .collect();
    let opts = mail::ParseOptions {
        internal_domains: vec!["acme.com".into()],
        received_at: Some(0),
    };
    let bare = std::env::args().nth(1).as_deref() == Some("bare");
    let rounds: Option<usize> = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok());
    let mut spent = vec![Duration::ZERO; small.len()];
    let (start, mut n, mut round) = (Instant::now(), 0u64, 0usize);
    while rounds.map_or(start.elapsed() < Duration::from_secs(5), |r| round < r) {
        round += 1;
        for (i, (_, raw)) in small.iter().enumerate() {
            let t = Instant::now();
            if bare {
                std::hint::black_box(mail_parser::MessageParser::default().parse(raw));
            } else {
                std::hint::black_box(mail::parse(raw, &opts));
            }
            spent[i] += t.elapsed();
            n += 1;
        }
    }
    println!(
        "{n} messages, {:.1} µs per message",
        start.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let mut slowest: Vec<(Duration, usize)> = spent.iter().copied().zip(0..).collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (t, i) in slowest.into_iter().take(8) {
        let us = t.as_secs_f64() * 1e6 / round as f64;
        println!("{us:8.1} µs  {} ({} bytes)", small[i].0, small[i].1.len());
    }
}
