//! Inputs found by `fuzz/` (target `ses_event`), replayed through the real handler on a
//! directory store: every one must be acknowledged (decoded or recorded under `rejected/`),
//! never turned into a retryable error that Lambda would retry forever, and nothing may be
//! written outside the store's root.

mod common;

use std::path::{Path, PathBuf};

use ingest::event::SesEvent;
use ingest::handler::handle;
use serde_json::Value;
use store::DirObjectStore;

fn inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fuzz-regressions dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read input");
            (p, bytes)
        })
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mc-ingest-fuzz-{}-{name}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[tokio::test]
async fn fuzz_found_events_are_acknowledged_on_a_directory_store() {
    for (path, bytes) in inputs() {
        let outer = scratch("outer");
        let root = outer.join("store");
        let deps = common::deps(DirObjectStore::new(&root));
        if let Ok(decoded) = serde_json::from_slice::<SesEvent>(&bytes) {
            for r in &decoded.records {
                let id = &r.ses.mail.message_id;
                assert!(
                    !(r.ses.mail.id_is_safe() && id.starts_with('.')),
                    "{path:?}: {id:?} passes as safe"
                );
            }
        }
        let payload: Value = serde_json::from_slice(&bytes).expect("the inputs are JSON");
        let out = handle(&deps, common::event(payload))
            .await
            .unwrap_or_else(|e| panic!("{path:?}: not acknowledged: {e:?}"));
        assert!(out.to_string().contains("rejected"), "{path:?}: {out}");
        let rejected = common::rejected(&deps).await;
        assert_eq!(rejected.len(), 1, "{path:?}");
        let outside: Vec<_> = std::fs::read_dir(&outer)
            .expect("outer")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(outside, vec![std::ffi::OsString::from("store")], "{path:?}");
        std::fs::remove_dir_all(&outer).ok();
    }
}
