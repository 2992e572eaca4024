//! Ports the use cases talk through, object-safe so the edges can pass `&dyn` adapters: the
//! handoff queue (SQS when deployed, a store folder locally), the event bus (EventBridge) and
//! sentiment detection (Comprehend). Adapters live in `shared/adapters` and here (local ones).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::ObjectStore;
use store::sessions::Sessions;

/// A boxed future, so the port traits stay usable as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A failed call of a port: what happened, and whether a retry can help.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    /// What the service said.
    pub message: String,
    /// Worth retrying later.
    pub retryable: bool,
}

/// The handoff queue: requests for the handoff function, optionally delayed (SQS: up to 900 s).
pub trait HandoffQueue: Send + Sync {
    /// Queue one request body, delivered after `delay_seconds` (at most 900).
    fn send<'a>(
        &'a self,
        body: &'a str,
        delay_seconds: u32,
    ) -> BoxFuture<'a, Result<(), PortError>>;
}

/// One event for agents and integrations (EventBridge source `mailcase`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `Session Created`, `Message Filed`, `Mail Not Filed`, `Case Created`,
    /// `Follow-up Delivered`, `Handoff Failed`.
    pub detail_type: String,
    /// The detail; always carries `event_id`, stable across retries, to dedupe on.
    pub detail: Value,
}

/// The event bus.
pub trait EventSink: Send + Sync {
    /// Publish the events (at most 10 per call is the caller's concern of the adapter).
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), PortError>>;
}

/// Sentiment of a customer's text (`positive`, `negative`, `neutral`, `mixed`), or `None` when
/// the language is not supported.
pub trait SentimentDetector: Send + Sync {
    /// Detect it.
    fn detect<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<Option<String>, PortError>>;
}

/// No event bus configured: events are only logged at debug.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            for e in events {
                tracing::debug!(detail_type = %e.detail_type, event_id = %e.detail["event_id"], "event (no EVENT_BUS)");
            }
            Ok(())
        })
    }
}

/// Publish after the write the events describe; a failure is logged, never returned: the mail
/// and the case are already safe, and consumers dedupe on `event_id` when a retry republishes.
pub async fn announce(sink: &dyn EventSink, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    for chunk in events.chunks(10) {
        if let Err(e) = sink.publish(chunk).await {
            let types: Vec<&str> = chunk.iter().map(|e| e.detail_type.as_str()).collect();
            tracing::error!(error = %e, events = ?types, "events not published (EVENT_BUS); the mail and the case are not affected");
        }
    }
}

use store::layout::QUEUE_PREFIX;

/// A handoff queue kept in the store itself, for local runs without SQS: one object per
/// request under `queue/<due epoch>-<digest>.json`; `mailcase work` drains it.
#[derive(Debug, Clone)]
pub struct StoreQueue<O> {
    sessions: Sessions<O>,
    now: fn() -> i64,
}

/// One request waiting in a [`StoreQueue`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    /// Not before (seconds since the epoch).
    pub due_at: i64,
    /// The request body.
    pub body: String,
}

impl<O: ObjectStore> StoreQueue<O> {
    /// The queue in `sessions`' store; `now` reads the clock (the edges pass the system clock).
    pub fn new(sessions: Sessions<O>, now: fn() -> i64) -> Self {
        StoreQueue { sessions, now }
    }

    /// Requests due by `now` (all of them with `include_delayed`), oldest first, with their keys.
    pub async fn due(
        &self,
        now: i64,
        include_delayed: bool,
    ) -> Result<Vec<(String, Queued)>, store::StoreError> {
        let mut keys = self.sessions.objects().list(QUEUE_PREFIX).await?;
        keys.sort();
        let mut out = Vec::new();
        for k in keys {
            if let Some(q) = self.sessions.get_json::<Queued>(&k).await?
                && (include_delayed || q.due_at <= now)
            {
                out.push((k, q));
            }
        }
        Ok(out)
    }

    /// Remove a processed request.
    pub async fn remove(&self, key: &str) -> Result<(), store::StoreError> {
        self.sessions.objects().delete(key).await
    }
}

impl<O: ObjectStore> HandoffQueue for StoreQueue<O> {
    fn send<'a>(
        &'a self,
        body: &'a str,
        delay_seconds: u32,
    ) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            let due_at = (self.now)() + i64::from(delay_seconds.min(900));
            let key = store::layout::queued(due_at, body);
            let q = Queued {
                due_at,
                body: body.to_string(),
            };
            match self.sessions.put_once_json(&key, &q).await {
                Ok(()) => Ok(()),
                Err(e) => Err(PortError {
                    message: format!("local queue: {e}"),
                    retryable: true,
                }),
            }
        })
    }
}
