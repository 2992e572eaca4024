//! Further text and HTML table cases (first written for an earlier version of the stripper).

use super::*;

/// (input, expected reply) for text bodies, many languages and clients.
const TEXT: &[(&str, &str)] = &[
    // English: Gmail, Apple, Outlook, wrapped attributions.
    (
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <bob@x.com> wrote:\n> old\n> text",
        "Thanks!",
    ),
    (
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <\nbob@x.com> wrote:\n> old",
        "Thanks!",
    ),
    (
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM\nBob Smith <bob@x.com>\nwrote:\n\n> old",
        "Thanks!",
    ),
    (
        "Got it.\n\nOn 9 Jan 2014, at 2:47, George wrote:\n\n> old",
        "Got it.",
    ),
    (
        "Yes.\nOn Mon, Jun 3, 2024 at 12:53 AM Cody <c@x.com> w=\nrote:\n> old",
        "Yes.",
    ),
    (
        "Fine.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nold",
        "Fine.",
    ),
    (
        "Fine.\n\n________________________________\nFrom: Bob <bob@x.com>\nSent: Monday, 1 January 2024 10:00\nTo: Ana\nSubject: Re: x\n\nold",
        "Fine.",
    ),
    (
        "Fine.\n\nFrom: Bob <bob@x.com>\nSent: Monday, 1 January 2024 10:00\nTo: Ana\nSubject: Re: x\n\nold",
        "Fine.",
    ),
    (
        "Fine.\n\n*From:* Bob <bob@x.com>\n*Sent:* Monday\n*To:* Ana\n\nold",
        "Fine.",
    ),
    (
        "Fine.\n\nFrom: Bob <bob@x.com>\nDate: Monday\n\nold",
        "Fine.",
    ),
    // German
    (
        "Danke!\n\nAm Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Bob <bob@x.com>:\n> alt",
        "Danke!",
    ),
    (
        "Danke!\n\nAm 01.01.2024 um 10:00 schrieb Bob Müller:\n> alt",
        "Danke!",
    ),
    (
        "Danke!\n\nAm Mo., 1. Jan. 2024 um 10:00 Uhr\nschrieb Bob <bob@x.com>:\n> alt",
        "Danke!",
    ),
    (
        "Danke!\n\nVon: Bob <bob@x.com>\nGesendet: Montag, 1. Januar 2024 10:00\nAn: Ana\nBetreff: AW: x\n\nalt",
        "Danke!",
    ),
    (
        "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Bob\n\nalt",
        "Danke!",
    ),
    // French
    (
        "Merci !\n\nLe lun. 1 janv. 2024 à 10:00, Bob <bob@x.com> a écrit :\n> ancien",
        "Merci !",
    ),
    (
        "Merci !\n\nLe 1 janv. 2024 à 10:00, Bob <bob@x.com> a\nécrit :\n> ancien",
        "Merci !",
    ),
    (
        "Merci !\n\nDe : Bob <bob@x.com>\nEnvoyé : lundi 1 janvier 2024 10:00\nÀ : Ana\nObjet : RE: x\n\nancien",
        "Merci !",
    ),
    (
        "Merci !\n\nDe\u{a0}: Bob <bob@x.com>\nEnvoyé\u{a0}: lundi\nÀ\u{a0}: Ana\n\nancien",
        "Merci !",
    ),
    (
        "Merci !\n\n-----Message d'origine-----\nDe : Bob\n\nancien",
        "Merci !",
    ),
    // Spanish
    (
        "Gracias.\n\nEl lun, 1 ene 2024 a las 10:00, Bob (<bob@x.com>) escribió:\n> viejo",
        "Gracias.",
    ),
    (
        "Gracias.\n\nDe: Bob <bob@x.com>\nEnviado: lunes, 1 de enero de 2024 10:00\nPara: Ana\nAsunto: RE: x\n\nviejo",
        "Gracias.",
    ),
    (
        "Gracias.\n\n-----Mensaje original-----\nDe: Bob\n\nviejo",
        "Gracias.",
    ),
    // Portuguese
    (
        "Obrigado.\n\nEm seg., 1 de jan. de 2024 às 10:00, Bob <bob@x.com> escreveu:\n> antigo",
        "Obrigado.",
    ),
    (
        "Obrigado.\n\nDe: Bob <bob@x.com>\nEnviada em: segunda-feira\nPara: Ana\nAssunto: RE: x\n\nantigo",
        "Obrigado.",
    ),
    // Dutch
    (
        "Bedankt.\n\nOp ma 1 jan. 2024 om 10:00 schreef Bob <bob@x.com>:\n> oud",
        "Bedankt.",
    ),
    (
        "Bedankt.\n\nVan: Bob <bob@x.com>\nVerzonden: maandag 1 januari 2024 10:00\nAan: Ana\nOnderwerp: RE: x\n\noud",
        "Bedankt.",
    ),
    // Italian
    (
        "Grazie.\n\nIl giorno lun 1 gen 2024 alle ore 10:00 Bob <bob@x.com> ha scritto:\n> vecchio",
        "Grazie.",
    ),
    (
        "Grazie.\n\nIl lun 1 gen 2024, 10:00 Bob <bob@x.com> ha scritto:\n> vecchio",
        "Grazie.",
    ),
    (
        "Grazie.\n\nDa: Bob <bob@x.com>\nInviato: lunedì 1 gennaio 2024 10:00\nA: Ana\nOggetto: R: x\n\nvecchio",
        "Grazie.",
    ),
    // Swedish, Danish, Norwegian
    (
        "Tack.\n\nDen mån 1 jan. 2024 kl 10:00 skrev Bob <bob@x.com>:\n> gammal",
        "Tack.",
    ),
    (
        "Tack.\n\nFrån: Bob <bob@x.com>\nSkickat: den 1 januari 2024 10:00\nTill: Ana\nÄmne: SV: x\n\ngammal",
        "Tack.",
    ),
    (
        "Tak.\n\nDen 1. jan. 2024 kl. 10.00 skrev Bob <bob@x.com>:\n> gammel",
        "Tak.",
    ),
    (
        "Tak.\n\nFra: Bob <bob@x.com>\nSendt: 1. januar 2024 10:00\nTil: Ana\nEmne: SV: x\n\ngammel",
        "Tak.",
    ),
    (
        "Tak.\n\nPå man. 1. jan. 2024 kl. 10:00 skrev Bob <bob@x.com>:\n> gammel",
        "Tak.",
    ),
    // Polish, Czech
    (
        "Dzięki.\n\nW dniu pon., 1 sty 2024 o 10:00 Bob <bob@x.com> napisał(a):\n> stare",
        "Dzięki.",
    ),
    (
        "Dzięki.\n\nDnia 1 stycznia 2024 10:00 Bob <bob@x.com> napisał:\n> stare",
        "Dzięki.",
    ),
    (
        "Dzięki.\n\nOd: Bob <bob@x.com>\nWysłano: poniedziałek, 1 stycznia 2024 10:00\nDo: Ana\nTemat: RE: x\n\nstare",
        "Dzięki.",
    ),
    (
        "Díky.\n\nDne po 1. 1. 2024 10:00 Bob <bob@x.com> napsal(a):\n> staré",
        "Díky.",
    ),
    // Japanese, Chinese, Korean, Russian
    (
        "ありがとうございます。\n\n2024年1月1日(月) 10:00 Bob <bob@x.com>:\n> 古い",
        "ありがとうございます。",
    ),
    (
        "ありがとうございます。\n\n差出人: Bob <bob@x.com>\n送信日時: 2024年1月1日 10:00\n宛先: Ana\n件名: RE: x\n\n古い",
        "ありがとうございます。",
    ),
    (
        "谢谢。\n\nBob <bob@x.com> 于2024年1月1日周一 10:00写道：\n> 旧",
        "谢谢。",
    ),
    (
        "谢谢。\n\n------------------ 原始邮件 ------------------\n发件人: Bob\n\n旧",
        "谢谢。",
    ),
    (
        "감사합니다.\n\n2024년 1월 1일 (월) 오전 10:00, Bob <bob@x.com>님이 작성:\n> 이전",
        "감사합니다.",
    ),
    (
        "Спасибо.\n\n01.01.2024 10:00, Bob пишет:\n\n01.01.2024 10:00 пользователь Bob <bob@x.com> написал:\n> старое",
        "Спасибо.\n\n01.01.2024 10:00, Bob пишет:",
    ),
    (
        "Ok.\n\n2014-10-17 11:28 GMT+03:00 Bob <bob@x.com>:\n> old",
        "Ok.",
    ),
    (
        "Hej\n\nons 4 dec. 2024 kl. 20:42 skrev Person B <b@x.com>:\n\n> gammal",
        "Hej",
    ),
    (
        "Hej\n\n4 dec. 2024 kl. 18:36 skrev Person A <a@x.com>:\n> gammal",
        "Hej",
    ),
    (
        "In 2023 I wrote:\nthe invoice is wrong",
        "In 2023 I wrote:\nthe invoice is wrong",
    ),
    // Outlook divider above the header block
    (
        "Reply\n\n ------------------------------\n\n*From:* Bob [mailto:b@x.com]\n*Sent:* Thursday\n*To:* ana@x.com\n\nold",
        "Reply",
    ),
    // Opens with a pasted header block, history further down.
    (
        "Od: Jan <j@x.com>\nWysłano: środa\nDo: Anna\nTemat: Re: Test\n\nCzesc Anno,\nJan\n\nDnia 28 lutego 2023 14:00 Anna <a@x.com> napisał(a):\n> stare",
        "Od: Jan <j@x.com>\nWysłano: środa\nDo: Anna\nTemat: Re: Test\n\nCzesc Anno,\nJan",
    ),
    // Signatures
    (
        "Here it is.\n\nSent from my desk, is much easier than my mobile phone.",
        "Here it is.\n\nSent from my desk, is much easier than my mobile phone.",
    ),
    ("Thanks!\n\nSent from my iPhone", "Thanks!"),
    (
        "Thanks!\n\nSent from my Samsung Galaxy smartphone.",
        "Thanks!",
    ),
    (
        "Thanks!\n\nGet Outlook for iOS<https://aka.ms/o0ukef>",
        "Thanks!",
    ),
    ("Danke!\n\nVon meinem iPhone gesendet", "Danke!"),
    ("Merci\n\nEnvoyé de mon iPhone", "Merci"),
    ("Gracias\n\nEnviado desde mi iPhone", "Gracias"),
    (
        "Thanks!\n\n-- \nAna Lima\nAcme Corp\n+1 555 0100",
        "Thanks!",
    ),
    ("Thanks!\n\n--\nAna", "Thanks!"),
    (
        "Thanks!\n\nSent from my iPhone\n\n> On Mon, Bob wrote:\n> old",
        "Thanks!",
    ),
    // Must stay
    (
        "On Monday we spoke about the invoice.\nIt is still wrong.",
        "On Monday we spoke about the invoice.\nIt is still wrong.",
    ),
    (
        "On your remote host you can run:\n\n  telnet 127.0.0.1 52698",
        "On your remote host you can run:\n\n  telnet 127.0.0.1 52698",
    ),
    (
        "Von: heute an gilt die neue Adresse.\nBitte notieren.",
        "Von: heute an gilt die neue Adresse.\nBitte notieren.",
    ),
    (
        "From: my point of view the invoice is wrong.",
        "From: my point of view the invoice is wrong.",
    ),
    ("We know 5 > 3 and 3 < 5.", "We know 5 > 3 and 3 < 5."),
    (
        "The price -- as agreed -- is 10 EUR.",
        "The price -- as agreed -- is 10 EUR.",
    ),
    (
        "I sent from my office yesterday.",
        "I sent from my office yesterday.",
    ),
    (
        "Le colis est arrivé.\nEl pedido llegó.",
        "Le colis est arrivé.\nEl pedido llegó.",
    ),
    // Interleaved answers are kept.
    (
        "> Which order?\n1042\n\n> Which colour?\nRed",
        "> Which order?\n1042\n\n> Which colour?\nRed",
    ),
    // Forwards are content.
    (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Carla <c@x.com>\nDate: Mon\nSubject: Help\n\nI cannot log in.",
        "FYI\n\n---------- Forwarded message ---------\nFrom: Carla <c@x.com>\nDate: Mon\nSubject: Help\n\nI cannot log in.",
    ),
    (
        "See below\n\nBegin forwarded message:\n\nFrom: Carla <c@x.com>\nSubject: Help\n\nI cannot log in.",
        "See below\n\nBegin forwarded message:\n\nFrom: Carla <c@x.com>\nSubject: Help\n\nI cannot log in.",
    ),
    // Only history: keep it rather than return nothing.
    (
        "On Mon, Jan 1, 2024, Bob <bob@x.com> wrote:\n> please help",
        "On Mon, Jan 1, 2024, Bob <bob@x.com> wrote:\n> please help",
    ),
    // Whitespace
    (
        "\r\n  Hello  \r\n\r\n\r\n\r\n\r\nWorld\r\n\r\n",
        "Hello\n\n\nWorld",
    ),
    ("", ""),
];

