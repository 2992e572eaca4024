//! A decorator that counts requests, for benchmarks and request-budget tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Condition, Etag, Object, ObjectStore, StoreError};

/// Counts of each operation.
#[derive(Debug, Default)]
pub struct Counts {
    /// `get` calls.
    pub gets: AtomicU64,
    /// `put_new` and `put_if_match` calls.
    pub puts: AtomicU64,
    /// `list` calls.
    pub lists: AtomicU64,
    /// `delete` calls.
    pub deletes: AtomicU64,
    /// Each request in order (`GET key hit|miss`, `PUT-new key ok|taken`, ...), for finding
    /// which step spends a request.
    pub log: std::sync::Mutex<Vec<String>>,
}

impl Counts {
    /// All requests.
    pub fn total(&self) -> u64 {
        [&self.gets, &self.puts, &self.lists, &self.deletes]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
    /// The requests logged since the last call.
    pub fn take_log(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
    fn note(&self, line: String) {
        if let Ok(mut l) = self.log.lock() {
            l.push(line);
        }
    }
    /// (gets, puts).
    pub fn gets_puts(&self) -> (u64, u64) {
        (
            self.gets.load(Ordering::Relaxed),
            self.puts.load(Ordering::Relaxed),
        )
    }
}

/// Wraps a store and counts what goes through it.
#[derive(Debug, Clone)]
pub struct CountingObjectStore<O> {
    inner: O,
    /// The counts (shared by clones).
    pub counts: Arc<Counts>,
}

impl<O> CountingObjectStore<O> {
    /// Count requests to `inner`.
    pub fn new(inner: O) -> Self {
        CountingObjectStore {
            inner,
            counts: Arc::new(Counts::default()),
        }
    }
}

/// How a conditional write ended, for the request log (`conflict`: what a failed condition
/// means for this kind of write).
fn put_outcome<'a>(put: &Result<Etag, StoreError>, conflict: &'a str) -> &'a str {
    match put {
        Ok(_) => "ok",
        Err(StoreError::Conflict { .. }) => conflict,
        Err(_) => "error",
    }
}

impl<O: ObjectStore> ObjectStore for CountingObjectStore<O> {
    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        self.counts.gets.fetch_add(1, Ordering::Relaxed);
        let got = self.inner.get(key).await;
        let what = match &got {
            Ok(Some(_)) => "hit",
            Ok(None) => "miss",
            Err(_) => "error",
        };
        self.counts.note(format!("GET {key} {what}"));
        got
    }
    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: Condition<'_>,
    ) -> Result<Etag, StoreError> {
        self.counts.puts.fetch_add(1, Ordering::Relaxed);
        let put = self.inner.put(key, bytes, content_type, condition).await;
        let (what, conflict) = match condition {
            Condition::Absent => ("PUT-new", "taken"),
            Condition::Matches(_) => ("PUT-if-match", "changed"),
        };
        self.counts
            .note(format!("{what} {key} {}", put_outcome(&put, conflict)));
        put
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.counts.lists.fetch_add(1, Ordering::Relaxed);
        self.counts.note(format!("LIST {prefix}"));
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.counts.deletes.fetch_add(1, Ordering::Relaxed);
        self.counts.note(format!("DELETE {key}"));
        self.inner.delete(key).await
    }
}
