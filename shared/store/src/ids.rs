//! The ids keys are made of, as types that can only hold a well-formed id: a [`SessionId`] is
//! `mc-` + 16 lowercase hex digits, a [`MessageKey`] is 32 lowercase hex digits. Both are
//! built by their constructors (which derive them) or by [`str::parse`] (which refuses
//! anything else), and serialize as the plain string, so stored JSON does not change.
//!
//! Also here: [`sha256_hex`], the digest every derived id and index key is cut from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of `s` (64 lowercase hex digits): turns header values and other text into
/// fixed, safe key segments and derived ids.
pub fn sha256_hex(s: &str) -> String {
    sha256_hex_bytes(s.as_bytes())
}

/// Hex SHA-256 of bytes (an attachment's content digest).
pub fn sha256_hex_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a {what}")]
pub struct IdError {
    /// The string that was refused.
    pub given: String,
    /// What was expected, in words.
    pub what: &'static str,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A session's id: `mc-` + 16 lowercase hex digits (the token `[mc-…]` in our mail's subjects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// What a session id looks like, for error messages.
    pub const SHAPE: &'static str = "session id (mc- and 16 lowercase hex digits)";

    /// The session id derived from `seed` (the same seed always gives the same id): `mc-` and
    /// the first 16 hex digits of its SHA-256.
    pub fn derive(seed: &str) -> SessionId {
        SessionId(format!("mc-{}", &sha256_hex(seed)[..16]))
    }

    /// Parse a session id; anything but `mc-` + 16 lowercase hex digits is refused.
    pub fn parse(s: &str) -> Result<SessionId, IdError> {
        match s.strip_prefix("mc-") {
            Some(hex) if is_lower_hex(hex, 16) => Ok(SessionId(s.to_string())),
            _ => Err(IdError {
                given: s.to_string(),
                what: Self::SHAPE,
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message's key within its session: 32 lowercase hex digits derived from what identifies
/// the message, so a second copy of the same mail gets the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageKey(String);

impl MessageKey {
    /// What a message key looks like, for error messages.
    pub const SHAPE: &'static str = "message key (32 lowercase hex digits)";

    /// The key of a message by its Message-ID: the key of a stored message that has one, and
    /// the key an id only referenced so far (inbound, outbound or a parent not yet seen) will
    /// have once its message arrives.
    pub fn of_message_id(message_id: &str) -> MessageKey {
        MessageKey(sha256_hex(&format!("mid:{message_id}"))[..32].to_string())
    }

    /// The key of a message without a Message-ID: by its SES receipt id, so a redelivery of
    /// the same receipt is recognised (a second copy through another receipt is not).
    pub fn of_ses_receipt(ses_message_id: &str) -> MessageKey {
        MessageKey(sha256_hex(&format!("ses:{ses_message_id}"))[..32].to_string())
    }

    /// The key of an inbound message: [`MessageKey::of_message_id`] when it has a Message-ID,
    /// else [`MessageKey::of_ses_receipt`].
    pub fn of_inbound(message_id: Option<&str>, ses_message_id: &str) -> MessageKey {
        match message_id {
            Some(id) => Self::of_message_id(id),
            None => Self::of_ses_receipt(ses_message_id),
        }
    }

    /// Parse a message key; anything but 32 lowercase hex digits is refused.
    pub fn parse(s: &str) -> Result<MessageKey, IdError> {
        if is_lower_hex(s, 32) {
            Ok(MessageKey(s.to_string()))
        } else {
            Err(IdError {
                given: s.to_string(),
                what: Self::SHAPE,
            })
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_id {
    ($t:ty) => {
        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                <$t>::parse(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                <$t>::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

string_id!(SessionId);
string_id!(MessageKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_parse_only_their_shape() {
        let id = SessionId::derive("root");
        assert_eq!(id.as_str().len(), 19);
        assert_eq!(SessionId::parse(id.as_str()), Ok(id.clone()));
        for bad in [
            "",
            "mc-",
            "mc-0123456789abcde",
            "mc-0123456789abcdef0",
            "mc-0123456789ABCDEF",
            "MC-0123456789abcdef",
            "mc-0123456789abcdeg",
            "x mc-0123456789abcdef",
            "mc-older",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
        assert!("mc-0123456789abcdef".parse::<SessionId>().is_ok());
    }

    #[test]
    fn message_keys_say_what_they_are_derived_from() {
        let by_id = MessageKey::of_message_id("a@b");
        let by_ses = MessageKey::of_ses_receipt("a@b");
        assert_ne!(by_id, by_ses);
        assert_eq!(MessageKey::of_inbound(Some("a@b"), "x"), by_id);
        assert_eq!(MessageKey::of_inbound(None, "a@b"), by_ses);
        assert_eq!(by_id.as_str(), &sha256_hex("mid:a@b")[..32]);
        assert_eq!(MessageKey::parse(by_id.as_str()), Ok(by_id));
        assert!(MessageKey::parse("k").is_err());
        assert!(MessageKey::parse(&"A".repeat(32)).is_err());
    }

    #[test]
    fn serde_is_the_plain_string() {
        let id = SessionId::derive("x");
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SessionId>(&json).ok(), Some(id));
        assert!(serde_json::from_str::<SessionId>("\"mc-1\"").is_err());
    }
}
