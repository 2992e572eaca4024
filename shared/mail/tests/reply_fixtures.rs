//! The reply-parsing fixtures (`tests/fixtures/reply`): each body's reply text equals its
//! reviewed `.expected` file. On a mismatch `NAME.actual` is written for diffing.

mod common;

#[test]
fn reply_fixtures_match_expected() {
    let files = common::fixtures("reply", "txt");
    assert_eq!(files.len(), 47);
    let failures = common::reply_mismatches(
        &files,
        |txt| String::from_utf8_lossy(&std::fs::read(txt).expect("read")).into_owned(),
        |expected| std::fs::read_to_string(expected).unwrap_or_default(),
    );
    println!(
        "{} of {} reply fixtures match",
        files.len() - failures.len(),
        files.len()
    );
    common::assert_none(&failures);
}