#[test]
fn text_table() {
    for (input, expected) in TEXT {
        assert_eq!(reply_text(input), *expected, "{input:?}");
    }
    println!("{} text cases", TEXT.len());
}

#[test]
fn forward_keeps_outlook_header_block() {
    let body = "Please handle.\n\nFrom: Carla <c@x.com>\nSent: Monday\nTo: Bob\nSubject: Help\n\nI cannot log in.\n\nSent from my iPhone";
    assert_eq!(
        forward_text(body),
        "Please handle.\n\nFrom: Carla <c@x.com>\nSent: Monday\nTo: Bob\nSubject: Help\n\nI cannot log in."
    );
    assert_eq!(reply_text(body), "Please handle.");
}

const HTML: &[(&str, &str)] = &[
    (
        r#"<div dir="ltr">Yes, please.</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon, Bob wrote:<br></div><blockquote class="gmail_quote">old</blockquote></div>"#,
        "Yes, please.",
    ),
    (
        r#"<div dir="ltr">Yes.</div><div class="gmail_quote gmail_quote_container"><div>On Mon wrote:</div><blockquote>old</blockquote></div>"#,
        "Yes.",
    ),
    (
        r#"<div>That works.</div><div><br><blockquote type="cite"><div>On 18 Mar 2024, Bob wrote:</div>old</blockquote></div>"#,
        "That works.",
    ),
    (
        r#"<div>That works.</div><div class="moz-cite-prefix">On 18.03.24 Bob wrote:<br></div><blockquote type="cite">old</blockquote>"#,
        "That works.",
    ),
    (
        r#"<p class="MsoNormal">Guten Tag</p><div id="divRplyFwdMsg" dir="ltr"><b>Von:</b> Bob</div><div>alt</div>"#,
        "Guten Tag",
    ),
    (
        r#"<p>Hello</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob</div>old"#,
        "Hello",
    ),
    (
        r#"<p>Hello</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p><b>From:</b> Bob</p></div>old"#,
        "Hello",
    ),
    (
        r#"<p>Hello</p><div style="border:none; border-top:solid #B5C4DF 1.0pt; padding:3.0pt 0in 0in 0in"><p><b>From:</b> Bob</p></div>old"#,
        "Hello",
    ),
    (
        r#"<p>Hello</p><span id="OLK_SRC_BODY_SECTION"><b>From:</b> Bob</span>old"#,
        "Hello",
    ),
    (
        r#"<p>Hello</p><div class="yahoo_quoted">old</div>"#,
        "Hello",
    ),
    (
        r#"<p>Hello</p><div class="protonmail_quote">old</div>"#,
        "Hello",
    ),
    (r#"<p>Hello</p><hr id="stopSpelling">old"#, "Hello"),
    (
        r#"<p>Hello</p><br>On Mon, Jan 1, 2024, Bob &lt;bob@x.com&gt; wrote:<br><blockquote style="margin:0">old</blockquote>"#,
        "Hello",
    ),
    (
        r#"<p>FYI</p><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: Carla</div><br>I cannot log in.</div>"#,
        "FYI\n---------- Forwarded message ---------\nFrom: Carla\nI cannot log in.",
    ),
    (
        r#"<p>No quote here</p><p>Second paragraph</p>"#,
        "No quote here\nSecond paragraph",
    ),
];

#[test]
fn html_table() {
    for (input, expected) in HTML {
        let got = reply_html(input);
        let normalised: Vec<&str> = got
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let want: Vec<&str> = expected.lines().collect();
        assert_eq!(normalised, want, "{input:?} -> {got:?}");
    }
    println!("{} html cases", HTML.len());
}

#[test]
fn huge_and_hostile_inputs_finish() {
    let many_opens = "On Monday\n".repeat(200_000);
    let _ = reply_text(&many_opens);
    let many_quotes = "> a\nb\n".repeat(200_000);
    let _ = reply_text(&many_quotes);
    let long_line = "On ".to_string() + &"x".repeat(2_000_000) + " wrote:";
    assert!(!reply_text(&long_line).is_empty());
    let html = "<blockquote>".repeat(100_000);
    let _ = reply_html(&html);
}
