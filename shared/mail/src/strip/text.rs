//! Plain-text reply extraction: find where quoted history starts, keep inline answers, drop
//! signatures.

use super::lang;

/// Only the first lines are searched for quote headers and quote blocks: history always starts
/// near the top, and this bounds the work on multi-megabyte bodies.
pub(super) const MAX_SCAN_LINES: usize = 5000;

/// How far below a `From:` line the rest of an Outlook header block may appear.
const HEADER_BLOCK_LINES: usize = 10;

/// Lines an attribution may be wrapped over (German Gmail: name, address, "schrieb am Fr., 28."
/// then "Apr. 2017 um 11:53 Uhr:"; narrow clients break date and address further).
const MAX_WRAP_LINES: usize = 5;

/// A `--` (without the space) only counts as a signature delimiter when this few lines follow.
const MAX_LOOSE_SIG_LINES: usize = 15;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Blank,
    Quote,
    Text,
}

/// Where quoted history, or a forwarded message, starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Splitter {
    /// `On … wrote:` spanning this many lines.
    Wrote(usize),
    /// Outlook `From:/Sent:/To:/Subject:` block of this many lines.
    Header(usize),
    /// `-----Original Message-----` (plus a directly following header block), this many lines.
    Original(usize),
    /// A forward banner: everything below is content the sender passes on.
    Forward,
}

impl Splitter {
    fn len(self) -> usize {
        match self {
            Splitter::Wrote(n) | Splitter::Header(n) | Splitter::Original(n) => n,
            Splitter::Forward => 1,
        }
    }
}

/// A run of lines from the first quote on: a `>` block (with its attribution line, if any), an
/// unquoted run, or a non-quote splitter that ends the analysed region.
#[derive(Clone, Copy, Debug)]
enum Seg {
    Quote { attributed: bool },
    Text { start: usize, end: usize },
    Stop,
}

