//! Line classifiers: reply headers, Outlook header blocks, separators and device signatures in
//! the languages support mail arrives in.
//!
//! Every pattern is a `regex` (finite automata, linear time) applied to one short line or a
//! window of at most five joined lines, so no input can trigger catastrophic backtracking.
//! Callers only hand in lines shorter than [`MAX_HEADER_LINE`].

use regex::Regex;
use std::sync::LazyLock;

/// Longer lines are never reply headers; skipping them keeps huge one-line bodies cheap.
pub(super) const MAX_HEADER_LINE: usize = 400;

/// A pattern that fails to compile disables its rule instead of panicking; the unit tests
/// assert that every pattern compiles.
fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn is_match(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// Whether `text` may match a regex whose every match contains a match of the prefilter `re`
/// (the prefilter is a plain alternation the regex crate searches as literals, far cheaper
/// than the anchored patterns with bounded repeats). A prefilter that failed to compile
/// filters nothing.
fn may_match(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_none_or(|r| r.is_match(text))
}

/// Dash-like characters of [`DASH`], for cheap checks before the patterns that need them.
const DASH_CHARS: [char; 7] = ['-', '‐', '‑', '‒', '–', '—', '―'];

/// Hyphen-like characters: Proton and some clients use U+2010 instead of ASCII dashes.
const DASH: &str = r"[-‐‑‒–—―]";

/// Verbs of "X wrote:" attribution lines in the supported languages.
const VERBS: &str = r"(?:wrote|writes|schrieb|a\s+écrit|a\s+ecrit|écrit|escribió|escribio|escreveu|schreef|geschreven|ha\s+scritto|scrisse|skrev|napisał|napisała|napisal|pisze|napsal|napsala|kirjoitti|написал|написала|đã\s+viết|yazdı)";

/// More verbs, mostly verb-final Slavic and Nordic forms (sk, sl, hr/sr/bs, ru/uk/be/bg/mk in
/// Cyrillic, nn/is, et, Baltic, Hungarian, Greek, Romanian, present tenses such as `пише`,
/// `пишет`, `schreibt`). After an address they are as sure as [`VERBS`]; after only a date and
/// a name (Thunderbird's `28.04.2017 11:53, Иван пишет:`) they count when a quote follows.
const MORE_VERBS: &str = r"(?:schreibt|schrijft|a\s+scris|skriver|skreiv|skrifaði|kirjutas|napisala|napisao|napísal|napísala|piše|píše|написав|написа|напиша|написао|напісаў|пишет|пише|пишува|піша|писал|писала|писав|rakstīja|rašė|írta|έγραψε|έγραψα)";

/// What may follow a verb before the colon: a bracketed ending such as `(a)` or `(ла)`.
const VERB_END: &str = r"(?:\s*\(\p{L}{1,3}\))?";

/// `On <date>, <name> wrote:` and its translations: opener, date (checked separately), verb,
/// then anything up to the final colon (`Am … schrieb Name <addr>:`, `napisał(a):`).
static OPENER_WROTE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^(?:on|am|le|el|em|op|il|den|på|þann|w\s+dniu|dnia|dne|dňa|dana|pe|την|vào|в|у)\s.{{0,300}}?{VERBS}\b.{{0,200}}[:：]$"
    ))
});

/// The [`MORE_VERBS`] after an opener or a leading date, with only a name before the verb:
/// `28.04.2017 11:53, Иван Иванов пишет:`, `Dňa 28.04.2017 o 11:53 Max napísal(a):`.
static MORE_WROTE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^(?:(?:on|am|le|el|em|op|il|den|på|þann|w\s+dniu|dnia|dne|dňa|dana|pe|την|в|у)\s.{{0,300}}?|[\p{{L}}.,]{{0,12}}\s*\d{{1,4}}[./\-\s].{{0,250}}?){MORE_VERBS}\b{VERB_END}.{{0,200}}[:：]$"
    ))
});

/// Date first, verb later: `ons 4 dec. 2024 kl. 20:42 skrev Person <a@b>:`, Gmail pl
/// `wt., 12 mar 2024 o 10:15 Bob <bob@x.com> napisał(a):`.
static DATE_WROTE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^[\p{{L}}.,]{{0,12}}\s*\d{{1,4}}[./\-\s年].{{0,250}}?(?:{VERBS}|пользователь)\b.{{0,200}}[:：]$"
    ))
});

