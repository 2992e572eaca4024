//! The reply-parsing fixtures (`tests/fixtures/reply`): each body's reply text equals its
//! reviewed `.expected` file. On a mismatch `NAME.actual` is written for diffing.

use std::path::PathBuf;

#[test]
fn reply_fixtures_match_expected() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reply");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 47);
    let mut failures = Vec::new();
    for txt in &files {
        let body = String::from_utf8_lossy(&std::fs::read(txt).expect("read")).into_owned();
        let actual = mail::strip::reply_text(&body);
        let expected = std::fs::read_to_string(txt.with_extension("expected")).unwrap_or_default();
        if actual.trim_end() != expected.trim_end() {
            std::fs::write(txt.with_extension("actual"), &actual).expect("write actual");
            failures.push(
                txt.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    println!(
        "{} of {} reply fixtures match",
        files.len() - failures.len(),
        files.len()
    );
    assert!(
        failures.is_empty(),
        "mismatches (see *.actual): {failures:?}"
    );
}
