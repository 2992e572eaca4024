//! Parts the HTML body shows by `cid:` reference (RFC 2392): signature logos, tracking pixels,
//! pictures pasted into the text. They are part of how the mail looks, not files the customer
//! sent, so mailcase counts them instead of copying them onto the case.
//!
//! Pure; never panics.

use crate::Attachment;

/// A Content-ID without angle brackets or surrounding space.
pub fn clean_id(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

/// Every `cid:` reference in `html`, percent-decoded (RFC 2392 URLs are `%`-encoded), in order.
pub fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("cid:") {
        let start = from + at + 4;
        let end = html[start..]
            .find(['"', '\'', ')', ' ', '>', '<', '\t', '\r', '\n'])
            .map(|e| start + e)
            .unwrap_or(html.len());
        let id = percent_decode(&html[start..end]);
        if !id.is_empty() {
            out.push(id);
        }
        from = end.max(start);
    }
    out
}

/// Mark the attachments whose Content-ID one of the HTML bodies references.
pub fn mark_referenced<'a>(
    attachments: &mut [Attachment],
    html_bodies: impl Iterator<Item = &'a str>,
) {
    let refs: Vec<String> = html_bodies.flat_map(references).collect();
    if refs.is_empty() {
        return;
    }
    for a in attachments.iter_mut() {
        if let Some(id) = &a.content_id
            && refs.iter().any(|r| r.eq_ignore_ascii_case(id))
        {
            a.referenced = true;
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_in_attributes_and_css_and_percent_decoded() {
        let html = r#"<img src="cid:logo@acme"> <div style="background:url(cid:bg%40x)"><IMG SRC='CID:pixel'>"#;
        assert_eq!(references(html), vec!["logo@acme", "bg@x", "pixel"]);
        assert!(references("no references; cid: alone").is_empty());
    }

    #[test]
    fn only_referenced_parts_are_marked() {
        let part = |cid: Option<&str>| Attachment {
            filename: "a.png".into(),
            content_type: "image/png".into(),
            size: 1,
            inline: true,
            winmail: false,
            content_id: cid.map(str::to_string),
            referenced: false,
            content: vec![1],
        };
        let mut list = vec![part(Some("Logo@Acme")), part(Some("other")), part(None)];
        mark_referenced(&mut list, [r#"<img src="cid:logo@acme">"#].into_iter());
        let marked: Vec<bool> = list.iter().map(|a| a.referenced).collect();
        assert_eq!(marked, vec![true, false, false]);
        assert_eq!(clean_id(" <x@y> "), "x@y");
    }
}
