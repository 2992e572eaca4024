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
