//! In-memory adapter for unit tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::{Condition, Etag, Object, ObjectStore, StoreError};

/// Objects in a shared map; clones share the same objects.
#[derive(Debug, Clone, Default)]
pub struct MemoryObjectStore {
    objects: Arc<Mutex<BTreeMap<String, Object>>>,
}

pub(crate) fn etag_of(bytes: &[u8]) -> Etag {
    Etag(format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16])))
}

impl MemoryObjectStore {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Object>) -> R) -> Result<R, StoreError> {
        let mut guard = self
            .objects
            .lock()
            .map_err(|_| StoreError::backend("memory store lock poisoned"))?;
        Ok(f(&mut guard))
    }
}

impl ObjectStore for MemoryObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        self.with(|m| m.get(key).cloned())
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
        condition: Condition<'_>,
    ) -> Result<Etag, StoreError> {
        self.with(|m| {
            let holds = match (condition, m.get(key)) {
                (Condition::Absent, current) => current.is_none(),
                (Condition::Matches(etag), Some(o)) => &o.etag == etag,
                (Condition::Matches(_), None) => false,
            };
            if !holds {
                return Err(StoreError::Conflict { key: key.into() });
            }
            let etag = etag_of(&bytes);
            m.insert(
                key.into(),
                Object {
                    bytes,
                    etag: etag.clone(),
                },
            );
            Ok(etag)
        })?
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.with(|m| {
            m.keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        })
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.with(|m| {
            m.remove(key);
        })
    }
}