/// Date and time, then an address and a colon, no verb: Japanese Gmail
/// `2024年3月12日(火) 10:15 name <addr>:`, `2014-10-17 11:28 GMT+03:00 Bob <bob@x.com>:`.
static DATE_ADDR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"(?i)^[\p{L}.,()]{0,12}\s*\d{1,4}\D{0,12}\d{1,4}.{0,80}?\d{1,2}:\d{2}.{0,200}?[\w.+\-]+@[\w.\-]+>?\)?\s*[:：]$",
    )
});

/// `Bob Smith <bob@x.com> wrote:` without an opener, the verb after the address as Slavic and
/// Nordic clients write it (`Іван <ivan@x.ua> пише:`, `… je napisao:`, `… написал(а):`), and
/// Gmail's newer order with the date after the verb
/// (`Max <max@x.de> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:`).
static ADDR_WROTE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^.{{0,160}}[\w.+\-]+@[\w.\-]+>?\)?\s*,?\s*(?:\p{{L}}{{1,3}}\s+)?(?:{VERBS}|{MORE_VERBS}){VERB_END}(?:\s*|\s.{{0,120}}\d.{{0,120}})[:：]$"
    ))
});

/// Verb-final CJK forms: zh `…写道：`, ja `…さんは書きました:`, ko `…님이 작성:`.
static CJK_WROTE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(r"(?:写道|寫道|書きました|のメール|님이\s*작성|작성하였습니다|작성했습니다)\s*[:：]$")
});

/// Every attribution pattern needs an address (`@`) or one of these words (the same
/// sub-patterns, so a match of any pattern contains a match of this one).
static ATTRIBUTION_WORDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i){VERBS}|{MORE_VERBS}|пользователь|写道|寫道|書きました|のメール|님이\s*작성|작성하였습니다|작성했습니다"
    ))
});

/// Whether a (possibly joined) line is a reply attribution such as `On … wrote:`.
/// `first_line_has_date` must say whether the window's first line contains a digit: every real
/// attribution starts with its date, which keeps prose like "On Monday John wrote:" as text.
pub(super) fn is_wrote_text(text: &str, first_line_has_date: bool) -> bool {
    if !(text.ends_with(':') || text.ends_with('：')) {
        return false;
    }
    if first_line_has_date
        && (is_match(&OPENER_WROTE, text)
            || is_match(&DATE_WROTE, text)
            || is_match(&DATE_ADDR, text))
    {
        return true;
    }
    let has_at = text.contains('@');
    if has_at && is_match(&ADDR_WROTE, text) {
        return true;
    }
    let has_digit = text.chars().any(|c| c.is_ascii_digit());
    (has_digit || has_at || text.contains("さん")) && is_match(&CJK_WROTE, text)
}

/// How sure an attribution line is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Attribution {
    /// Not an attribution.
    No,
    /// An attribution wherever it stands.
    Sure,
    /// A name-only verb-final form ([`MORE_VERBS`]): an attribution when a quote follows.
    IfQuoted,
}

/// Whether a (possibly joined) line is an attribution, also in the decorated webmail form
/// Zoho writes without a colon: `---- On Tue, 22 Dec 2015 … wrote ----` (any language, dashes,
/// `=` or `*` as the decoration).
pub(super) fn attribution(text: &str, first_line_has_date: bool) -> Attribution {
    if !text.contains('@') && !may_match(&ATTRIBUTION_WORDS, text) {
        return Attribution::No;
    }
    let owned;
    let line = match undecorated(text) {
        Some(inner) if inner.ends_with([':', '：']) => inner,
        Some(inner) => {
            owned = format!("{inner}:");
            owned.as_str()
        }
        None => text,
    };
    if is_wrote_text(line, first_line_has_date) {
        Attribution::Sure
    } else if first_line_has_date && line.ends_with([':', '：']) && is_match(&MORE_WROTE, line) {
        Attribution::IfQuoted
    } else {
        Attribution::No
    }
}

/// The text inside a decoration of two or more dash-like, `=` or `*` characters on both
/// sides, when there is one.
fn undecorated(text: &str) -> Option<&str> {
    let deco = |c: char| matches!(c, '-' | '=' | '*' | '‐'..='―');
    let lead = text.chars().take_while(|&c| deco(c)).count();
    let trail = text.chars().rev().take_while(|&c| deco(c)).count();
    if lead < 2 || trail < 2 {
        return None;
    }
    let inner = text.trim_matches(deco).trim();
    (!inner.is_empty()).then_some(inner)
}

