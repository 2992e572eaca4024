//! Cutting quoted history out of HTML before it becomes text.

use std::sync::LazyLock;

use regex::Regex;

#[allow(clippy::expect_used)] // literal pattern, exercised by the table tests
static MARKERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?ix)
        <(?:div|blockquote|section)\b[^>]*\bclass\s*=\s*["']?[^"'>]*\b(?:gmail_quote|yahoo_quoted|moz-cite-prefix|protonmail_quote|zmail_extra)\b
      | <blockquote\b[^>]*\btype\s*=\s*["']?cite
      | <(?:div|span)\b[^>]*\bid\s*=\s*["']?[a-z_]*(?:divRplyFwdMsg|appendonsend|OLK_SRC_BODY_SECTION|mail-editor-reference-message-container)
      | <div\b[^>]*\bstyle\s*=\s*["'][^"'>]*border-top\s*:\s*solid\s+\#(?:b5c4df|e1e1e1)
      | <hr\b[^>]*\bid\s*=\s*["']?stopSpelling
      | <(?:div|blockquote)\b[^>]*\bname\s*=\s*["']?quote
      | <!--\s*originalMessage\s*-->
      | \bdata-marker\s*=\s*["']__(?:DIVIDER|QUOTED_TEXT)__
      | -{5,}\s*(?:original\s+message|原始邮件)\s*-{5,}
    "#,
    )
    .expect("literal regex")
});

#[allow(clippy::expect_used)] // literal pattern
static FORWARD_NEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)forwarded message|begin forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|doorgestuurd bericht|messaggio inoltrato").expect("literal regex")
});

/// The HTML up to the first quote marker. A Gmail quote that holds a forwarded message is
/// content, not history, and is kept.
pub(super) fn cut_quote(html: &str) -> &str {
    for m in MARKERS.find_iter(html) {
        let mut ahead_end = (m.end() + 600).min(html.len());
        while !html.is_char_boundary(ahead_end) {
            ahead_end -= 1;
        }
        let ahead = html.get(m.end()..ahead_end).unwrap_or("");
        if FORWARD_NEAR.is_match(ahead) {
            continue;
        }
        return &html[..m.start()];
    }
    html
}
