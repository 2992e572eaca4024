//! Pure e-mail understanding for mailcase: raw RFC 5322 bytes in, an [`InboundMessage`] out.
//!
//! What it does: decodes MIME (RFC 2045-2049), encoded words (RFC 2047) and parameters
//! (RFC 2231) through `mail-parser`; picks the text body (text/plain preferred, HTML converted);
//! strips quoted history and signatures so only what the sender newly wrote remains
//! ([`strip`]); normalises thread subjects ([`subject`]); finds who the case is for when the mail
//! was forwarded ([`forward`]); classifies auto-replies, bounces and forwarding confirmations
//! ([`classify`]).
//!
//! What it never does: I/O, async, reading the clock, or panicking. Broken input degrades to a
//! best-effort message; only input with nothing usable at all yields an empty message.
//!
//! ```
//! let raw = b"From: Ana <ana@example.com>\r\nSubject: Re: Invoice\r\n\r\nThanks!\r\n\r\nOn Mon, 1 Jan 2024, Bob wrote:\r\n> old\r\n";
//! let msg = mail::parse(raw, &mail::ParseOptions::default());
//! assert_eq!(msg.reply_text, "Thanks!");
//! assert_eq!(msg.thread_subject, "Invoice");
//! assert_eq!(msg.customer.unwrap().address, "ana@example.com");
//! ```
#![warn(missing_docs)]

mod address;
mod body;
pub mod cid;
pub mod classify;
pub mod compose;
pub mod forward;
mod headers;
mod model;
mod parse;
mod parts;
mod repair;
pub mod strip;
pub mod subject;
pub mod tnef;

pub use headers::{normalise_address, rfc822_date, rfc3339_utc};
pub use model::{
    Attachment, Disposition, ForwardingConfirmation, InboundMessage, Mailbox, ParseOptions,
};
pub use parse::parse;
