//! `mailcase demo`, the README's first command, run as a user runs it: in an empty directory,
//! with no AWS and no Dynamics.

use crate::runner::mailcase_in;

#[test]
fn demo_prints_a_complete_case_and_can_run_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    for run in 0..2 {
        let out = mailcase_in(dir.path(), &["demo"]);
        let stdout = &out.stdout;
        assert!(out.ok(), "run {run}: {stdout}\n{}", out.stderr());
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
    let out = mailcase_in(
        dir.path(),
        &["demo", "--store", dir.path().to_str().unwrap()],
    );
    assert!(!out.ok());
    assert!(out.stderr().contains("not a demo directory"));
    assert!(dir.path().join("precious.txt").exists());
}