struct Doc<'a> {
    lines: Vec<&'a str>,
    kinds: Vec<Kind>,
    splitters: Vec<Option<Splitter>>,
    scan: usize,
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text.split('\n').collect();
        let scan = lines.len().min(MAX_SCAN_LINES);
        let mut kinds = Vec::with_capacity(scan);
        for (i, line) in lines.iter().take(scan).enumerate() {
            let t = line.trim();
            let kind = if t.is_empty() {
                Kind::Blank
            } else if lang::is_quote_line(t) || is_soft_break_debris(&lines, &kinds, i) {
                Kind::Quote
            } else {
                Kind::Text
            };
            kinds.push(kind);
        }
        let mut doc = Doc {
            lines,
            kinds,
            splitters: Vec::new(),
            scan,
        };
        doc.splitters = (0..scan).map(|i| doc.splitter_at(i)).collect();
        doc
    }

    fn kind(&self, i: usize) -> Kind {
        self.kinds.get(i).copied().unwrap_or(Kind::Text)
    }

    fn line(&self, i: usize) -> &'a str {
        self.lines.get(i).copied().unwrap_or("")
    }

    fn splitter(&self, i: usize) -> Option<Splitter> {
        self.splitters.get(i).copied().flatten()
    }

    fn splitter_at(&self, i: usize) -> Option<Splitter> {
        if self.kind(i) != Kind::Text {
            return None;
        }
        let t = self.line(i).trim();
        if t.len() > lang::MAX_HEADER_LINE {
            return None;
        }
        if lang::is_forward_marker(t) {
            return Some(Splitter::Forward);
        }
        if lang::is_original_marker(t) {
            let block = self.header_block(i + 1).unwrap_or(0);
            return Some(Splitter::Original(1 + block));
        }
        if let Some(n) = self.header_block(i) {
            return Some(Splitter::Header(n));
        }
        self.wrote_window(i).map(Splitter::Wrote)
    }

    /// An Outlook header block starting at `i`: a `From:` line and more label lines before the
    /// next blank line. A lone "Von: …" in prose is not a block.
    fn header_block(&self, i: usize) -> Option<usize> {
        if i >= self.scan || self.kind(i) != Kind::Text {
            return None;
        }
        let first = self.line(i).trim();
        if first.len() > lang::MAX_HEADER_LINE || !lang::is_from_label(first) {
            return None;
        }
        let mut others = 0;
        let mut j = i + 1;
        while j < self.scan && j < i + HEADER_BLOCK_LINES && self.kind(j) == Kind::Text {
            let t = self.line(j).trim();
            if t.len() <= lang::MAX_HEADER_LINE && lang::is_other_label(t) {
                others += 1;
            }
            j += 1;
        }
        // Real blocks have three or more labels, or name an address; "From: 10 March" /
        // "To: 15 March" in a vacation notice is prose.
        (others >= 2 || (others == 1 && first.contains('@'))).then_some(j - i)
    }

    /// A reply attribution starting at `i`, possibly wrapped over up to [`MAX_WRAP_LINES`]
    /// lines (Gmail wraps long names, addresses and localized dates; undecoded
    /// quoted-printable splits words with `=`). A window is only tried when its last line ends
    /// like an attribution (a colon, or a decoration), so most lines cost no regex at all.
    fn wrote_window(&self, i: usize) -> Option<usize> {
        let closes = |t: &str| t.ends_with([':', '：', '-', '=', '*', '‐', '–', '—']);
        // Cheap pre-check: some line of the window must end like an attribution.
        let any_close = (i..(i + MAX_WRAP_LINES).min(self.scan))
            .take_while(|&j| self.kind(j) == Kind::Text)
            .any(|j| closes(self.line(j).trim()));
        if !any_close {
            return None;
        }
        let first = self.line(i).trim();
        let first_has_date = first.chars().any(|c| c.is_ascii_digit());
        let mut joined = String::new();
        let mut after_dot = false;
        for n in 1..=MAX_WRAP_LINES {
            let j = i + n - 1;
            if j >= self.scan || self.kind(j) != Kind::Text {
                return None;
            }
            let t = self.line(j).trim();
            if t.len() > lang::MAX_HEADER_LINE {
                return None;
            }
            if n > 1 {
                // A wrapped header continues a line that is not a finished sentence and whose
                // first line carries the date; this keeps "Am heutigen Tage" out of a header
                // that starts on the next line. A date abbreviation ("28.", "Apr.", "Fr.")
                // is not the end of a sentence.
                if !first_has_date || ends_sentence(&joined) {
                    return None;
                }
                after_dot |= joined.ends_with('.');
                if let Some(stripped) = joined.strip_suffix('=') {
                    joined.truncate(stripped.len());
                } else {
                    joined.push(' ');
                }
            }
            joined.push_str(t);
            let found = if closes(t) {
                lang::attribution(&joined, first_has_date)
            } else {
                lang::Attribution::No
            };
            if found == lang::Attribution::IfQuoted && !self.next_non_blank_is_quote(j + 1) {
                return None;
            }
            if found != lang::Attribution::No {
                // A line ending in "28." may be the sender's own text ("… at 10."): when the
                // lines below it already form the attribution, it is not part of it.
                if after_dot && self.wrote_window(i + 1).is_some_and(|m| m == n - 1) {
                    return None;
                }
                return Some(n);
            }
        }
        None
    }

    fn has_content(&self, from: usize, to: usize) -> bool {
        (from..to.min(self.lines.len())).any(|i| is_content_line(self.line(i)))
    }

    fn first_event(&self, from: usize) -> Option<usize> {
        (from..self.scan).find(|&i| self.kind(i) == Kind::Quote || self.splitter(i).is_some())
    }

    fn next_non_blank_is_quote(&self, from: usize) -> bool {
        (from..self.scan)
            .map(|j| self.kind(j))
            .find(|k| *k != Kind::Blank)
            .is_some_and(|k| k == Kind::Quote)
    }

    /// Segments from `start` (the first quote or its attribution) to the end of the scan.
    fn segments(&self, start: usize) -> Vec<Seg> {
        let mut segs = Vec::new();
        let mut attributed = false;
        let mut i = start;
        while i < self.scan {
            match self.kind(i) {
                Kind::Blank => i += 1,
                Kind::Quote => {
                    while i < self.scan && self.kind(i) != Kind::Text {
                        i += 1;
                    }
                    segs.push(Seg::Quote { attributed });
                    attributed = false;
                }
                Kind::Text => match self.splitter(i) {
                    Some(Splitter::Wrote(n)) if self.next_non_blank_is_quote(i + n) => {
                        attributed = true;
                        i += n;
                    }
                    Some(_) => {
                        segs.push(Seg::Stop);
                        break;
                    }
                    None => {
                        let s = i;
                        i += 1;
                        while i < self.scan
                            && self.kind(i) != Kind::Quote
                            && self.splitter(i).is_none()
                        {
                            i += 1;
                        }
                        segs.push(Seg::Text { start: s, end: i });
                    }
                },
            }
        }
        segs
    }

    /// An unquoted run below a quote that is really an answer, not a footer or signature.
    fn is_answer(&self, start: usize, end: usize) -> bool {
        let first = (start..end)
            .map(|i| self.line(i))
            .find(|l| !l.trim().is_empty());
        let Some(first) = first else { return false };
        if lang::is_sig_delimiter(first) || lang::is_separator(first) {
            return false;
        }
        (start..end).any(|i| {
            let l = self.line(i).trim();
            is_content_line(l) && !lang::is_mobile_signature(l)
        })
    }
}

