//! The ingest function's SES event decoding on arbitrary bytes: `SesEvent` from the bytes (as
//! `serde_json::from_slice`) and from a `serde_json::Value` (what the Lambda runtime hands the
//! handler), then for each record the id-safety check, the raw key the handler would read, the
//! `rejected/` key it would write, and the receive time it would use. Never panics; a safe id
//! gives keys the directory store accepts (no empty, `.`, `..` or `.mc-` segment, no `\`,
//! NUL or `/` inside the id) and S3 accepts (ASCII, at most 1024 bytes).
//!
//! The decoder types and the time parser are the real source files of `functions/ingest` and
//! `shared/app`, included by path: depending on those crates would build the AWS SDK with
//! coverage instrumentation (tens of minutes on a small machine) for two small pure files.
#![no_main]

#[allow(dead_code, clippy::all)]
#[path = "../../functions/ingest/src/event.rs"]
mod event;
#[allow(dead_code, clippy::all)]
#[path = "../../shared/app/src/time.rs"]
mod time;

use event::{SesEvent, SesRecord};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The ingest function's default `RAW_PREFIX`.
const RAW_PREFIX: &str = "raw/";

fuzz_target!(|data: &[u8]| {
    let direct = serde_json::from_slice::<SesEvent>(data);
    let via_value = serde_json::from_slice::<Value>(data).map(|v| {
        // The handler names a rejected event after the digest of its JSON text.
        let _ = store::ids::sha256_hex(&v.to_string());
        serde_json::from_value::<SesEvent>(v)
    });
    if let Ok(e) = &direct {
        e.records.iter().for_each(check_record);
    }
    if let Ok(Ok(e)) = &via_value {
        e.records.iter().for_each(check_record);
        if let Ok(d) = &direct {
            let ids = |e: &SesEvent| -> Vec<String> {
                e.records
                    .iter()
                    .map(|r| r.ses.mail.message_id.clone())
                    .collect()
            };
            assert_eq!(ids(d), ids(e), "both decodings agree");
        }
    }
});

fn check_record(record: &SesRecord) {
    let mail = &record.ses.mail;
    let id = &mail.message_id;
    if mail.id_is_safe() {
        let raw_key = format!("{RAW_PREFIX}{id}");
        check_key(&raw_key);
        assert_eq!(
            raw_key.split('/').count(),
            2,
            "one segment under raw/: {raw_key:?}"
        );
        // Raw object missing: rejected under the id itself.
        check_key(&format!("rejected/{id}.json"));
    } else {
        check_key(&format!("rejected/{}.json", store::ids::sha256_hex(id)));
    }
    let receipt = record.ses.receipt.as_ref();
    for ts in [
        receipt.and_then(|r| r.timestamp.as_deref()),
        mail.timestamp.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(secs) = time::parse_rfc3339(ts) {
            let _ = mail::rfc3339_utc(secs);
        }
    }
    let _ = receipt
        .and_then(|r| r.spam_verdict.as_ref())
        .map(|v| v.status.len());
    let _ = receipt
        .and_then(|r| r.virus_verdict.as_ref())
        .map(|v| v.status.len());
}

/// The directory store's key rule (`store::check_key`) plus S3's limits.
fn check_key(key: &str) {
    assert!(
        store::check_key(key).is_ok(),
        "a safe id gives a key the directory store refuses: {key:?}"
    );
    assert!(
        key.is_ascii() && key.len() <= 1024,
        "not an S3 key: {key:?}"
    );
}
