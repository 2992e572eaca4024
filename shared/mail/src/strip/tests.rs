//! Table tests for the plain-text rules: one `(input, expected)` row per client and language,
//! plus the false positives that must stay.

use super::reply_text;

/// Quote headers, separators and header blocks in every supported language and client.
const HEADERS: &[(&str, &str)] = &[
    // English attribution, one line, wrapped over two and three lines, QP-damaged.
    (
        "Thanks!\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <bob@x.com> wrote:\n> old\n",
        "Thanks!",
    ),
    (
        "Thanks!\n\nOn Wed, May 18, 2016 at 11:10 PM Steven Scott <n@github.com>\nwrote:\n\nold",
        "Thanks!",
    ),
    (
        "Ok\n\nOn Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\nwrote:\n\n> old",
        "Ok",
    ),
    (
        "Ok\n\nOn Mon, Jun 3, 2024 at 12:53 AM Cody <c@x.com> w=\nrote:\n\n> old",
        "Ok",
    ),
    (
        "Ok\n\nOn 01/03/11 7:07 PM, Russell Brown wrote:\n> old",
        "Ok",
    ),
    ("Ok\n\nBob Smith <bob@x.com> wrote:\n> old", "Ok"),
    // German.
    (
        "Danke\n\nAm 12.03.2024 um 10:15 schrieb Bob <bob@x.com>:\n> alt",
        "Danke",
    ),
    (
        "Danke\n\nAm Di., 12. März 2024 um 10:15 Uhr schrieb Bob <\nbob@x.com>:\n\n> alt",
        "Danke",
    ),
    (
        "Danke\n\nVon: Bob <bob@x.com>\nGesendet: Dienstag, 12. März 2024 10:15\nAn: Support\nBetreff: Frage\n\nalt",
        "Danke",
    ),
    (
        "Danke\n\n-----Ursprüngliche Nachricht-----\nVon: Bob\nGesendet: heute\n\nalt",
        "Danke",
    ),
    (
        "Danke\n\nVon: Bob <bob@x.com>\nDatum: 12. März 2024\nAn: Support\n\nalt",
        "Danke",
    ),
    // French, with a space and with U+00A0 before the colons.
    (
        "Merci\n\nLe mar. 12 mars 2024 à 10:15, Bob <bob@x.com> a écrit :\n> ancien",
        "Merci",
    ),
    (
        "Merci\n\nLe mar. 12 mars 2024 à 10:15, Bob <bob@x.com> a écrit\u{a0}:\n> ancien",
        "Merci",
    ),
    (
        "Merci\n\nDe : Bob <bob@x.com>\nEnvoyé : mardi 12 mars 2024 10:15\nÀ : Support\nObjet : Question\n\nancien",
        "Merci",
    ),
    (
        "Merci\n\nDe\u{a0}: Bob\nEnvoyé\u{a0}: mardi\nÀ\u{a0}: Support\nObjet\u{a0}: Q\n\nancien",
        "Merci",
    ),
    (
        "Merci\n\n-----Message d'origine-----\nDe : Bob\nEnvoyé : mardi\n\nancien",
        "Merci",
    ),
    // Spanish.
    (
        "Gracias\n\nEl mar, 12 mar 2024 a las 10:15, Bob (<bob@x.com>) escribió:\n> viejo",
        "Gracias",
    ),
    (
        "Gracias\n\nEl 12/03/2024 a las 10:15, Bob\nescribió:\n> viejo",
        "Gracias",
    ),
    (
        "Gracias\n\nDe: Bob <bob@x.com>\nEnviado el: martes, 12 de marzo de 2024 10:15\nPara: Soporte\nAsunto: Pregunta\n\nviejo",
        "Gracias",
    ),
    (
        "Gracias\n\nDe: Bob\nFecha: 12 mar 2024\nAsunto: Pregunta\n\nviejo",
        "Gracias",
    ),
    (
        "Gracias\n\n-----Mensaje original-----\nDe: Bob\n\nviejo",
        "Gracias",
    ),
    // Portuguese.
    (
        "Obrigado\n\nEm ter., 12 de mar. de 2024 às 10:15, Bob <bob@x.com> escreveu:\n> antigo",
        "Obrigado",
    ),
    (
        "Obrigado\n\nDe: Bob <bob@x.com>\nEnviada: terça-feira\nPara: Suporte\nAssunto: Pergunta\n\nantigo",
        "Obrigado",
    ),
    // Dutch.
    (
        "Bedankt\n\nOp di 12 mrt 2024 om 10:15 schreef Bob <bob@x.com>:\n> oud",
        "Bedankt",
    ),
    (
        "Bedankt\n\nVan: Bob <bob@x.com>\nVerzonden: dinsdag 12 maart 2024 10:15\nAan: Support\nOnderwerp: Vraag\n\noud",
        "Bedankt",
    ),
    (
        "Bedankt\n\n-----Oorspronkelijk bericht-----\nVan: Bob\n\noud",
        "Bedankt",
    ),
    // Italian.
    (
        "Grazie\n\nIl giorno mar 12 mar 2024 alle ore 10:15 Bob <bob@x.com> ha scritto:\n> vecchio",
        "Grazie",
    ),
    (
        "Grazie\n\nDa: Bob <bob@x.com>\nInviato: martedì 12 marzo 2024 10:15\nA: Supporto\nOggetto: Domanda\n\nvecchio",
        "Grazie",
    ),
    (
        "Grazie\n\n-----Messaggio originale-----\nDa: Bob\n\nvecchio",
        "Grazie",
    ),
    // Swedish, Danish, Norwegian.
    (
        "Tack\n\nDen tis 12 mars 2024 kl 10:15 skrev Bob <bob@x.com>:\n> gammalt",
        "Tack",
    ),
    (
        "Tack\n\nons 4 dec. 2024 kl. 20:42 skrev Person B <b@x.com>:\n\n> gammalt",
        "Tack",
    ),
    (
        "Tack\n\nPå tis 12 mars 2024 skrev Bob <bob@x.com>:\n> gammalt",
        "Tack",
    ),
    (
        "Tack\n\nFrån: Bob <bob@x.com>\nSkickat: den 12 mars 2024 10:15\nTill: Support\nÄmne: Fråga\n\ngammalt",
        "Tack",
    ),
    (
        "Tack\n\n-----Ursprungligt meddelande-----\nFrån: Bob\n\ngammalt",
        "Tack",
    ),
    (
        "Tak\n\nFra: Bob <bob@x.com>\nSendt: 12. marts 2024 10:15\nTil: Support\nEmne: Spørgsmål\n\ngammelt",
        "Tak",
    ),
    (
        "Tak\n\n-----Oprindelig meddelelse-----\nFra: Bob\n\ngammelt",
        "Tak",
    ),
    // Polish and Czech.
    (
        "Dzięki\n\nW dniu 12.03.2024 o 10:15, Bob pisze:\n> stare",
        "Dzięki",
    ),
    (
        "Dzięki\n\nDnia 28 lutego 2023 14:00 Anna <a@x.pl> napisał(a):\n> stare",
        "Dzięki",
    ),
    (
        "Dzięki\n\nwt., 12 mar 2024 o 10:15 Bob <bob@x.com> napisał(a):\n> stare",
        "Dzięki",
    ),
    (
        "Dzięki\n\nOd: Bob <bob@x.com>\nWysłano: wtorek, 12 marca 2024 10:15\nDo: Pomoc\nTemat: Pytanie\n\nstare",
        "Dzięki",
    ),
    (
        "Dzięki\n\n-----Wiadomość oryginalna-----\nOd: Bob\n\nstare",
        "Dzięki",
    ),
    (
        "Díky\n\nDne 12. 3. 2024 10:15 napsal(a) Bob <bob@x.com>:\n> staré",
        "Díky",
    ),
    // Japanese, Chinese, Korean, numeric dates.
    (
        "了解です\n\n2024年3月12日(火) 10:15 田中太郎 <taro@x.jp>:\n> 古い",
        "了解です",
    ),
    (
        "了解です\n\n山田 太郎 さんは書きました:\n> 古い",
        "了解です",
    ),
    (
        "了解です\n\n差出人: 田中 <taro@x.jp>\n送信日時: 2024年3月12日 10:15\n宛先: サポート\n件名: 質問\n\n古い",
        "了解です",
    ),
    (
        "谢谢\n\n在 2024年3月12日 10:15，张三 <zhang@x.cn> 写道：\n> 旧的",
        "谢谢",
    ),
    (
        "谢谢\n\n------------------ 原始邮件 ------------------\n发件人: 张三\n\n旧的",
        "谢谢",
    ),
    (
        "감사합니다\n\n2024년 3월 12일 (화) 오전 10:15, 홍길동 <hong@x.kr>님이 작성:\n> 예전",
        "감사합니다",
    ),
    (
        "Thanks\n\n2014-10-17 11:28 GMT+03:00 Bob <bob@x.com>:\n\n> old",
        "Thanks",
    ),
    // Outlook plain-text forms.
    (
        "Ok\n\n________________________________\nFrom: Bob <bob@x.com>\nSent: Tuesday, March 12, 2024 10:15 AM\nTo: Support\nSubject: Q\n\nold",
        "Ok",
    ),
    (
        "Ok\n\n*From:* Bob [mailto:bob@x.com]\n*Sent:* Tuesday\n*To:* Support\n*Subject:* Q\n\nold",
        "Ok",
    ),
    (
        "Ok\n\n-----Original Message-----\nFrom: Bob\nSent: Tuesday\n\nold",
        "Ok",
    ),
    (
        "Ok\n\n‐‐‐‐‐‐‐ Original Message ‐‐‐‐‐‐‐\nOn Tuesday, March 12, 2024 10:15 AM, Bob <bob@x.com> wrote:\n\nold",
        "Ok",
    ),
    (
        "Ok\n\n--------------- Original Message ---------------\nold",
        "Ok",
    ),
];

