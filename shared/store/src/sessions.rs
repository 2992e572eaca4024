//! Sessions on top of an [`ObjectStore`]: the key layout and the create-once / compare-and-swap
//! protocol that makes ingest safe under retries and concurrency.
//!
//! Layout (all JSON unless noted):
//!
//! | key | written | what |
//! |---|---|---|
//! | `sessions/<sid>/session.json` | `If-Match` update loop | the [`Session`] |
//! | `sessions/<sid>/messages/<key>.json` | create-once | the whole parsed message (text, headers) |
//! | `sessions/<sid>/attachments/<key>/<n>-<name>` | create-once | attachment bytes |
//! | `sessions/<sid>/handoff.json` | create-once | the handoff id every handoff of the session uses (one case per session) |
//! | `sessions/<sid>/uploads/<key>-<n>.json` | replaced when it changes | what happened to that attachment on the case (`app::attachments`) |
//! | `index/message-id/<sha256>.json` | create-once | Message-ID -> session (also ids only referenced so far) |
//! | `index/subject/<sha256>.json` | create-once, then `If-Match` | customer + thread subject -> open session |
//! | `unfiled/<key>.json` | create-once | mail not filed (auto-reply, bounce, ...) with its reason |
//! | `rejected/<name>.json` | create-once | input that can never be processed |
//! | `failures/<yyyymmddThhmmssZ>-<kind>-<hash>.json` | create-once | a failed handoff request or rejected input: cause code, error, fix, ids (`app::status`) |

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::session::Session;
use crate::{ObjectStore, StoreError, Update, safe_key_segment, update_json};

/// Attempts of the compare-and-swap loop on one session before giving up with `Conflict`.
/// Twenty concurrent writers on one object need up to twenty rounds in the worst case.
pub const UPDATE_ATTEMPTS: u32 = 40;

/// What a Message-ID index entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdEntry {
    /// The session the id belongs to.
    pub session_id: String,
    /// The message's key when the message itself is stored; `None` for an id so far only
    /// referenced by another message (a reply that arrived before its parent).
    pub message_key: Option<String>,
}

/// The claim of a session's one handoff (`sessions/<sid>/handoff.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffClaim {
    /// The handoff id every handoff of the session uses.
    pub handoff_id: String,
}

/// Key of a session's handoff claim.
pub fn handoff_claim_key(session_id: &str) -> String {
    format!("sessions/{}/handoff.json", safe_key_segment(session_id))
}

/// What a subject index entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectEntry {
    /// The newest session with this customer and thread subject.
    pub session_id: String,
}

