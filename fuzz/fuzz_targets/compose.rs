//! `mail::compose::compose` on arbitrary names, subjects, ids, extra headers and text. When it
//! composes:
//! - the message is ASCII with CRLF line ends only (no bare CR or LF anywhere);
//! - every header line is a continuation (starts with a space) or starts one of the headers
//!   compose writes (From, To, Subject, Date, Message-ID, In-Reply-To, References,
//!   Auto-Submitted, MIME-Version, Content-Type and the caller's `X-` names), each standard one
//!   at most once — i.e. nothing in a value starts a header of its own (no injection), and no
//!   header line is blank or whitespace-only (which would end the header block early);
//! - the body has exactly the two MIME parts compose writes: no line of the text can be read
//!   as the boundary (the boundary is derived from the Message-ID, so a sender can predict it;
//!   the input can splice it into the text);
//! - it parses back with exactly one To recipient (the one given), our From and Message-ID, no
//!   Cc or Reply-To, and no attachment.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mail::Mailbox;
use mail::compose::{Outgoing, compose};

const ADDRESSES: [&str; 4] = [
    "support@acme.com",
    "ana.lima@client.example",
    "o'brien+tag@sub.example.co.uk",
    "x@localhost",
];
const IDS: [&str; 3] = [
    "0f1e2d3c@acme.com",
    "CAF1=ana2@mail.gmail.com",
    "a.b-c$d@[x]",
];

#[derive(Debug, Arbitrary)]
enum Addr {
    Known(u8),
    Parts(String, String),
    Raw(String),
}

impl Addr {
    fn get(&self) -> String {
        match self {
            Addr::Known(n) => ADDRESSES[*n as usize % ADDRESSES.len()].into(),
            Addr::Parts(l, d) => format!("{l}@{d}"),
            Addr::Raw(s) => s.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Id {
    Known(u8),
    Raw(String),
}

impl Id {
    fn get(&self) -> String {
        match self {
            Id::Known(n) => IDS[*n as usize % IDS.len()].into(),
            Id::Raw(s) => s.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    from_name: Option<String>,
    from: Addr,
    to_name: Option<String>,
    to: Addr,
    subject: String,
    message_id: Id,
    in_reply_to: Option<Id>,
    references: Vec<Id>,
    date: i64,
    text: String,
    /// Where to splice the MIME boundary (as a line) into the text, if anywhere.
    splice_boundary: Option<u16>,
    auto_submitted: bool,
    extra_headers: Vec<(String, String)>,
}

fuzz_target!(|input: Input| {
    let mut out = Outgoing {
        from: Mailbox {
            name: input.from_name.clone(),
            address: input.from.get(),
        },
        to: Mailbox {
            name: input.to_name.clone(),
            address: input.to.get(),
        },
        subject: input.subject.clone(),
        message_id: input.message_id.get(),
        in_reply_to: input.in_reply_to.as_ref().map(Id::get),
        references: input.references.iter().map(Id::get).collect(),
        // Dates a mail can carry (year 0 to 9999); outside that the Date header is not a date.
        date: input.date.rem_euclid(253_402_300_800) - 62_167_219_200,
        text: input.text.clone(),
        auto_submitted: input.auto_submitted,
        extra_headers: input.extra_headers.clone(),
        cc: Vec::new(),
    };
    let Some(boundary) = compose(&out).ok().map(|raw| boundary_of(&raw)) else {
        return;
    };
    if let Some(at) = input.splice_boundary {
        let mut at = at as usize % (out.text.len() + 1);
        while !out.text.is_char_boundary(at) {
            at -= 1;
        }
        out.text.insert_str(at, &format!("\n--{boundary}\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=x.exe\n\nTVqQ\n--{boundary}--\n"));
    }
    let raw = compose(&out).expect("still composes with a different text");
    check(&out, &raw);
});

fn boundary_of(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    // The header compose writes (a `boundary="` in a subject or X- value comes earlier).
    let marker = "\r\nContent-Type: multipart/alternative; boundary=\"";
    let start = text.find(marker).expect("a boundary") + marker.len();
    let len = text[start..].find('"').expect("closing quote");
    text[start..start + len].to_string()
}

fn check(m: &Outgoing, raw: &[u8]) {
    assert!(raw.is_ascii(), "non-ASCII output");
    let text = std::str::from_utf8(raw).expect("ASCII");
    let without_crlf = text.replace("\r\n", "");
    assert!(
        !without_crlf.contains(['\r', '\n']),
        "bare CR or LF in {text:?}"
    );
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for line in head.split("\r\n") {
        assert!(!line.trim().is_empty(), "blank header line in {head:?}");
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        let name = line.split_once(':').map(|(n, _)| n).unwrap_or(line);
        let standard = [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Auto-Submitted",
            "MIME-Version",
            "Content-Type",
        ];
        let extra = m.extra_headers.iter().any(|(n, _)| n == name);
        assert!(
            standard.contains(&name) || extra,
            "injected header line {line:?} in {head:?}"
        );
        if !extra {
            *seen.entry(name.to_string()).or_default() += 1;
        }
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "a header repeated: {seen:?}"
    );

    let boundary = boundary_of(raw);
    let delimiters = body
        .split("\r\n")
        .filter(|l| l.starts_with(&format!("--{boundary}")))
        .count();
    assert_eq!(delimiters, 3, "the text forged a MIME boundary: {body:?}");

    let back = mail::parse(raw, &mail::ParseOptions::default());
    assert_eq!(back.to.len(), 1, "To recipients: {:?}", back.to);
    assert_eq!(back.to[0].address, mail::normalise_address(&m.to.address));
    assert_eq!(
        back.from.as_ref().map(|f| f.address.clone()),
        Some(mail::normalise_address(&m.from.address))
    );
    assert!(back.cc.is_empty(), "Cc appeared: {:?}", back.cc);
    assert!(
        back.reply_to.is_empty(),
        "Reply-To appeared: {:?}",
        back.reply_to
    );
    assert_eq!(back.message_id.as_deref(), Some(m.message_id.as_str()));
    assert!(
        back.attachments.is_empty(),
        "attachments: {:?}",
        back.attachments
    );
}
