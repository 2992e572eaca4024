//! Round-two reply fixtures (`tests/fixtures/reply-r2`, issue 16): each body's reply text
//! equals its reviewed `.expected` file. On a mismatch `NAME.actual` is written for diffing.

mod common;

#[test]
fn round_two_reply_fixtures_match_expected() {
    let files = common::fixtures("reply-r2", "txt");
    assert!(files.len() >= 20, "only {} fixtures", files.len());
    let failures = common::reply_mismatches(
        &files,
        |txt| std::fs::read_to_string(txt).expect("read"),
        |expected| std::fs::read_to_string(expected).expect("expected"),
    );
    common::assert_none(&failures);
}