/// A quoted-printable soft break (`=` at the end) that was never decoded leaves the rest of a
/// quoted line unquoted on the next line ("Wednesda=" / "y"); that rest is still quote.
fn is_soft_break_debris(lines: &[&str], kinds: &[Kind], i: usize) -> bool {
    i > 0
        && kinds.get(i - 1) == Some(&Kind::Quote)
        && lines
            .get(i - 1)
            .is_some_and(|p| p.trim_end().ends_with('='))
        && lines.get(i).is_some_and(|l| l.trim().chars().count() <= 40)
}

/// Whether joined attribution text ends a sentence: `!`, `?`, or a `.` after a word longer
/// than a date abbreviation (`28.`, `Apr.`, `ven.`, `2017.` are not ends).
fn ends_sentence(joined: &str) -> bool {
    if joined.ends_with(['!', '?']) {
        return true;
    }
    let Some(word) = joined.strip_suffix('.') else {
        return false;
    };
    let last = word.rsplit(char::is_whitespace).next().unwrap_or(word);
    let last = last.trim_start_matches(|c: char| !c.is_alphanumeric());
    last.chars().count() > 4 || last.is_empty()
}

/// A line that carries words, not only punctuation or a lone letter.
fn is_content_line(line: &str) -> bool {
    line.chars().filter(|c| c.is_alphanumeric()).take(2).count() >= 2
}

