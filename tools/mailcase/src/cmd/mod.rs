//! One module per subcommand.

pub mod attachments;
pub mod demo;
pub mod handoff;
pub mod ingest;
pub mod parse;
pub mod reply;
pub mod sessions;
pub mod status;
pub mod store;
pub mod strip;
pub mod triage;
pub mod verify;
pub mod work;
pub mod worker;

use std::io::Read;
use std::path::Path;

/// Seconds since the epoch (the CLI's one clock read; app code takes time as input).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `--internal-domain` of `parse` and `ingest`.
#[derive(clap::Args)]
pub struct InternalDomains {
    /// A company mail domain: forwards by these addresses are attributed to the original sender.
    /// Repeatable; also read from INTERNAL_DOMAINS (comma-separated).
    #[arg(
        long = "internal-domain",
        env = "INTERNAL_DOMAINS",
        value_delimiter = ','
    )]
    internal_domains: Vec<String>,
}

impl InternalDomains {
    /// The domains, trimmed and lower-cased.
    pub fn list(&self) -> Vec<String> {
        self.internal_domains
            .iter()
            .map(|d| d.trim().to_lowercase())
            .collect()
    }
}

/// Read a file, or standard input for `-`.
pub fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}
