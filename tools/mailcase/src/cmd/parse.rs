//! `mailcase parse`: what the system will make of a message.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use mail::{InboundMessage, ParseOptions};
use serde_json::json;

/// Arguments of `mailcase parse`.
#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line per file instead of a readable summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    domains: super::InternalDomains,
    /// Received time (Unix seconds) used when a message has no usable Date header; defaults to
    /// the file's modification time.
    #[arg(long)]
    received_at: Option<i64>,
    /// .eml files (`-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Parse every file; an unreadable file is reported and makes the exit code non-zero, but any
/// readable content, however broken, parses.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for file in &args.files {
        let raw = match super::read_input(file) {
            Ok(raw) => raw,
            Err(e) => {
                failed = true;
                if args.json {
                    writeln!(out, "{}", json!({"file": file, "error": e.to_string()}))?;
                } else {
                    eprintln!("mailcase: cannot read {}: {e}", file.display());
                }
                continue;
            }
        };
        let opts = ParseOptions {
            internal_domains: args.domains.list(),
            received_at: args.received_at.or_else(|| mtime(file)),
        };
        let msg = mail::parse(&raw, &opts);
        if args.json {
            writeln!(out, "{}", to_json(file, &msg))?;
        } else {
            write!(out, "{}", summary(file, &msg))?;
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn mtime(file: &std::path::Path) -> Option<i64> {
    let modified = std::fs::metadata(file).ok()?.modified().ok()?;
    let secs = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    i64::try_from(secs).ok()
}

/// The `--json` line: the stored message form plus the file name.
pub fn to_json(file: &std::path::Path, msg: &InboundMessage) -> serde_json::Value {
    let mut value = serde_json::to_value(msg).unwrap_or_else(|e| json!({"error": e.to_string()}));
    if let Some(obj) = value.as_object_mut() {
        obj.insert("file".into(), json!(file));
    }
    value
}

fn summary(file: &std::path::Path, m: &InboundMessage) -> String {
    let who = |mb: &Option<mail::Mailbox>| {
        mb.as_ref()
            .map(|m| match &m.name {
                Some(n) => format!("{n} <{}>", m.address),
                None => m.address.clone(),
            })
            .unwrap_or_else(|| "-".into())
    };
    let mut s = format!("== {}\n", file.display());
    s += &format!(
        "Disposition: {} ({})\n",
        m.disposition.as_str(),
        m.disposition_reason
    );
    s += &format!("From:        {}\n", who(&m.from));
    s += &format!("Customer:    {}\n", who(&m.customer));
    s += &format!("Date:        {}\n", m.date);
    s += &format!("Subject:     {}\n", m.subject.as_deref().unwrap_or("-"));
    s += &format!("Thread:      {}\n", m.thread_subject);
    s += &format!("Message-ID:  {}\n", m.message_id.as_deref().unwrap_or("-"));
    if let Some(irt) = &m.in_reply_to {
        s += &format!("In-Reply-To: {irt}\n");
    }
    if let Some(fc) = &m.forwarding_confirmation {
        s += &format!(
            "Confirmation code: {}  link: {}\n",
            fc.code.as_deref().unwrap_or("-"),
            fc.url.as_deref().unwrap_or("-")
        );
    }
    for a in &m.attachments {
        s += &format!(
            "Attachment:  {} ({}, {} bytes{}{})\n",
            a.filename,
            a.content_type,
            a.size,
            if a.inline { ", inline" } else { "" },
            if a.winmail {
                ", Outlook winmail.dat: contents not decoded"
            } else {
                ""
            }
        );
    }
    s += "--- reply text\n";
    s += &m.reply_text;
    s += "\n\n";
    s
}
