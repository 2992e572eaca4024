//! What the ingest handler's tests share: its dependencies on a store, an invocation, and
//! what it recorded as rejected.

use std::time::Duration;

use app::ingest::Config;
use ingest::handler::Deps;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use store::ObjectStore;
use store::layout::REJECTED_PREFIX;
use store::sessions::Sessions;

/// The handler's dependencies on `objects`: raw mail under `raw/`, one quick retry of a
/// missing raw object, no queue, no events, the default configuration.
pub fn deps<O: ObjectStore>(objects: O) -> Deps<O> {
    Deps {
        sessions: Sessions::new(objects),
        raw_prefix: "raw/".into(),
        config: Config::default(),
        raw_retry: vec![Duration::from_millis(1)],
        queue: None,
        events: Box::new(app::ports::NoEvents),
        refused: None,
    }
}

/// An invocation with `payload`.
pub fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// The keys of what the handler recorded under `rejected/` in `deps`'s store.
pub async fn rejected<O: ObjectStore>(deps: &Deps<O>) -> Vec<String> {
    deps.sessions
        .objects()
        .list(REJECTED_PREFIX)
        .await
        .expect("list")
}
