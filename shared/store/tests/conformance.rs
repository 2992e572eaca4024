//! One behaviour suite for every adapter: memory, local directory, and S3 through the real SDK
//! client against a moto server.

use std::sync::Arc;

use store::{
    DirObjectStore, MemoryObjectStore, ObjectStore, S3ObjectStore, StoreError, Update, update_json,
};
use testkit::MotoServer;

async fn create_once_and_compare_and_swap<S: ObjectStore>(s: &S) {
    let e1 = s
        .put_new("a/one.json", b"1".to_vec(), "application/json")
        .await
        .expect("create");
    assert!(matches!(
        s.put_new("a/one.json", b"2".to_vec(), "application/json")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let got = s.get("a/one.json").await.expect("get").expect("present");
    assert_eq!(got.bytes, b"1");
    assert_eq!(got.etag, e1);
    let e2 = s
        .put_if_match("a/one.json", b"2".to_vec(), "application/json", &e1)
        .await
        .expect("cas");
    assert!(
        matches!(
            s.put_if_match("a/one.json", b"3".to_vec(), "application/json", &e1)
                .await,
            Err(StoreError::Conflict { .. })
        ),
        "stale etag must conflict"
    );
    assert_eq!(
        s.get("a/one.json")
            .await
            .expect("get")
            .expect("present")
            .etag,
        e2
    );
    assert!(
        matches!(
            s.put_if_match("a/missing.json", b"3".to_vec(), "application/json", &e2)
                .await,
            Err(StoreError::Conflict { .. })
        ),
        "if-match on a missing object"
    );
    assert!(s.get("a/missing.json").await.expect("get").is_none());
    s.delete("a/one.json").await.expect("delete");
    s.delete("a/one.json").await.expect("delete twice");
    assert!(s.get("a/one.json").await.expect("get").is_none());
}

async fn concurrent_updates_lose_nothing<S: ObjectStore + 'static>(s: Arc<S>) {
    let mut tasks = Vec::new();
    for i in 0..20u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            update_json(&*s, "c/list.json", 60, |cur: Option<Vec<u32>>| {
                let mut v = cur.unwrap_or_default();
                if v.contains(&i) {
                    Update::Keep(())
                } else {
                    v.push(i);
                    Update::Write(v, ())
                }
            })
            .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("update");
    }
    let obj = s.get("c/list.json").await.expect("get").expect("present");
    let mut v: Vec<u32> = serde_json::from_slice(&obj.bytes).expect("json");
    v.sort();
    assert_eq!(v, (0..20).collect::<Vec<_>>());
}

async fn list_and_big_objects<S: ObjectStore>(s: &S, many: usize) {
    for i in 0..many {
        s.put_new(&format!("l/{i:05}"), vec![b'x'], "text/plain")
            .await
            .expect("put");
    }
    s.put_new("m/other", vec![], "text/plain")
        .await
        .expect("put");
    let keys = s.list("l/").await.expect("list");
    assert_eq!(keys.len(), many);
    assert_eq!(keys[0], "l/00000");
    let big: Vec<u8> = (0..30 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    s.put_new("big/blob", big.clone(), "application/octet-stream")
        .await
        .expect("big put");
    assert_eq!(
        s.get("big/blob")
            .await
            .expect("get")
            .expect("present")
            .bytes,
        big
    );
}

#[tokio::test]
async fn memory_adapter() {
    let s = MemoryObjectStore::default();
    create_once_and_compare_and_swap(&s).await;
    concurrent_updates_lose_nothing(Arc::new(s.clone())).await;
    list_and_big_objects(&s, 50).await;
}

#[tokio::test]
async fn directory_adapter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = DirObjectStore::new(dir.path());
    create_once_and_compare_and_swap(&s).await;
    concurrent_updates_lose_nothing(Arc::new(s.clone())).await;
    list_and_big_objects(&s, 50).await;
    assert!(matches!(
        s.put_new("../escape", vec![], "x").await,
        Err(StoreError::InvalidKey { .. })
    ));
    assert!(matches!(
        s.get("/etc/passwd").await,
        Err(StoreError::InvalidKey { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_adapter_against_moto() {
    let moto = MotoServer::shared();
    let bucket = moto.bucket("conformance").await;
    let s = S3ObjectStore::new(moto.s3().await, &bucket, None);
    create_once_and_compare_and_swap(&s).await;
    concurrent_updates_lose_nothing(Arc::new(s.clone())).await;
    // More than one page of ListObjectsV2 (1000 keys per page).
    list_and_big_objects(&s, 1001).await;
    let prefixed = S3ObjectStore::new(moto.s3().await, &bucket, Some("tenant-a/"));
    prefixed
        .put_new("x.json", b"{}".to_vec(), "application/json")
        .await
        .expect("put");
    assert_eq!(
        prefixed.list("").await.expect("list"),
        vec!["x.json".to_string()]
    );
    assert!(s.get("tenant-a/x.json").await.expect("get").is_some());
}
