//! Plain-text reply extraction (see the module docs of `strip`).

use super::MAX_LINES;
use super::lang::{
    DIVIDER, FORWARD, FROM_LABEL, MOBILE, OPENER, OTHER_LABEL, SEPARATOR, UNDERSCORES, WROTE_DATED,
    WROTE_OTHER, WROTE_VERB_FIRST, WROTE_VERB_LAST,
};

/// Lines a signature may span at the end of a reply.
const SIGNATURE_LINES: usize = 15;

pub(super) fn reply(text: &str, is_forward: bool) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    let cut = if is_forward {
        None
    } else {
        quote_start(&lines, 0)
    };
    let kept = &lines[..cut.unwrap_or(lines.len())];
    let mut out = without_signature(kept);
    if out.trim().is_empty()
        && let Some(first) = cut
    {
        // The message opens with a marker (a pasted header block, or an attribution with
        // answers interleaved below it): look for the history after it, and keep the opening
        // only when new text follows it.
        let next = quote_start(&lines, first + 1).unwrap_or(lines.len());
        let has_text = lines[first + 1..next]
            .iter()
            .any(|l| !l.trim().is_empty() && !is_quote(l));
        out = if has_text {
            without_signature(&lines[..next])
        } else {
            String::new()
        };
    }
    if out.trim().is_empty() {
        // Nothing new at all: the history is what the sender is handing us.
        out = without_signature(&lines);
    }
    tidy(&out)
}

/// Index of the first line of quoted history at or after `from`, if any; a divider line right
/// above a header block belongs to the history.
fn quote_start(lines: &[&str], from: usize) -> Option<usize> {
    let at = quote_marker(lines, from)?;
    let mut start = at;
    let mut j = at;
    while j > from {
        j -= 1;
        if lines[j].trim().is_empty() {
            continue;
        }
        if DIVIDER.is_match(lines[j]) {
            start = j;
        }
        break;
    }
    Some(start)
}

fn quote_marker(lines: &[&str], from: usize) -> Option<usize> {
    let limit = lines.len().min(MAX_LINES);
    let forward = lines
        .get(from..limit)?
        .iter()
        .position(|l| FORWARD.is_match(l))
        .map(|p| p + from);
    let end = forward.unwrap_or(limit);
    let mut i = from;
    while i < end {
        let line = lines[i];
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        if is_attribution(lines, i) || SEPARATOR.is_match(line) || header_block_at(lines, i) {
            return Some(i);
        }
        if UNDERSCORES.is_match(line)
            && next_nonblank(lines, i + 1).is_some_and(|j| header_block_at(lines, j))
        {
            return Some(i);
        }
        if is_quote(line) {
            let after = trailing_quote_end(lines, i);
            if after.is_none() {
                return Some(i);
            }
            // Interleaved reply: keep it, but a later marker may still start the history.
            i = after.unwrap_or(i + 1);
            continue;
        }
        i += 1;
    }
    None
}

fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// When the quote block starting at `i` is followed by new (non-quote, non-signature) text,
/// the index of that text; `None` when only quotes, blanks and a signature follow.
fn trailing_quote_end(lines: &[&str], i: usize) -> Option<usize> {
    let mut j = i;
    while j < lines.len() && (is_quote(lines[j]) || lines[j].trim().is_empty()) {
        j += 1;
    }
    if j >= lines.len() {
        return None;
    }
    let rest = &lines[j..];
    let substantive = rest.iter().any(|l| !l.trim().is_empty() && !is_quote(l));
    let only_signature =
        rest.len() <= SIGNATURE_LINES && (is_mobile(rest[0]) || is_sig_delimiter(rest[0]));
    if substantive && !only_signature {
        Some(j)
    } else {
        None
    }
}

/// An attribution starting at line `i`, alone or wrapped over up to three lines.
fn is_attribution(lines: &[&str], i: usize) -> bool {
    let first = lines[i];
    if first.chars().count() > 400 {
        return false;
    }
    let mut joined = first.trim_end().to_string();
    if attribution_line(&joined) {
        return true;
    }
    for next in lines.iter().skip(i + 1).take(2) {
        // A blank line ends an attribution; a line that opens one itself means the
        // attribution starts there, not here ("Am heutigen Tage" / "Am So., … schrieb …").
        if next.trim().is_empty() || OPENER.is_match(next) {
            return false;
        }
        // A quoted-printable soft break left undecoded ("w=" + "rote:") joins without space.
        joined = match joined.strip_suffix('=') {
            Some(stripped) => format!("{stripped}{}", next.trim()),
            None => format!("{joined} {}", next.trim()),
        };
        if joined.chars().count() > 500 {
            return false;
        }
        if attribution_line(&joined) {
            return true;
        }
    }
    false
}

fn attribution_line(s: &str) -> bool {
    WROTE_VERB_LAST.is_match(s)
        || WROTE_VERB_FIRST.is_match(s)
        || WROTE_OTHER.is_match(s)
        || WROTE_DATED.is_match(s)
}

/// A `From:` line followed within four non-blank lines by another header label.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    if !FROM_LABEL.is_match(lines[i]) {
        return false;
    }
    lines
        .iter()
        .skip(i + 1)
        .filter(|l| !l.trim().is_empty())
        .take(4)
        .any(|l| OTHER_LABEL.is_match(l) && !FROM_LABEL.is_match(l))
}

fn next_nonblank(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len().min(from + 4)).find(|&j| !lines[j].trim().is_empty())
}

/// A short device line ("Sent from my iPhone"), not prose that starts the same way ("Sent from
/// my desk, is much easier…").
fn is_mobile(line: &str) -> bool {
    line.chars().count() <= 80 && !line.contains(", ") && MOBILE.is_match(line)
}

fn is_sig_delimiter(line: &str) -> bool {
    line == "-- " || line.trim_end() == "--"
}

/// The lines without a trailing mobile or `-- ` signature or divider line.
fn without_signature(lines: &[&str]) -> String {
    let mut end = lines.len();
    while end > 0 && (lines[end - 1].trim().is_empty() || DIVIDER.is_match(lines[end - 1])) {
        end -= 1;
    }
    let start = end.saturating_sub(SIGNATURE_LINES);
    if let Some(pos) = (start..end).rev().find(|&j| is_sig_delimiter(lines[j])) {
        end = pos;
    }
    let start = end.saturating_sub(4);
    if let Some(pos) = (start..end).find(|&j| is_mobile(lines[j])) {
        end = pos;
    }
    lines[..end].join("\n")
}

/// Trailing spaces off each line, no leading or trailing blank lines, at most two blank lines
/// in a row.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blanks = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blanks += 1;
            if blanks > 2 {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}
