//! Where sessions live: a small blob-store port with conditional writes, its adapters, and
//! the sessions built on it ([`sessions`]), the bucket's key layout ([`layout`]) and the ids
//! keys are made of ([`ids`]).
//!
//! The port ([`ObjectStore`]) has the semantics of S3 with conditional writes: `put_new` is
//! `If-None-Match: *` (create once), `put_if_match` is `If-Match: <etag>` (compare and swap).
//! Every adapter honours them across threads and processes, so the ingest protocol is the
//! same against S3 ([`S3ObjectStore`], feature `s3`), a local directory ([`DirObjectStore`],
//! the default for local runs) and memory ([`MemoryObjectStore`], for unit tests).
#![warn(missing_docs)]

use std::future::Future;

use serde::{Serialize, de::DeserializeOwned};

mod counting;
mod dir;
pub mod ids;
pub mod layout;
mod memory;
#[cfg(feature = "s3")]
mod s3;
pub mod session;
pub mod sessions;

pub use counting::{CountingObjectStore, Counts};
pub use dir::DirObjectStore;
pub use ids::{IdError, MessageKey, SessionId};
pub use memory::MemoryObjectStore;
#[cfg(feature = "s3")]
pub use s3::S3ObjectStore;

/// An entity tag: changes whenever the object's content does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Etag(pub String);

/// An object's content and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Content.
    pub bytes: Vec<u8>,
    /// Tag of this content, for [`ObjectStore::put_if_match`].
    pub etag: Etag,
}

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write's precondition failed: the object exists (`put_new`) or changed or
    /// vanished (`put_if_match`).
    #[error("conflicting write to {key}")]
    Conflict {
        /// The key.
        key: String,
    },
    /// The key is not a safe relative path.
    #[error("invalid key {key:?}")]
    InvalidKey {
        /// The key.
        key: String,
    },
    /// The backend failed (network, permissions, disk); the source says how.
    #[error("store backend")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub(crate) fn backend(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Backend(e.into())
    }
}

/// The precondition of every write: there are no unconditional writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition<'a> {
    /// The key must not exist (`If-None-Match: *`).
    Absent,
    /// The object's tag must still be this one (`If-Match`).
    Matches(&'a Etag),
}

