//! The language tables, as regexes compiled once.

use std::sync::LazyLock;

use regex::Regex;

#[allow(clippy::expect_used)] // literal patterns, each exercised by the table tests
fn re(p: &str) -> Regex {
    Regex::new(p).expect("literal regex in strip/lang.rs")
}

/// "On <date>, <name> wrote:" with the verb last (en, fr, es, pt, it, pl, cs, ru, vi).
pub static WROTE_VERB_LAST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:on|le|el|em|no dia|il|w dniu|dnia|dne|vào|в)\b.{2,300}?(?:wrote|writes|a\s+écrit|escribió|escreveu|ha\s+scritto|napisał(?:\(a\)|a)?|napisała|napsal(?:\(a\)|a)?|написал(?:\(а\)|а)?|đã viết)\s*[:：]\s*$",
    )
});

/// "Am <date> schrieb <name>:" with the verb before the name (de, nl, sv, da, no).
pub static WROTE_VERB_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:am|op|den|på|d\.)\s.{2,300}?\b(?:schrieb|schreef|geschreven|skrev|skrevet)\b[^:：]{0,150}[:：]\s*$",
    )
});

/// Attributions that open with a weekday or a date instead of an opener word
/// ("ons 4 dec. 2024 kl. 20:42 skrev …:", "4 dec. 2024 kl. 18:36 skrev …:"): a year and a time
/// or an address must come before the verb, so prose that ends "I wrote:" stays.
pub static WROTE_DATED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*\S{0,12}\s?.{0,80}\b\d{4}\b.{0,120}(?:\d{1,2}[:.]\d{2}|@).{0,150}?(?:\b(?:schrieb|schreef|skrev|wrote|escribió|escreveu|napisał(?:\(a\)|a)?)\b|a\s+écrit|ha\s+scritto)[^:：]{0,150}[:：]\s*$",
    )
});

/// A divider line of dashes or underscores (Outlook puts one above its header block).
pub static DIVIDER: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*[-_‐]{10,}\s*$"));

/// Attributions without an opener word: CJK, numeric dates with an address, Android.
pub static WROTE_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)^\s*(?:
        \d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,200}[:：] |
        .{0,200}(?:さんは書きました|のメッセージ|写道|寫道|님이\s*작성\S{0,6})\s*[:：]? |
        \d{4}[-/.]\d{1,2}[-/.]\d{1,2}[\sT,].{0,150}(?:@|wrote|schrieb|написал).{0,150}[:：] |
        \d{1,2}[./]\d{1,2}[./]\d{2,4}[\s,].{0,150}(?:@|wrote|schrieb|написал).{0,150}[:：] |
        -{3,}\s.{0,200}\s(?:wrote|schrieb|a\s+écrit|escribió)\s*-{3,}
    )\s*$")
});

/// A word that opens an attribution (used to avoid joining a content line onto the next one).
pub static OPENER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:on|am|le|el|em|op|il|den|på|w dniu|dnia|dne)\s"));

/// "-----Original Message-----" in many languages.
pub static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*[-‐_=*]{2,}\s*(?:original\s+message|original\s+e-?mail|reply\s+message|ursprüngliche\s+nachricht|antwort\s+nachricht|oprindelig\s+meddelelse|message\s+d['’]origine|mensaje\s+original|mensagem\s+original|oorspronkelijk\s+bericht|origineel\s+bericht|messaggio\s+originale|ursprungligt\s+meddelande|opprinnelig\s+melding|wiadomość\s+oryginalna|oryginalna\s+wiadomość|původní\s+zpráva|alkuperäinen\s+viesti|исходное\s+сообщение|原始邮件|原始郵件|元のメッセージ|original)\s*[-‐_=*]{2,}\s*$",
    )
});

/// An Outlook divider line of underscores.
pub static UNDERSCORES: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*_{20,}\s*$"));

/// The first line of a header block ("From:" in many languages, bold or quoted).
pub static FROM_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^[\s>*]*(?:from|von|de|van|da|från|fra|od|lähettäjä|expéditeur|remetente|差出人|发件人|寄件者|보낸\s*사람|от|отправитель)\s*\*?\s*[:：]\s*\S",
    )
});

/// Other lines of a header block.
pub static OTHER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^[\s>*]*(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|enviada|fecha|para|asunto|assunto|data|verzonden|aan|onderwerp|inviato|a|oggetto|skickat|till|ämne|sendt|til|emne|wysłano|do|temat|odesláno|komu|předmět|送信日時|宛先|件名|日付|发送时间|收件人|主题|時間|보낸\s*날짜|받는\s*사람|제목|отправлено|кому|тема)\s*\*?\s*[:：]",
    )
});

/// Forwarded-message markers: what follows is content.
pub static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^[\s>*\-‐=_]*(?:-+\s*)?(?:forwarded\s+message|begin\s+forwarded\s+message|forwarded\s+e-?mail|weitergeleitete\s+nachricht|message\s+transféré|mensaje\s+reenviado|mensagem\s+encaminhada|doorgestuurd\s+bericht|messaggio\s+inoltrato|vidarebefordrat\s+meddelande|videresendt\s+(?:besked|melding)|przekazana\s+wiadomość|přeposlaná\s+zpráva|пересланное\s+сообщение|転送されたメッセージ|转发的邮件|轉寄的郵件)\b",
    )
});

/// Mobile and app signatures.
pub static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:sent\s+from\s+(?:my\s|mail\s+for|outlook|yahoo|samsung|mobile)|sent\s+via\s|get\s+outlook\s+for\s|envoyé\s+(?:de|depuis)\s+mon|gesendet\s+von\s+mein|von\s+meinem\s.{1,40}\sgesendet|enviado\s+desde\s+mi|enviado\s+(?:do|de)\s+meu|verzonden\s+(?:vanaf|met)\s+mijn|verstuurd\s+vanaf\s+mijn|inviato\s+da|skickat\s+från\s+min|sendt\s+fra\s+min|wysłano\s+z|odesláno\s+z|lähetetty\s|iphoneから送信|从我的.{1,30}发送|發自我的|내\s.{1,30}에서\s*보냄)",
    )
});
