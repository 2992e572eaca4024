//! The soak and fault run at a size that fits `cargo test` (150 messages in 30 threads, 30
//! handoffs); the full size is the `soak` example: `cargo run --profile bench -p it --example soak`.

mod soak;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_short_ingest_and_handoff_under_faults() {
    let plan = soak::Plan::short();
    let report = soak::run(&plan).await;
    for line in report.lines(&plan) {
        println!("{line}");
    }
}
