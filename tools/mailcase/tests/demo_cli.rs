//! `mailcase demo`, the README's first command, run as a user runs it: in an empty directory,
//! with no AWS and no Dynamics.

use std::process::Command;

#[test]
fn demo_prints_a_complete_case_and_can_run_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    for run in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_mailcase"))
            .arg("demo")
            .current_dir(dir.path())
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "run {run}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for expected in [
            "not filed: auto_reply",
            "Title          Shipping damage - Ana Lima",
            "Queue          Support Queue",
            "Owner          Support Team",
            "Priority       1 (High)",
            "Contact        Ana Lima <ana.lima@northwind.example>",
            "--- Transcript (3 messages) ---",
            "Attachments: damaged-box.jpg",
            "(support):",
            "could you please escalate this?",
        ] {
            assert!(
                stdout.contains(expected),
                "run {run}: missing {expected:?} in\n{stdout}"
            );
        }
        assert!(stdout.contains("Ticket number  CAS-"), "{stdout}");
        // Quoted history and the mobile signature are not in the transcript; the auto-reply is
        // not either.
        assert!(!stdout.contains("> I am sorry"), "{stdout}");
        assert!(!stdout.contains("Sent from my iPhone"), "{stdout}");
        assert!(!stdout.contains("out of the office"), "{stdout}");
        // The answer and the acknowledgement went to the local outbox.
        let outbox = std::fs::read_dir(dir.path().join(".mailcase-demo/outbox"))
            .expect("outbox")
            .count();
        assert_eq!(outbox, 2, "run {run}");
    }
}

#[test]
fn demo_refuses_to_clear_a_directory_that_is_not_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("precious.txt"), "keep me").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_mailcase"))
        .args(["demo", "--store"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a demo directory"));
    assert!(dir.path().join("precious.txt").exists());
}
