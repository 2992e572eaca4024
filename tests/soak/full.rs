//! The full soak and fault run: 1,000 messages in 200 threads ingested 32 at a time with 10% of
//! SES events redelivered, then 200 handoffs (each invoked twice) with 20% of Dynamics requests
//! faulty; prints throughput and request figures, panics on a failed check.
//!
//! `cargo run --profile bench -p it --example soak [-- --messages N --threads N --senders N
//! --concurrency N --faults F --seed N --short]`

mod soak;

fn main() {
    let mut plan = soak::Plan::full();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .unwrap_or_else(|| panic!("{} needs a value", args[i]))
                .clone()
        };
        let num =
            |v: String| -> usize { v.parse().unwrap_or_else(|_| panic!("not a number: {v}")) };
        match args[i].as_str() {
            "--short" => {
                plan = soak::Plan::short();
                i += 1;
                continue;
            }
            "--messages" => plan.messages = num(value()),
            "--threads" => plan.threads = num(value()),
            "--senders" => plan.senders = num(value()),
            "--concurrency" => plan.ingest_concurrency = num(value()),
            "--handoff-concurrency" => plan.handoff_concurrency = num(value()),
            "--faults" => plan.fault_fraction = value().parse().expect("a fraction"),
            "--duplicates" => plan.duplicate_fraction = value().parse().expect("a fraction"),
            "--seed" => plan.seed = num(value()) as u64,
            other => panic!("unknown flag {other}"),
        }
        i += 2;
    }
    plan.senders = plan.senders.min(plan.threads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = runtime.block_on(soak::run(&plan));
    for line in report.lines(&plan) {
        println!("{line}");
    }
}
