//! The session token `[mc-…]` our outbound mail carries in its subject and body: written by
//! [`crate::reply`], found again by [`crate::ingest`] when the customer answers. A leaf module
//! (both use it, it uses neither).

use std::sync::LazyLock;

use regex::Regex;
use store::SessionId;

#[allow(clippy::expect_used)] // literal pattern
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(mc-[0-9a-f]{16})\]").expect("literal regex"));

/// The session token our outbound mail carries in its subject and body.
pub fn session_token(session_id: &str) -> String {
    format!("[{session_id}]")
}

/// The session id of the first session token in `text`, if any.
pub fn find_session_token(text: &str) -> Option<SessionId> {
    TOKEN
        .captures(text)
        .and_then(|c| c.get(1))
        .and_then(|m| SessionId::parse(m.as_str()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let id = SessionId::derive("x");
        let text = format!("Re: help {}", session_token(id.as_str()));
        assert_eq!(find_session_token(&text), Some(id));
        assert_eq!(find_session_token("[mc-0123]"), None);
        assert_eq!(find_session_token("mc-0123456789abcdef"), None);
    }
}
