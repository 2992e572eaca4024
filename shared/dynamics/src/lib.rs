//! Dataverse (Dynamics 365) Web API client for mailcase.
//!
//! - OAuth 2.0 client credentials against Entra ID (`{authority}/{tenant}/oauth2/v2.0/token`),
//!   token cached until one minute before expiry.
//! - One reused `reqwest::Client`; every request is counted ([`DataverseClient::requests`]).
//! - Retries: 429 honours `Retry-After`; 5xx and timeouts back off exponentially; both within
//!   [`RetryPolicy`]'s bound. 400/401/403/404/412 are never retried.
//! - Errors carry the operator's fix ([`DynamicsError::fix`]); secrets never appear in them.
//!
//! Business names are used in the API (`Case`, `Contact`); Dataverse's wire names live in
//! [`wire`].
#![warn(missing_docs)]

mod client;
mod credentials;
mod error;
mod files;
mod security;
pub mod wire;

pub use client::{CaseRequest, CaseResult, DataverseClient, IncidentState, Owner, RetryPolicy};
pub use credentials::{Credentials, Secret};
pub use error::DynamicsError;
pub use files::{BLOCK_THRESHOLD, FileNote, OrgFileLimits};
pub use security::{Depth, Me, Ownership, UserPrivilege};

/// Namespace for ids mailcase derives (incidents, contacts, notes), so retries hit the same ids.
pub const ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d61_696c_6361_7365_8000_0000_0000_0001);

/// Deterministic id of something mailcase creates, from a stable name.
pub fn derived_id(kind: &str, name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&ID_NAMESPACE, format!("{kind}:{name}").as_bytes())
}
