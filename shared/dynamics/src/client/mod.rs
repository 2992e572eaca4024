//! The client: one [`DataverseClient`] whose operations are spread over modules by concept.
//!
//! - [`transport`]: the retry policy, the backoff and the one retry loop every request goes
//!   through, and a single counted HTTP exchange.
//! - [`auth`]: the Entra ID token, acquired with client credentials and cached.
//! - [`request`]: an authenticated Web API request (bearer token, one refresh on 401) and its
//!   common shapes (read JSON, create-only write).
//! - [`contacts`]: finding and creating contacts.
//! - [`cases`]: incidents (create in one `$batch` change set, read, reactivate), notes, queue
//!   and owner checks.
//! - [`metadata`]: who the application user is and what the org says about columns (length,
//!   type, choice options).
//!
//! Dependencies run one way: transport ← auth ← request ← contacts, cases, metadata.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use crate::credentials::Credentials;
use crate::error::DynamicsError;

mod auth;
mod cases;
mod contacts;
mod metadata;
mod request;
mod transport;

pub use cases::{CaseRequest, CaseResult, IncidentState, Owner};
pub use transport::RetryPolicy;

/// Dataverse Web API client. Build once per cold start and share.
pub struct DataverseClient {
    http: reqwest::Client,
    creds: Credentials,
    policy: RetryPolicy,
    token: Mutex<Option<auth::Token>>,
    requests: AtomicU64,
    retries: AtomicU64,
}

impl DataverseClient {
    /// A client for these credentials.
    pub fn new(creds: Credentials, policy: RetryPolicy) -> Result<Self, DynamicsError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DynamicsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(DataverseClient {
            http,
            creds,
            policy,
            token: Mutex::new(None),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far (token requests included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Retries made so far (throttling, 5xx, transport).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }
}