/// Lines of the new text in `text` (LF-normalised); empty when nothing new remains.
pub(super) fn reply_lines(text: &str) -> Vec<&str> {
    let doc = Doc::new(text);
    let Some(mut event) = doc.first_event(0) else {
        return finish(doc.lines);
    };
    if doc.splitter(event) == Some(Splitter::Forward) {
        return finish_forward(doc.lines);
    }
    // A body that opens with a header block (pasted, or forwarded without comment) keeps that
    // block as content; the history starts at the next marker below it.
    if !doc.has_content(0, event)
        && let Some(sp) = doc.splitter(event)
        && !matches!(sp, Splitter::Wrote(n) if doc.next_non_blank_is_quote(event + n))
    {
        match doc.first_event(event + sp.len()) {
            Some(next) if doc.splitter(next) == Some(Splitter::Forward) => {
                return finish_forward(doc.lines);
            }
            Some(next) => event = next,
            None => return finish(doc.lines),
        }
    }
    let top_content = doc.has_content(0, event);
    let segs = doc.segments(event);
    let mut answers: Vec<(usize, usize)> = Vec::new();
    let mut sandwiched = false;
    let mut own_quote_answered = false;
    let mut quotes_seen = 0;
    let mut quotes_before_last_answer = 0;
    for (k, seg) in segs.iter().enumerate() {
        match *seg {
            Seg::Quote { .. } => quotes_seen += 1,
            Seg::Stop => break,
            Seg::Text { start, end } => {
                let next = segs.get(k + 1);
                // Text followed by another header is more history (Apple-style unquoted
                // replies), not an answer.
                if matches!(next, Some(Seg::Stop)) || !doc.is_answer(start, end) {
                    continue;
                }
                if matches!(next, Some(Seg::Quote { .. })) && quotes_seen > 0 {
                    sandwiched = true;
                }
                let prev = k.checked_sub(1).and_then(|p| segs.get(p));
                if matches!(prev, Some(Seg::Quote { attributed: false })) {
                    own_quote_answered = true;
                }
                quotes_before_last_answer = quotes_seen;
                answers.push((start, end));
            }
        }
    }
    // Inline answers count when they sit between quotes, answer a quote the sender cut by hand
    // (no "On … wrote:" above it), or when nothing was written above the first quote.
    let inline = sandwiched || own_quote_answered || (!top_content && !answers.is_empty());
    let kept = match (inline, answers.first(), answers.last()) {
        (true, Some(&(first, _)), Some(&(_, last))) => {
            if !top_content && quotes_before_last_answer == 1 {
                // Bottom-posting: one quote, then the answer; the answer alone is the reply.
                doc.lines.get(first..last)
            } else {
                // Interleaved answers keep the quotes they answer, or they make no sense.
                doc.lines.get(..last)
            }
        }
        _ => doc.lines.get(..event),
    };
    finish(kept.unwrap_or_default().to_vec())
}

/// Drops what trails the new text: `-- ` signatures, list footers, device lines, rules.
fn finish(mut lines: Vec<&str>) -> Vec<&str> {
    trim_trailing(&mut lines);
    let first_content = lines.iter().position(|l| is_content_line(l)).unwrap_or(0);
    // First line from which at most MAX_LOOSE_SIG_LINES non-blank lines follow.
    let mut loose_from = lines.len();
    let mut below = 0;
    while loose_from > 0 {
        let above = lines
            .get(loose_from - 1)
            .is_some_and(|l| !l.trim().is_empty());
        if above && below == MAX_LOOSE_SIG_LINES + 1 {
            break;
        }
        loose_from -= 1;
        below += usize::from(above);
    }
    let sig = (first_content + 1..lines.len()).find(|&i| {
        let Some(l) = lines.get(i) else { return false };
        l.strip_prefix("-- ")
            .is_some_and(|rest| rest.trim().is_empty())
            || (i >= loose_from && lang::is_sig_delimiter(l))
    });
    if let Some(i) = sig {
        lines.truncate(i);
    }
    // Mailman-style footer near the end: a rule, then "<list> mailing list".
    let tail_from = lines.len().saturating_sub(8);
    let footer = (tail_from..lines.len()).find(|&i| {
        lines.get(i).is_some_and(|l| lang::is_separator(l))
            && lines
                .iter()
                .skip(i + 1)
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| lang::is_list_footer_title(l))
    });
    if let Some(i) = footer {
        lines.truncate(i);
    }
    loop {
        trim_trailing(&mut lines);
        match lines.last() {
            Some(l) if lang::is_mobile_signature(l.trim()) => {
                lines.pop();
            }
            _ => break,
        }
    }
    lines
}

/// A forward is kept whole, signatures above the forwarded block included (cutting at a
/// `-- ` there would drop the forward); only trailing device lines and rules go.
pub(super) fn finish_forward(mut lines: Vec<&str>) -> Vec<&str> {
    loop {
        trim_trailing(&mut lines);
        match lines.last() {
            Some(l) if lang::is_mobile_signature(l.trim()) => {
                lines.pop();
            }
            _ => return lines,
        }
    }
}

fn trim_trailing(lines: &mut Vec<&str>) {
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || lang::is_separator(l) || lang::is_sig_delimiter(l))
    {
        lines.pop();
    }
}
