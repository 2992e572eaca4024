//! Issue 16 rules as tables: wrapped and verb-final attributions, decorated webmail
//! attributions, `|` quotes, answers between HTML quotes.

use super::{reply_html, reply_text};

#[test]
fn attribution_table() {
    for (input, expected) in [
        // German Gmail wrapped after the day's "28."
        (
            "Geht nicht.\n\nMax <max@x.de> schrieb am Fr., 28.\nApr. 2017 um 11:53 Uhr:\n\n> alt",
            "Geht nicht.",
        ),
        // Five lines.
        (
            "Ok\n\nOn 28 Apr 2017,\nat 11:53,\nBob\n<bob@x.com>\nwrote:\n> old",
            "Ok",
        ),
        // Verb after the address, with a bracketed ending.
        ("Ок\n\nИван <ivan@x.ru> написал(а):\n> старое", "Ок"),
        ("Ok\n\nMarko <marko@x.hr> je napisao:\n> staro", "Ok"),
        (
            "Kiitos\n\nMatti (matti@x.fi) kirjoitti 28.4.2017 kello 11.53:\n> vanha",
            "Kiitos",
        ),
        // Name-only verb-final form: only when a quote follows.
        ("Ок\n\n28.04.2017 11:53, Иван пишет:\n> старое", "Ок"),
        (
            "Hej\n\n28.04.2017 11:53, Anna skriver:\nvi ses.",
            "Hej\n\n28.04.2017 11:53, Anna skriver:\nvi ses.",
        ),
        // Zoho, unmarked history below.
        (
            "Done.\n\n---- On Tue, 22 Dec 2015 10:00:00 +0000 Bob <bob@x.com> wrote ----\n\nold text",
            "Done.",
        ),
        // A sentence ending in a number is not part of the attribution below it.
        (
            "Call me at 10.\nOn Mon, 3 Apr 2017, Bob <bob@x.com> wrote:\n> old",
            "Call me at 10.",
        ),
        // A long sentence ending with a full stop does not join the next line.
        (
            "We met on 3 April and talked about it.\nBob <bob@x.com> wrote:\n> old",
            "We met on 3 April and talked about it.",
        ),
    ] {
        assert_eq!(reply_text(input), expected, "{input:?}");
    }
}

#[test]
fn pipe_quote_table() {
    for (input, expected) in [
        ("Yes.\n\n| Is it on?\n| Bob", "Yes."),
        ("| Is it on?\n\nYes.\n\n| Anything else?", "Yes."),
        (
            "Table:\n| a | b |\n| 1 | 2 |",
            "Table:\n| a | b |\n| 1 | 2 |",
        ),
        ("Use it || not.", "Use it || not."),
        ("Danke\n\n＞ 古い", "Danke"),
    ] {
        assert_eq!(reply_text(input), expected, "{input:?}");
    }
}

#[test]
fn html_answers_between_quotes_are_kept() {
    for (input, expected) in [
        (
            r#"<div>Hi</div><div class="gmail_quote"><div class="gmail_attr">On Mon, 3 Apr 2017, Bob &lt;b@x.com&gt; wrote:</div><blockquote class="gmail_quote">Q1?</blockquote><div>A1</div><blockquote class="gmail_quote">bye</blockquote></div>"#,
            "Hi\n\nOn Mon, 3 Apr 2017, Bob <b@x.com> wrote:\n\n> Q1?\n\nA1",
        ),
        // Only a signature below the quote: the quote goes as before.
        (
            r#"<div>Thanks!</div><blockquote type="cite">old</blockquote><div>-- <br>Claire</div>"#,
            "Thanks!",
        ),
        // Google Groups footer below the quote.
        (
            r#"<div>Thanks!</div><div class="gmail_quote"><div class="gmail_attr">On Mon, Bob wrote:</div><blockquote class="gmail_quote">old</blockquote></div>-- <br>You received this message because you are subscribed."#,
            "Thanks!",
        ),
        // Outlook: everything below the divider is history, even unquoted text.
        (
            r#"<div>See below.</div><div id="divRplyFwdMsg"><b>From:</b> Bob<br><b>Sent:</b> Monday</div><div>old text</div>"#,
            "See below.",
        ),
        // Yahoo: the quoted text is in the yahoo_quoted div itself.
        (
            r#"<div>Sure.</div><div class="yahoo_quoted"><div>On Monday, 3 April 2017, Bob &lt;b@x.com&gt; wrote:</div><div>old question</div></div>"#,
            "Sure.",
        ),
    ] {
        assert_eq!(reply_html(input), expected, "{input:?}");
    }
}
