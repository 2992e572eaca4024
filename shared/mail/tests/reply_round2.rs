//! Round-two reply fixtures (`tests/fixtures/reply-r2`, issue 16): each body's reply text
//! equals its reviewed `.expected` file. On a mismatch `NAME.actual` is written for diffing.

use std::path::PathBuf;

#[test]
fn round_two_reply_fixtures_match_expected() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reply-r2");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} fixtures", files.len());
    let mut failures = Vec::new();
    for txt in &files {
        let body = std::fs::read_to_string(txt).expect("read");
        let actual = mail::strip::reply_text(&body);
        let expected = std::fs::read_to_string(txt.with_extension("expected")).expect("expected");
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
    assert!(
        failures.is_empty(),
        "mismatches (see *.actual): {failures:?}"
    );
}
