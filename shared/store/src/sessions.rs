//! Sessions on top of an [`ObjectStore`]: the create-once / compare-and-swap
//! protocol that makes ingest safe under retries and concurrency.
//!
//! Which key holds what is [`crate::layout`].

use crate::layout;
use crate::session::Session;
use crate::{ObjectStore, StoreError, Update, update_json};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

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

/// What a subject index entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectEntry {
    /// The newest session with this customer and thread subject.
    pub session_id: String,
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

    /// Load a session.
    pub async fn load(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        self.get_json(&layout::session(session_id)).await
    }

    /// All sessions, newest activity first, redirects included ([`Sessions::list_live`] leaves
    /// them out).
    pub async fn list(&self) -> Result<Vec<Session>, StoreError> {
        let keys = self.store.list(layout::SESSIONS_PREFIX).await?;
        let mut out = Vec::new();
        for key in keys
            .iter()
            .filter(|k| k.ends_with(layout::SESSION_DOC_SUFFIX))
        {
            if let Some(s) = self.get_json::<Session>(key).await? {
                out.push(s);
            }
        }
        out.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// [`Sessions::list`] without the redirects (sessions merged into another).
    pub async fn list_live(&self) -> Result<Vec<Session>, StoreError> {
        let mut all = self.list().await?;
        all.retain(|s| s.merged_into.is_none());
        Ok(all)
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
            &layout::session(session_id),
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
        let key = layout::session(session_id);
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
            &layout::session(session_id),
            UPDATE_ATTEMPTS,
            seed,
            f,
        )
        .await
    }

    /// Look up a Message-ID.
    pub async fn find_message_id(&self, message_id: &str) -> Result<Option<IdEntry>, StoreError> {
        self.get_json(&layout::message_id_index(message_id)).await
    }

    /// Record `message_id` -> `entry` unless the id is already recorded; returns the entry that
    /// is in force afterwards (the existing one on a conflict).
    pub async fn claim_message_id(
        &self,
        message_id: &str,
        entry: &IdEntry,
    ) -> Result<IdEntry, StoreError> {
        let key = layout::message_id_index(message_id);
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
        let key = layout::handoff_claim(session_id);
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
            &layout::message_id_index(message_id),
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
        self.get_json(&layout::subject_index(customer, subject_key))
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
            &layout::subject_index(customer, subject_key),
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
