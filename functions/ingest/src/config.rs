//! Configuration from the function's environment (declared in template.yaml).

use std::time::Duration;

/// Waits before re-reading a raw object that is missing.
pub const RAW_RETRY: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// Settings of the ingest function.
#[derive(Debug)]
pub struct Config {
    /// `MAIL_BUCKET`: the bucket SES writes raw mail to and sessions live in.
    pub bucket: String,
    /// `RAW_PREFIX` (default `raw/`): the receipt rule's object key prefix.
    pub raw_prefix: String,
    /// `HANDOFF_QUEUE_URL`: the handoff function's SQS queue, for follow-up notices.
    pub handoff_queue_url: Option<String>,
    /// `INTERNAL_DOMAINS` and `SUPPORT_ADDRESS`.
    pub ingest: app::ingest::Config,
}

/// A missing or malformed setting; the cold start fails with this message.
#[derive(Debug)]
pub struct ConfigError(String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Read the environment once at cold start.
    pub fn from_env() -> Result<Self, ConfigError> {
        let get = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let bucket = get("MAIL_BUCKET").ok_or_else(|| {
            ConfigError("MAIL_BUCKET is not set: name the bucket SES writes raw mail to".into())
        })?;
        let raw_prefix =
            get("RAW_PREFIX").unwrap_or_else(|| store::layout::DEFAULT_RAW_PREFIX.into());
        let list = |k: &str| -> Vec<String> {
            get(k)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut own_addresses = list("SUPPORT_ADDRESS");
        own_addresses.extend(list("OWN_ADDRESSES"));
        Ok(Config {
            bucket,
            raw_prefix,
            handoff_queue_url: get("HANDOFF_QUEUE_URL"),
            ingest: app::ingest::Config {
                internal_domains: list("INTERNAL_DOMAINS"),
                own_addresses,
                routing: app::routing::Routing::default(),
                flood: app::flood::FloodLimits::from_lookup(|k| std::env::var(k).ok())
                    .map_err(ConfigError)?,
            },
        })
    }
}

/// What the handler needs, built once per cold start.
pub struct Deps<O> {
    /// Sessions in the mail bucket.
    pub sessions: store::sessions::Sessions<O>,
    /// Where SES's S3 action writes raw mail (`raw/`).
    pub raw_prefix: String,
    /// Ingest settings.
    pub config: app::ingest::Config,
    /// Waits between reads of a raw object that is not there (yet).
    pub raw_retry: Vec<Duration>,
    /// The handoff queue (`HANDOFF_QUEUE_URL`) for follow-up notices and automatic handoffs;
    /// without it, follow-ups wait for the next handoff request of their session and handoff
    /// policies cannot act.
    pub queue: Option<Box<dyn app::ports::HandoffQueue>>,
    /// The event feed (`EVENT_BUS`).
    pub events: Box<dyn app::ports::EventSink>,
    /// Why the configuration (e.g. `ROUTING`) cannot be used: every invocation then fails
    /// with it rather than filing mail under a wrong route.
    pub refused: Option<String>,
}

impl<O> Deps<O> {
    /// Fails every invocation while the configuration is refused, with the reason.
    pub fn usable(&self) -> Result<(), lambda_runtime::Diagnostic> {
        let Some(reason) = &self.refused else {
            return Ok(());
        };
        tracing::error!(error = %reason, "configuration refused; mail is not filed until it is fixed (SES retries, then the failed-invocations queue keeps the event)");
        Err(lambda_runtime::Diagnostic {
            error_type: "Configuration".into(),
            error_message: reason.clone(),
        })
    }

    /// Where filing announces itself: the handoff queue and the event feed.
    pub fn outlets(&self) -> app::inbound::Outlets<'_> {
        app::inbound::Outlets {
            queue: self.queue.as_deref(),
            events: self.events.as_ref(),
        }
    }
}
