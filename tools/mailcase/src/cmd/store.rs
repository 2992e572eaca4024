//! The `--store DIR` / `--bucket NAME` choice shared by the commands that read or write sessions.

use std::path::PathBuf;

use store::sessions::Sessions;
use store::{DirObjectStore, S3ObjectStore};

/// Where sessions live.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Local directory store (the default for local runs).
    #[arg(long, default_value = ".mailcase", conflicts_with = "bucket")]
    pub store: PathBuf,
    /// S3 bucket instead of a local directory (honours AWS_ENDPOINT_URL and the usual AWS_* settings).
    #[arg(long, env = "MAIL_BUCKET")]
    pub bucket: Option<String>,
}

/// Run `$body` with `$sessions` bound to the chosen store's `Sessions`.
macro_rules! with_sessions {
    ($args:expr, |$sessions:ident| $body:expr) => {{
        match $crate::cmd::store::open(&$args).await? {
            $crate::cmd::store::Opened::Dir($sessions) => $body,
            $crate::cmd::store::Opened::S3($sessions) => $body,
        }
    }};
}
pub(crate) use with_sessions;

/// An opened store of either kind.
pub enum Opened {
    /// Local directory.
    Dir(Sessions<DirObjectStore>),
    /// S3 bucket.
    S3(Sessions<S3ObjectStore>),
}

/// Open the store the arguments name.
pub async fn open(args: &StoreArgs) -> anyhow::Result<Opened> {
    Ok(match &args.bucket {
        Some(bucket) => {
            let aws = crate::logging::aws_config().await;
            Opened::S3(Sessions::new(S3ObjectStore::from_conf(&aws, bucket, None)))
        }
        None => {
            std::fs::create_dir_all(&args.store).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create store directory {}: {e}",
                    args.store.display()
                )
            })?;
            Opened::Dir(Sessions::new(DirObjectStore::new(&args.store)))
        }
    })
}