/// A blob store with conditional writes.
pub trait ObjectStore: Send + Sync {
    /// The object under `key`, or `None`.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Object>, StoreError>> + Send;
    /// Write `key` if `condition` holds; [`StoreError::Conflict`] otherwise.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: Condition<'_>,
    ) -> impl Future<Output = Result<Etag, StoreError>> + Send;
    /// Create `key`; [`StoreError::Conflict`] when it exists.
    fn put_new(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<Etag, StoreError>> + Send {
        self.put(key, bytes, content_type, Condition::Absent)
    }
    /// Replace `key` if its tag is still `etag`; [`StoreError::Conflict`] otherwise.
    fn put_if_match(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        etag: &Etag,
    ) -> impl Future<Output = Result<Etag, StoreError>> + Send {
        self.put(key, bytes, content_type, Condition::Matches(etag))
    }
    /// Every key under `prefix`, sorted.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Remove `key` (no error when absent).
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What an [`update_json`] step decides.
pub enum Update<T, R> {
    /// Write this value and return `R`.
    Write(T, R),
    /// Leave the object as it is and return `R`.
    Keep(R),
}

/// Optimistic read-modify-write of one JSON object: read it (with its tag), let `f` decide, and
/// write with `If-None-Match: *` (absent) or `If-Match: <tag>`; on a conflict, re-read and try
/// again, up to `max_attempts` times with jittered backoff. `f` may run several times.
pub async fn update_json<T: Serialize + DeserializeOwned + Send, R: Send>(
    store: &impl ObjectStore,
    key: &str,
    max_attempts: u32,
    f: impl FnMut(Option<T>) -> Update<T, R> + Send,
) -> Result<R, StoreError> {
    update_json_seeded(store, key, max_attempts, Seed::Read, f).await
}

/// What a caller already knows of an object before updating it, so the update's first read
/// can be skipped. A stale seed costs nothing but the failed conditional write: the update
/// then reads and tries again.
#[derive(Debug, Clone, Default)]
pub enum Seed {
    /// Nothing: read first.
    #[default]
    Read,
    /// Believed absent (e.g. an id just claimed for a new object): create with `If-None-Match`.
    Absent,
    /// Read a moment ago.
    Known(Object),
}

/// [`update_json`] whose first attempt starts from `seed` instead of reading.
pub async fn update_json_seeded<S, T, R, F>(
    store: &S,
    key: &str,
    max_attempts: u32,
    seed: Seed,
    mut f: F,
) -> Result<R, StoreError>
where
    S: ObjectStore,
    T: Serialize + DeserializeOwned + Send,
    R: Send,
    F: FnMut(Option<T>) -> Update<T, R> + Send,
{
    let mut seed = seed;
    for attempt in 0..max_attempts.max(1) {
        // The seed serves the first attempt only: a retry reads (`Seed::default()`).
        let current = match std::mem::take(&mut seed) {
            Seed::Absent => None,
            Seed::Known(obj) => Some(obj),
            Seed::Read => store.get(key).await?,
        };
        let (value, etag) = match current {
            None => (None, None),
            Some(obj) => {
                let v: T = serde_json::from_slice(&obj.bytes).map_err(|e| {
                    StoreError::backend(format!("{key}: stored JSON unreadable: {e}"))
                })?;
                (Some(v), Some(obj.etag))
            }
        };
        let (new, result) = match f(value) {
            Update::Keep(r) => return Ok(r),
            Update::Write(v, r) => (v, r),
        };
        let bytes = serde_json::to_vec_pretty(&new)
            .map_err(|e| StoreError::backend(format!("{key}: cannot encode JSON: {e}")))?;
        let written = match &etag {
            None => store.put_new(key, bytes, "application/json").await,
            Some(tag) => {
                store
                    .put_if_match(key, bytes, "application/json", tag)
                    .await
            }
        };
        match written {
            Ok(_) => return Ok(result),
            Err(StoreError::Conflict { .. }) => tokio::time::sleep(backoff(attempt)).await,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict {
        key: key.to_string(),
    })
}

/// Up to 10 ms × 2^attempt (capped at 320 ms), jittered so racing writers spread out.
fn backoff(attempt: u32) -> std::time::Duration {
    let cap = 10u64 << attempt.min(5);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(7);
    let mixed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(u64::from(attempt))
        >> 33;
    std::time::Duration::from_millis(1 + mixed % cap)
}

/// Turn arbitrary text (a file name, an id) into one safe key segment: no `/`, `\`, control
/// characters or leading dots, at most 120 bytes, never empty; the same input always gives the
/// same output.
pub fn safe_key_segment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.len() > 120 {
        let mut cut = 120;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    if out.is_empty() { "_".into() } else { out }
}

/// Check a key is a relative path of safe segments (used by the directory adapter).
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key.contains('\0')
        || key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == ".." || seg.starts_with(".mc-"));
    if bad {
        Err(StoreError::InvalidKey {
            key: key.to_string(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_segments() {
        let cases = [
            ("invoice.pdf", "invoice.pdf"),
            ("../../etc/passwd", "_.._etc_passwd"),
            ("..", "_"),
            ("", "_"),
            ("a/b\\c", "a_b_c"),
            ("Rechnung März.pdf", "Rechnung_März.pdf"),
            ("line\nbreak", "line_break"),
        ];
        for (input, expected) in cases {
            assert_eq!(safe_key_segment(input), expected, "{input:?}");
        }
        assert!(safe_key_segment(&"x".repeat(500)).len() <= 120);
    }

    #[test]
    fn keys_are_checked() {
        for bad in ["", "/abs", "a/../b", "a//b", "./a", "a\\b", ".mc-locks/x"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_key("sessions/mc-1/session.json").is_ok());
    }
}