/// Whether a trimmed line is quoted: `>` (and the full-width `＞` of Japanese clients), or `|`
/// as some clients and list archives quote. A table row (`| a | b |`) is not a quote.
pub(super) fn is_quote_line(t: &str) -> bool {
    if t.starts_with('>') || t.starts_with('＞') {
        return true;
    }
    let Some(rest) = t.strip_prefix('|') else {
        return false;
    };
    let marker_like = rest.is_empty() || rest.starts_with([' ', '\t', '|', '>']);
    let table_row = t.len() > 1 && t.ends_with('|') && t.chars().any(char::is_alphanumeric);
    marker_like && !table_row
}

/// Label of the first line of an Outlook header block (`From:`, `*Von:*`, `De :`, `差出人:`).
static FROM_LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"(?i)^\*{0,2}\s*(?:from|von|de|van|da|fra|från|od|от|lähettäjä|kimden|feladó|差出人|发件人|發件人|寄件者|보낸\s?사람)\s*\*{0,2}\s*[:：]",
    )
});

/// Labels of the other lines of an Outlook header block.
static OTHER_LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"(?i)^\*{0,2}\s*(?:sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|kopie|envoyé|envoye|à|a|objet|enviado|enviado\s+el|enviada|fecha|para|asunto|assunto|data|verzonden|aan|onderwerp|inviato|oggetto|skickat|till|ämne|kopia|sendt|dato|til|emne|wysłano|wysłane|do|temat|odesláno|komu|předmět|送信日時|日時|宛先|件名|发送时间|發送時間|时间|日期|收件人|主题|主旨|抄送|副本|날짜|보낸\s?날짜|받는\s?사람|제목|참조|отправлено|дата|кому|тема|lähetetty|vastaanottaja|aihe|gönderildi|tarih|kime|konu|elküldve|címzett|tárgy)\s*\*{0,2}\s*[:：]",
    )
});

/// Whether a trimmed line starts an Outlook header block (`From:` and localized forms).
pub(super) fn is_from_label(line: &str) -> bool {
    line.contains([':', '：']) && is_match(&FROM_LABEL, line)
}

/// Whether a trimmed line is a `Sent:`/`To:`/`Subject:`… line of an Outlook header block.
pub(super) fn is_other_label(line: &str) -> bool {
    line.contains([':', '：']) && is_match(&OTHER_LABEL, line)
}

/// `-----Original Message-----` in every language, Proton's U+2010 form and QQ's `原始邮件`.
static ORIGINAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^[\s*_=]*{DASH}{{2,}}\s*(?:original\s+message|original|reply\s+message|ursprüngliche\s+nachricht|ursprungliche\s+nachricht|antwort\s+nachricht|oprindelig\s+meddelelse|message\s+d['’]origine|mensaje\s+original|oorspronkelijk\s+bericht|messaggio\s+originale|ursprungligt\s+meddelande|wiadomość\s+oryginalna|mensagem\s+original|původní\s+zpráva|opprinnelig\s+melding|alkuperäinen\s+viesti|исходное\s+сообщение|原始邮件|原始郵件|元のメッセージ|원본\s+메시지)\s*{DASH}{{2,}}[\s*_=]*$"
    ))
});

/// Whether a trimmed line is an "original message" separator.
pub(super) fn is_original_marker(line: &str) -> bool {
    line.contains(DASH_CHARS) && is_match(&ORIGINAL, line)
}

/// Forward banners: Gmail/Thunderbird dashes form and Apple's `Begin forwarded message:`.
static FORWARD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^(?:{DASH}{{2,}}\s*(?:forwarded\s+message|forwarded\s+e-?mail|forwarded|weitergeleitete\s+nachricht|message\s+transf[ée]r[ée]|mensaje\s+reenviado|mensagem\s+(?:re)?encaminhada|doorgestuurd\s+bericht|messaggio\s+inoltrato|vidarebefordrat\s+meddelande|videresendt\s+(?:meddelelse|besked|melding)|wiadomość\s+przekazana|przekazana\s+wiadomość|přeposlaná\s+zpráva|転送メッセージ|转发的?邮件|전달된\s+메시지|пересылаемое\s+сообщение)\s*{DASH}{{2,}}|(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht|début\s+du\s+message\s+(?:réexpédié|transféré|réenvoyé)|(?:inicio|comienzo)\s+del\s+mensaje\s+reenviado|início\s+da\s+mensagem\s+(?:re)?encaminhada|begin\s+doorgestuurd\s+bericht|inizio\s+messaggio\s+inoltrato|vidarebefordrat\s+mejl|start\s+på\s+videresendt\s+(?:besked|melding)|początek\s+przekazywanej\s+wiadomości|転送されたメッセージ)\s*[:：])\s*$"
    ))
});

