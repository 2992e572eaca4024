//! HTML cut rules, robustness properties and a pathological-size run.

use super::{reply_html, reply_text};
use proptest::prelude::*;

/// One row per HTML quote marker: the reply before it must be all that is left. Text glued
/// across `</div>` ("Thanks!Note") is how `html_to_text` renders blocks without `<br>`/`</p>`.
const HTML: &[(&str, &str)] = &[
    (
        r#"<div dir="ltr">Thanks!</div><div class="gmail_quote"><div class="gmail_attr">On Tue, Mar 12, 2024 at 10:15 AM Bob &lt;bob@x.com&gt; wrote:<br></div><blockquote class="gmail_quote">old</blockquote></div>"#,
        "Thanks!",
    ),
    (
        r#"<div>Thanks!</div><div class="gmail_quote gmail_quote_container"><blockquote>old</blockquote></div>"#,
        "Thanks!",
    ),
    (
        r#"<div>Thanks!</div><div class="gmail_attr">Note</div>"#,
        "Thanks!Note",
    ),
    (
        r#"<div>Thanks!</div><div><br><blockquote type="cite">old</blockquote></div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><blockquote type="cite" cite="mid:1@x">old</blockquote>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><p>On 12.03.2024 10:15, Bob wrote:<br></p><blockquote style="border-left: 2px solid blue">old</blockquote>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p>On Tue, Mar 12, 2024 at 10:15, Bob &lt;bob@x.com&gt; wrote:<br><blockquote>old</blockquote>"#,
        "Thanks!",
    ),
    (
        r#"<p>Intro</p><blockquote>indented, mine</blockquote><p>More</p>"#,
        "Intro\nindented, mineMore",
    ),
    (
        r#"<p>Thanks!</p><div id="OLK_SRC_BODY_SECTION"><b>From:</b> Bob</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Bob</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><hr style="display:inline-block"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Bob</div>"#,
        "Thanks!",
    ),
    (
        r#"<p class=MsoNormal>Thanks!</p><div style='border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>From:</b> Bob</p></div>"#,
        "Thanks!",
    ),
    (
        r#"<p class=MsoNormal>Danke!</p><DIV STYLE="border:none; border-top: SOLID #e1e1e1 1.0pt; padding:3pt"><p><b>Von:</b> Bob</p></DIV>"#,
        "Danke!",
    ),
    (r#"<p>Thanks!</p><hr id="stopSpelling">old"#, "Thanks!"),
    (
        r#"<p>Thanks!</p><div class="yahoo_quoted" id="yahoo_quoted_123">old</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><div class="moz-cite-prefix">On 12/03/2024 10:15, Bob wrote:<br></div><blockquote type="cite">old</blockquote>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><div name="quote" style="margin:10px">old</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><!-- originalMessage --><div>old</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><hr data-marker="__DIVIDER__"><div data-marker="__HEADERS__">From: Bob</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>Thanks!</p><div class="protonmail_quote">‐‐‐‐‐‐‐ Original Message ‐‐‐‐‐‐‐<br>old</div>"#,
        "Thanks!",
    ),
    (
        r#"<p>FYI</p><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: Ann<br></div><p>It is broken.</p></div>"#,
        "FYI\n---------- Forwarded message ---------\nFrom: Ann\nIt is broken.",
    ),
    (
        r#"<p>Thanks!<br><br>Sent from my iPhone</p><blockquote type="cite">old</blockquote>"#,
        "Thanks!",
    ),
    (
        r#"<blockquote type="cite">only a quote</blockquote>"#,
        "only a quote",
    ),
    ("", ""),
];

#[test]
fn html_quote_markers() {
    for (input, expected) in HTML {
        assert_eq!(reply_html(input), *expected, "{input:?}");
    }
}

/// Pieces that trigger every rule, shuffled into random bodies.
const FRAGMENTS: &[&str] = &[
    "On Tue, 12 Mar 2024 at 10:15, Bob <bob@x.com> wrote:",
    "On Tue, 12 Mar 2024",
    "wrote:",
    "w=",
    "> quoted",
    ">",
    "From: Bob",
    "Sent: Tuesday",
    "*Subject:* x",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "________________________________",
    "-- ",
    "--",
    "Sent from my iPhone",
    "2024年3月12日(火) 10:15 田中 <t@x.jp>:",
    "写道：",
    "De\u{a0}: Bob",
    "riak-users mailing list",
    "",
    "plain text é ß 漢字",
    "\r",
    "=",
];

const HTML_FRAGMENTS: &[&str] = &[
    "<div class=\"gmail_quote\">",
    "<blockquote",
    "<blockquote type=\"cite\">",
    "<blockquote>",
    "</div>",
    "<br>",
    "<!--",
    "-->",
    "<!-- originalMessage -->",
    "<div id=\"divRplyFwdMsg\">",
    "<div style=\"border-top:solid #B5C4DF 1.0pt\">",
    "<hr id=stopSpelling>",
    "class='yahoo_quoted'",
    "On 12.03.2024, Bob wrote:",
    "&lt;",
    "&",
    "é漢",
    "<",
    ">",
    "\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_random_text(s in "\\PC{0,400}") {
        let out = reply_text(&s);
        prop_assert!(!out.contains('\r'));
        let _ = reply_html(&s);
    }

    #[test]
    fn never_panics_on_marker_soup(
        picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..40),
        seps in proptest::collection::vec(prop_oneof![Just("\n"), Just(" "), Just("\r\n"), Just("")], 40),
    ) {
        let mut body = String::new();
        for (n, p) in picks.iter().enumerate() {
            body.push_str(FRAGMENTS.get(*p).copied().unwrap_or_default());
            body.push_str(seps.get(n).copied().unwrap_or("\n"));
        }
        let out = reply_text(&body);
        prop_assert!(body.trim().is_empty() || !out.is_empty());
        prop_assert!(!out.contains('\r'));
        prop_assert!(out.lines().all(|l| l == l.trim_end()));
    }

    #[test]
    fn never_panics_on_html_soup(picks in proptest::collection::vec(0..HTML_FRAGMENTS.len(), 0..40)) {
        let html: String = picks
            .iter()
            .map(|p| HTML_FRAGMENTS.get(*p).copied().unwrap_or_default())
            .collect();
        let _ = reply_html(&html);
    }
}

#[test]
fn pathological_five_megabytes_finishes() {
    let unit = "On Tue, 12 Mar 2024 at 10:15 Bob\nFrom: x\nSent: y\n> q\nOn 1 wrote\n-- \n";
    let body = unit.repeat(5 * 1024 * 1024 / unit.len());
    let _ = reply_text(&body);
    let long_line = "On 1 ".repeat(1024 * 1024) + "wrote:";
    let _ = reply_text(&long_line);
    let html = "<blockquote a=b c='d'>On 1 wrote:<br>".repeat(100_000);
    let _ = reply_html(&html);
}
