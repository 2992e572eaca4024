//! Triage: what a case gets when a request does not say. The session's route gives the
//! defaults; the first triage rule that matches the thread (subject, the customer's text,
//! sender, recipient) overrides them; a request's own classification, sentiment and summary win
//! over both. The summary is extractive: the first sentence of the customer's first message.

use dynamics::Owner;
use serde::Serialize;
use serde_json::{Map, Value};
use store::session::{Direction, Session};
use uuid::Uuid;

use crate::routing::{Policy, Routing};

/// What the case will get (printed by `mailcase triage`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The route's address (`*` for the default).
    pub route: String,
    /// The rule that matched, if any.
    pub rule: Option<String>,
    /// Title's first part.
    pub classification: String,
    /// `prioritycode`.
    pub priority: i64,
    /// Queue.
    pub queue_id: Option<Uuid>,
    /// Owner.
    #[serde(serialize_with = "owner_text")]
    pub owner: Option<Owner>,
    /// Extra incident columns.
    pub ticket_properties: Map<String, Value>,
    /// Handoff policy.
    #[serde(serialize_with = "policy_text")]
    pub policy: Policy,
    /// One-line summary.
    pub summary: Option<String>,
    /// Sentiment, when a request or Comprehend gave one.
    pub sentiment: Option<String>,
}

fn owner_text<S: serde::Serializer>(o: &Option<Owner>, s: S) -> Result<S::Ok, S::Error> {
    match o {
        Some(Owner::User(id)) => s.serialize_str(&format!("systemusers({id})")),
        Some(Owner::Team(id)) => s.serialize_str(&format!("teams({id})")),
        None => s.serialize_none(),
    }
}

fn policy_text<S: serde::Serializer>(p: &Policy, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

/// The classification when nothing else gives one.
pub const DEFAULT_CLASSIFICATION: &str = "Support";

/// Decide from the session and the routing in force (no request, no sentiment).
pub fn decide(routing: &Routing, session: &Session) -> Decision {
    let route = match &session.route {
        Some(a) => routing.route_named(a),
        None => routing.route_for(&session.recipients),
    };
    let inbound: Vec<&str> = session
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound)
        .map(|m| m.reply_text.as_str())
        .collect();
    let body = inbound.join("\n");
    let sender = session
        .customer
        .as_ref()
        .map(|c| c.address.as_str())
        .unwrap_or("");
    let matches = |re: &Option<regex::Regex>, texts: &[&str]| {
        re.as_ref()
            .is_none_or(|re| texts.iter().any(|t| re.is_match(t)))
    };
    let recipients: Vec<&str> = session.recipients.iter().map(String::as_str).collect();
    let rule = routing.rules().iter().find(|r| {
        matches(&r.subject, &[session.subject.as_str()])
            && matches(&r.body, &[body.as_str()])
            && matches(&r.sender, &[sender])
            && (r.recipient.is_none() || matches(&r.recipient, &recipients))
    });
    let set = rule.map(|r| r.set.clone()).unwrap_or_default();
    Decision {
        route: route.address.clone(),
        rule: rule.map(|r| r.name.clone()),
        classification: set
            .classification
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| route.classification.clone())
            .unwrap_or_else(|| DEFAULT_CLASSIFICATION.into()),
        priority: set.priority.unwrap_or(route.priority),
        queue_id: set.queue_id.or(route.queue_id),
        owner: set.owner.or(route.owner),
        ticket_properties: set
            .ticket_properties
            .unwrap_or_else(|| route.ticket_properties.clone()),
        policy: set.policy.unwrap_or(route.policy),
        summary: inbound.first().and_then(|t| summary(t)),
        sentiment: None,
    }
}

/// Greeting lines a summary skips ("Hi team,", "Hallo zusammen", "Dear Sir or Madam,").
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "hallo",
    "guten tag",
    "liebe",
    "lieber",
    "sehr geehrte",
    "bonjour",
    "salut",
    "madame",
    "monsieur",
    "hola",
    "buenos días",
    "buenas",
    "estimado",
    "estimada",
    "olá",
    "oi",
    "bom dia",
    "ciao",
    "buongiorno",
    "gentile",
    "hej",
    "hei",
    "goedemorgen",
    "beste",
    "dzień dobry",
    "witam",
    "здравствуйте",
    "добрый день",
    "привіт",
];

/// A short extractive one-liner: the first sentence of `text` that is not a greeting, at most
/// 160 characters cut at a word.
pub fn summary(text: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines.next()?;
    let lower = first.to_lowercase();
    let greeting = GREETINGS.iter().any(|g| {
        lower.starts_with(g)
            && lower[g.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    });
    if greeting && first.chars().count() <= 60 {
        // "Hi team, the invoice is wrong." keeps what follows the greeting.
        match first.split_once([',', '!']) {
            Some((_, rest)) if rest.trim().chars().count() > 3 => first = rest.trim(),
            _ => first = lines.next()?,
        }
    }
    let flat: String = std::iter::once(first)
        .chain(lines)
        .collect::<Vec<_>>()
        .join(" ");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    // The first sentence, unless it is very short ("Help!"), then also the next.
    let mut end = flat.len();
    let mut count = 0;
    let mut complete = false;
    for (i, c) in flat.char_indices() {
        if matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
            && flat[i + c.len_utf8()..].starts_with(|n: char| n.is_whitespace())
        {
            count += 1;
            end = i + c.len_utf8();
            if flat[..end].chars().count() >= 20 || count >= 2 {
                complete = true;
                break;
            }
        }
    }
    if !complete {
        end = flat.len();
    }
    let sentence = flat[..end].trim();
    const MAX: usize = 160;
    if sentence.chars().count() <= MAX {
        return Some(sentence.to_string()).filter(|s| !s.is_empty());
    }
    let cut: String = sentence.chars().take(MAX - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > MAX / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    Some(format!("{}…", cut.trim_end_matches([',', ';', ':', ' '])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_the_first_sentence_without_the_greeting() {
        assert_eq!(
            summary("Hi team,\n\nmy order 1042 arrived damaged. The box was crushed.\n\nAna")
                .as_deref(),
            Some("my order 1042 arrived damaged.")
        );
        assert_eq!(
            summary("Hello, the invoice INV-9 is wrong! Please fix it.").as_deref(),
            Some("the invoice INV-9 is wrong!")
        );
        assert_eq!(
            summary("Help! Nothing works since the update.").as_deref(),
            Some("Help! Nothing works since the update.")
        );
        assert_eq!(summary("   \n  "), None);
        let long = "word ".repeat(100);
        let s = summary(&long).unwrap_or_default();
        assert!(s.chars().count() <= 160 && s.ends_with('…'), "{s}");
        assert_eq!(
            summary("Sehr geehrte Damen und Herren,\nmeine Rechnung ist falsch.").as_deref(),
            Some("meine Rechnung ist falsch.")
        );
    }
}
