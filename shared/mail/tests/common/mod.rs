//! What the fixture tests share: listing a fixture folder, and writing a mismatch for diffing.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

/// The files `tests/fixtures/SUBDIR/*.EXT`, sorted.
pub fn fixtures(subdir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(subdir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Writes `actual` next to `fixture` as `NAME.actual` (git-ignored) and returns the fixture's
/// file name, for the list of mismatches.
pub fn mismatch(fixture: &Path, actual: &str) -> String {
    std::fs::write(fixture.with_extension("actual"), actual).expect("write actual");
    fixture
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The reply fixtures among `files` whose reply text (of the body `body` reads) differs from
/// the reviewed text `expected` reads, each written out with [`mismatch`].
pub fn reply_mismatches(
    files: &[PathBuf],
    body: impl Fn(&Path) -> String,
    expected: impl Fn(&Path) -> String,
) -> Vec<String> {
    let mut failures = Vec::new();
    for txt in files {
        let actual = mail::strip::reply_text(&body(txt));
        if actual.trim_end() != expected(&txt.with_extension("expected")).trim_end() {
            failures.push(mismatch(txt, &actual));
        }
    }
    failures
}

/// No mismatches.
#[track_caller]
pub fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "mismatches (see *.actual): {failures:?}"
    );
}
