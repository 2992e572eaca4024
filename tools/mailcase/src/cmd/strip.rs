//! `mailcase strip`: reply text of a bare body.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `mailcase strip`.
#[derive(clap::Args)]
pub struct Args {
    /// The body is HTML: cut quotes in the markup, then convert to text.
    #[arg(long)]
    html: bool,
    /// A body file (`-` for standard input).
    file: PathBuf,
}

/// Print the reply text.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let raw = super::read_input(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let body = String::from_utf8_lossy(&raw);
    let reply = if args.html {
        mail::strip::reply_html(&body)
    } else {
        mail::strip::reply_text(&body)
    };
    println!("{reply}");
    Ok(ExitCode::SUCCESS)
}
