//! What the ingest handler's tests share: its dependencies on a store, and an invocation.

use std::time::Duration;

use app::ingest::Config;
use ingest::handler::Deps;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use store::ObjectStore;
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