/// Whether a trimmed line announces a forwarded message (which is content, not history).
pub(super) fn is_forward_marker(line: &str) -> bool {
    // Both forms need dashes or end in a colon (and trailing space).
    (line.contains(DASH_CHARS) || line.trim_end().ends_with([':', '：']))
        && is_match(&FORWARD, line)
}

/// "Sent from my iPhone" and its translations, app footers such as "Get Outlook for iOS".
/// The free part is short and punctuation-free so "Sent from my desk, is much easier…" stays.
static MOBILE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"(?i)^(?:sent\s+(?:from|via|with)\s+(?:my\s+[^,.;:!?]{1,40}|(?:outlook|mail|yahoo|samsung|mailbox|aol|gmail|proton\s?mail|blackberry|iphone|ipad|android|huawei|xiaomi|spark|bluemail|edison|airmail|superhuman|the\s+\w+\s+app)[^,;:!?]{0,40})|get\s+outlook\s+for\s+(?:ios|android)|gesendet\s+(?:von|mit)\s+(?:meinem|meiner|der|dem|mail|outlook|yahoo)[^,;:!?]{0,40}|von\s+meinem\s+[^,;:!?]{1,30}\s+gesendet|envoyé\s+(?:de|depuis|à\s+partir\s+de|avec)\s+(?:mon|ma|mail|outlook|yahoo)[^,;:!?]{0,40}|obtenir\s+outlook\s+pour\s+(?:ios|android)|enviad[oa]\s+(?:desde|do|de|con)\s+(?:mi|meu|o\s+meu|outlook|yahoo|correo|email)[^,;:!?]{0,40}|obt(?:ener|er\s+o)\s+outlook\s+para\s+(?:ios|android)|(?:verzonden|verstuurd)\s+(?:vanaf|met|van)\s+(?:mijn|outlook|yahoo)[^,;:!?]{0,40}|outlook\s+voor\s+(?:ios|android)\s+downloaden|inviato\s+da(?:l\s+mio)?\s+[^,;:!?]{1,40}|scarica\s+outlook\s+per\s+(?:ios|android)|skickat\s+från\s+(?:min|mitt|outlook|yahoo)[^,;:!?]{0,40}|hämta\s+outlook\s+för\s+(?:ios|android)|sendt\s+fra\s+(?:min|mitt|outlook|yahoo|mail)[^,;:!?]{0,40}|(?:hent|få)\s+outlook\s+til\s+(?:ios|android)|wysłan[oe]\s+z\s+[^,;:!?]{1,40}|pobierz\s+outlook\s+dla\s+(?:ios|android)|odesláno\s+z\s+[^,;:!?]{1,40}|[^\s,.;:!?]{1,30}から送信|从我的\s*[^,，;；:：!?]{1,30}发送|发自我的\s*[^,，;；:：!?]{1,30}|내\s+[^,]{1,30}에서\s+보냄)(?:\s*<[^>]{0,200}>)?\s*[.!]?$",
    )
});

/// Whether a trimmed line is a device/app signature line.
pub(super) fn is_mobile_signature(line: &str) -> bool {
    line.chars().count() <= 90 && is_match(&MOBILE, line)
}

/// A rule line: `-----`, `_____`, `=====` (Outlook dividers, list footers). At least three
/// characters so the `--` signature delimiter is not one.
pub(super) fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() >= 3
        && t.chars()
            .all(|c| matches!(c, '-' | '_' | '=' | '*' | '~' | '‐'..='―') || c.is_whitespace())
}

/// The RFC 3676 signature delimiter `-- `, or `--` because many clients trim the space.
pub(super) fn is_sig_delimiter(line: &str) -> bool {
    line.trim_end() == "--"
}

/// Whether a line names a mailing list, as the first line of a Mailman footer does.
pub(super) fn is_list_footer_title(line: &str) -> bool {
    let t = line.trim().to_lowercase();
    t.ends_with("mailing list") || t.ends_with("mailing-list") || t.ends_with("mailinglijst")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for re in [
            &OPENER_WROTE,
            &DATE_WROTE,
            &DATE_ADDR,
            &ADDR_WROTE,
            &MORE_WROTE,
            &CJK_WROTE,
            &FROM_LABEL,
            &OTHER_LABEL,
            &ORIGINAL,
            &FORWARD,
            &MOBILE,
            &ATTRIBUTION_WORDS,
        ] {
            assert!(re.is_some());
        }
    }
}