/// Signatures, forwards, inline replies, fallbacks and prose that must stay.
const BODIES: &[(&str, &str)] = &[
    // Device signatures in each language.
    ("Hi\n\nSent from my iPhone", "Hi"),
    ("Hi\n\nSent from my Verizon Wireless BlackBerry", "Hi"),
    ("Hi\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "Hi"),
    ("Hi\n\nGet Outlook for Android", "Hi"),
    ("Hallo\n\nGesendet von meinem iPhone", "Hallo"),
    ("Hallo\n\nVon meinem iPhone gesendet", "Hallo"),
    ("Salut\n\nEnvoyé de mon iPhone", "Salut"),
    ("Hola\n\nEnviado desde mi iPhone", "Hola"),
    ("Olá\n\nEnviado do meu iPhone", "Olá"),
    ("Hoi\n\nVerzonden vanaf mijn iPhone", "Hoi"),
    ("Ciao\n\nInviato da iPhone", "Ciao"),
    ("Hej\n\nSkickat från min iPhone", "Hej"),
    ("Hej\n\nSendt fra min iPhone", "Hej"),
    ("Cześć\n\nWysłano z iPhone'a", "Cześć"),
    ("こんにちは\n\niPhoneから送信", "こんにちは"),
    (
        "Hi\n\nSent from my desk, is much easier than my mobile phone.",
        "Hi\n\nSent from my desk, is much easier than my mobile phone.",
    ),
    // Signature delimiters.
    ("Hi\n\n-- \nBob\nACME", "Hi"),
    ("Hi\n\n--\nBob", "Hi"),
    ("Use a -- b here.\nThanks", "Use a -- b here.\nThanks"),
    // Prose that looks like a header but is not one.
    (
        "On Monday we spoke about the invoice.\nPlease resend it.",
        "On Monday we spoke about the invoice.\nPlease resend it.",
    ),
    (
        "On Monday, the CEO wrote:\nwe will refund you.",
        "On Monday, the CEO wrote:\nwe will refund you.",
    ),
    (
        "Hallo,\nVon: meinem Kollegen habe ich gehört, dass es klappt.\nDanke",
        "Hallo,\nVon: meinem Kollegen habe ich gehört, dass es klappt.\nDanke",
    ),
    (
        "The letter said\nFrom: the billing department\nand nothing else.",
        "The letter said\nFrom: the billing department\nand nothing else.",
    ),
    (
        "Away:\nFrom: 10 March\nTo: 15 March\nThanks",
        "Away:\nFrom: 10 March\nTo: 15 March\nThanks",
    ),
    ("Is 5 > 3?\nYes, and 3 < 5.", "Is 5 > 3?\nYes, and 3 < 5."),
    (
        "One outstanding question:\nOn your host run:\n\n  ls",
        "One outstanding question:\nOn your host run:\n\n  ls",
    ),
    (
        "Am heutigen Tage\nAm So., 1. Jan. 2023 um 17:22 Uhr schrieb John <\nj@x.com>:\n> alt",
        "Am heutigen Tage",
    ),
    // Forwards are content.
    (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ann <a@x.com>\nDate: Tue, Mar 12, 2024\nSubject: Broken\nTo: me\n\nIt is broken.",
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ann <a@x.com>\nDate: Tue, Mar 12, 2024\nSubject: Broken\nTo: me\n\nIt is broken.",
    ),
    (
        "See below\n\nBegin forwarded message:\n\nFrom: Ann <a@x.com>\nSubject: Broken\n\nIt is broken.",
        "See below\n\nBegin forwarded message:\n\nFrom: Ann <a@x.com>\nSubject: Broken\n\nIt is broken.",
    ),
    (
        "-------- Weitergeleitete Nachricht --------\nBetreff: Defekt\nVon: Ann\n\nEs ist kaputt.",
        "-------- Weitergeleitete Nachricht --------\nBetreff: Defekt\nVon: Ann\n\nEs ist kaputt.",
    ),
    (
        "Pour info\n\n-------- Message transféré --------\nSujet : Panne\n\nC'est cassé.",
        "Pour info\n\n-------- Message transféré --------\nSujet : Panne\n\nC'est cassé.",
    ),
    (
        "FYI\n\n-- \nJohn Smith\nACME\n\n---------- Forwarded message ---------\nFrom: Ann\n\nBroken.\n\nSent from my iPhone",
        "FYI\n\n--\nJohn Smith\nACME\n\n---------- Forwarded message ---------\nFrom: Ann\n\nBroken.",
    ),
    // Inline answers keep their questions; bottom posts keep the answer.
    (
        "On Tue, 12 Mar 2024 at 10:15, Bob <bob@x.com> wrote:\n> Which version?\n\n2.1\n\n> Which OS?\n\nLinux\n\n> bye",
        "On Tue, 12 Mar 2024 at 10:15, Bob <bob@x.com> wrote:\n> Which version?\n\n2.1\n\n> Which OS?\n\nLinux",
    ),
    (
        "Hi,\n\n> Can you send the invoice?\n\nAttached.\n\nThanks",
        "Hi,\n\n> Can you send the invoice?\n\nAttached.\n\nThanks",
    ),
    (
        "See answers below.\n\nOn Tue, 12 Mar 2024, Bob <bob@x.com> wrote:\n> Version?\nIt is 2.1.\n> OS?\nLinux.\n",
        "See answers below.\n\nOn Tue, 12 Mar 2024, Bob <bob@x.com> wrote:\n> Version?\nIt is 2.1.\n> OS?\nLinux.",
    ),
    (
        "On Tue, 12 Mar 2024, Bob <bob@x.com> wrote:\n> Which version?\n\nVersion 2.1, on Linux.",
        "Version 2.1, on Linux.",
    ),
    // Footers after a quote are not answers.
    (
        "Thanks\n\nOn Tue, 12 Mar 2024, Bob <b@x.com> wrote:\n> old\n\n-- \nBob",
        "Thanks",
    ),
    (
        "Thanks\n\nOn Tue, 12 Mar 2024, Bob <b@x.com> wrote:\n> old\n\nSent from my iPhone",
        "Thanks",
    ),
    (
        "Hi all\n\n_______________________________________________\nriak-users mailing list\nriak-users@lists.basho.com",
        "Hi all",
    ),
    // A body that starts with history: a header block is kept, a pure quote is returned whole.
    (
        "From: Ann <a@x.com>\nSent: Tuesday\nTo: me\nSubject: Broken\n\nIt is broken.",
        "From: Ann <a@x.com>\nSent: Tuesday\nTo: me\nSubject: Broken\n\nIt is broken.",
    ),
    (
        "> only a quote\n> nothing else",
        "> only a quote\n> nothing else",
    ),
    ("-- \nBob", "--\nBob"),
    // Normalisation: CRLF, trailing whitespace, blank edges; blank input stays blank.
    ("\r\n  Hello  \r\nWorld\t\r\n\r\n", "Hello\nWorld"),
    ("Hello\n\n\n\n\nWorld", "Hello\n\n\nWorld"),
    ("Line one\rLine two", "Line one\nLine two"),
    ("", ""),
    ("  \n\t\n", ""),
];

#[test]
fn headers_in_every_language() {
    for (input, expected) in HEADERS {
        assert_eq!(reply_text(input), *expected, "{input:?}");
    }
}

#[test]
fn signatures_forwards_inline_and_prose() {
    for (input, expected) in BODIES {
        assert_eq!(reply_text(input), *expected, "{input:?}");
    }
}

#[test]
fn forward_text_keeps_the_forwarded_block() {
    let body = "Please handle.\r\n\r\nFrom: Carla <c@x.com>\nSent: Monday\nTo: Bob\nSubject: Help\n\nI cannot log in.\n\nSent from my iPhone";
    assert_eq!(
        super::forward_text(body),
        "Please handle.\n\nFrom: Carla <c@x.com>\nSent: Monday\nTo: Bob\nSubject: Help\n\nI cannot log in."
    );
    assert_eq!(reply_text(body), "Please handle.");
    assert_eq!(
        super::forward_text("Sent from my iPhone"),
        "Sent from my iPhone"
    );
}

#[test]
fn table_is_large() {
    assert!(HEADERS.len() + BODIES.len() >= 60);
}