/// Hex SHA-256 of `s`, used to turn header values into fixed, safe keys.
pub fn digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hex SHA-256 of bytes (an attachment's content digest).
pub fn digest_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Sessions stored in an [`ObjectStore`].
#[derive(Debug, Clone)]
pub struct Sessions<O> {
    store: O,
}

impl<O: ObjectStore> Sessions<O> {
    /// Sessions in `store` (which may itself carry a key prefix).
    pub fn new(store: O) -> Self {
        Sessions { store }
    }

    /// The underlying object store.
    pub fn objects(&self) -> &O {
        &self.store
    }

    /// Key of a session document.
    pub fn session_key(session_id: &str) -> String {
        format!("sessions/{}/session.json", safe_key_segment(session_id))
    }

    /// Load a session.
    pub async fn load(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        self.get_json(&Self::session_key(session_id)).await
    }

    /// All sessions, newest activity first.
    pub async fn list(&self) -> Result<Vec<Session>, StoreError> {
        let keys = self.store.list("sessions/").await?;
        let mut out = Vec::new();
        for key in keys.iter().filter(|k| k.ends_with("/session.json")) {
            if let Some(s) = self.get_json::<Session>(key).await? {
                out.push(s);
            }
        }
        out.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Read-modify-write of one session with optimistic concurrency (`If-Match`), creating it
    /// (`If-None-Match: *`) when `f` returns a value for a missing session.
    pub async fn update<R, F>(&self, session_id: &str, f: F) -> Result<R, StoreError>
    where
        R: Send,
        F: FnMut(Option<Session>) -> Update<Session, R> + Send,
    {
        update_json(
            &self.store,
            &Self::session_key(session_id),
            UPDATE_ATTEMPTS,
            f,
        )
        .await
    }

    /// Load a session and keep what was read as the seed of a following
    /// [`Sessions::update_seeded`] (one read for both).
    pub async fn load_seeded(
        &self,
        session_id: &str,
    ) -> Result<(Option<Session>, crate::Seed), StoreError> {
        let key = Self::session_key(session_id);
        match self.store.get(&key).await? {
            None => Ok((None, crate::Seed::Read)),
            Some(obj) => {
                let s = serde_json::from_slice(&obj.bytes).map_err(|e| {
                    StoreError::Backend(format!("{key}: stored JSON unreadable: {e}").into())
                })?;
                Ok((Some(s), crate::Seed::Known(obj)))
            }
        }
    }

    /// [`Sessions::update`] starting from what the caller already read (see [`crate::Seed`]).
    pub async fn update_seeded<R, F>(
        &self,
        session_id: &str,
        seed: crate::Seed,
        f: F,
    ) -> Result<R, StoreError>
    where
        R: Send,
        F: FnMut(Option<Session>) -> Update<Session, R> + Send,
    {
        crate::update_json_seeded(
            &self.store,
            &Self::session_key(session_id),
            UPDATE_ATTEMPTS,
            seed,
            f,
        )
        .await
    }

    /// Look up a Message-ID.
    pub async fn find_message_id(&self, message_id: &str) -> Result<Option<IdEntry>, StoreError> {
        self.get_json(&id_key(message_id)).await
    }

    /// Record `message_id` -> `entry` unless the id is already recorded; returns the entry that
    /// is in force afterwards (the existing one on a conflict).
    pub async fn claim_message_id(
        &self,
        message_id: &str,
        entry: &IdEntry,
    ) -> Result<IdEntry, StoreError> {
        let key = id_key(message_id);
        match self.put_new_json(&key, entry).await {
            Ok(()) => Ok(entry.clone()),
            Err(StoreError::Conflict { .. }) => {
                // An id first seen as a reference now arrives as a message: fill in its key.
                let upgraded = update_json(
                    &self.store,
                    &key,
                    UPDATE_ATTEMPTS,
                    |cur: Option<IdEntry>| match cur {
                        Some(e)
                            if e.message_key.is_none()
                                && entry.message_key.is_some()
                                && e.session_id == entry.session_id =>
                        {
                            let new = IdEntry {
                                session_id: e.session_id.clone(),
                                message_key: entry.message_key.clone(),
                            };
                            Update::Write(new.clone(), new)
                        }
                        Some(e) => Update::Keep(e),
                        None => Update::Write(entry.clone(), entry.clone()),
                    },
                )
                .await?;
                Ok(upgraded)
            }
            Err(e) => Err(e),
        }
    }

    /// Claim the session's one handoff: the first `handoff_id` to claim it wins, and every
    /// later or concurrent handoff of the session (whatever its own id) gets the winner's id,
    /// so they all derive the same incident. Returns the id in force.
    pub async fn claim_handoff(
        &self,
        session_id: &str,
        handoff_id: &str,
    ) -> Result<String, StoreError> {
        let key = handoff_claim_key(session_id);
        let mine = HandoffClaim {
            handoff_id: handoff_id.to_string(),
        };
        match self.put_new_json(&key, &mine).await {
            Ok(()) => Ok(mine.handoff_id),
            Err(StoreError::Conflict { .. }) => Ok(self
                .get_json::<HandoffClaim>(&key)
                .await?
                .map(|c| c.handoff_id)
                .unwrap_or(mine.handoff_id)),
            Err(e) => Err(e),
        }
    }

    /// Point a Message-ID at another session (a follow-up that continues in a new session).
    pub async fn repoint_message_id(
        &self,
        message_id: &str,
        entry: &IdEntry,
    ) -> Result<(), StoreError> {
        update_json(
            &self.store,
            &id_key(message_id),
            UPDATE_ATTEMPTS,
            |cur: Option<IdEntry>| {
                if cur.as_ref() == Some(entry) {
                    Update::Keep(())
                } else {
                    Update::Write(entry.clone(), ())
                }
            },
        )
        .await
    }

    /// The open-session hint for a customer and thread subject.
    pub async fn find_subject(
        &self,
        customer: &str,
        subject_key: &str,
    ) -> Result<Option<SubjectEntry>, StoreError> {
        self.get_json(&subject_index_key(customer, subject_key))
            .await
    }

    /// Point the customer + subject hint at `session_id` (replacing a hint to an older session).
    pub async fn set_subject(
        &self,
        customer: &str,
        subject_key: &str,
        session_id: &str,
    ) -> Result<(), StoreError> {
        let entry = SubjectEntry {
            session_id: session_id.to_string(),
        };
        update_json(
            &self.store,
            &subject_index_key(customer, subject_key),
            UPDATE_ATTEMPTS,
            |cur: Option<SubjectEntry>| {
                if cur.as_ref() == Some(&entry) {
                    Update::Keep(())
                } else {
                    Update::Write(entry.clone(), ())
                }
            },
        )
        .await
    }

    /// Store an object once; an existing object under the key is left as it is (same content
    /// by construction: keys are derived from content identity).
    pub async fn put_once(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        match self.store.put_new(key, bytes, content_type).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Store a JSON document once (see [`Sessions::put_once`]).
    pub async fn put_once_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.put_once(key, to_json(key, value)?, "application/json")
            .await
    }

    /// Read a JSON document.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.store.get(key).await? {
            None => Ok(None),
            Some(obj) => serde_json::from_slice(&obj.bytes).map(Some).map_err(|e| {
                StoreError::Backend(format!("{key}: stored JSON unreadable: {e}").into())
            }),
        }
    }

    async fn put_new_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.store
            .put_new(key, to_json(key, value)?, "application/json")
            .await
            .map(|_| ())
    }
}

fn to_json<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| StoreError::Backend(format!("{key}: cannot encode JSON: {e}").into()))
}

/// Index key of a Message-ID (ids are compared exactly, as RFC 5322 says).
pub fn id_key(message_id: &str) -> String {
    format!("index/message-id/{}.json", digest(message_id))
}

/// Index key of a customer + thread subject.
pub fn subject_index_key(customer: &str, subject_key: &str) -> String {
    format!(
        "index/subject/{}.json",
        digest(&format!("{customer}\n{subject_key}"))
    )
}

/// Key of a stored message.
pub fn message_key(session_id: &str, key: &str) -> String {
    format!(
        "sessions/{}/messages/{}.json",
        safe_key_segment(session_id),
        safe_key_segment(key)
    )
}

/// Key of the record of what happened to attachment `index` (0-based) of message `key`.
pub fn upload_key(session_id: &str, key: &str, index: usize) -> String {
    format!(
        "sessions/{}/uploads/{}-{}.json",
        safe_key_segment(session_id),
        safe_key_segment(key),
        index + 1
    )
}

/// Key of an attachment's bytes.
pub fn attachment_key(session_id: &str, key: &str, index: usize, filename: &str) -> String {
    format!(
        "sessions/{}/attachments/{}/{}-{}",
        safe_key_segment(session_id),
        safe_key_segment(key),
        index + 1,
        safe_key_segment(filename)
    )
}
