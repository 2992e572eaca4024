//! The flood breaker: a sender that opens more than `FLOOD_SESSIONS` new threads in its window
//! (default 10 in 10 minutes), or sends the same text `FLOOD_SAME_BODY` times in its window
//! (default 3 in an hour) — a broken autoresponder without RFC 3834 headers, a script — is
//! marked `flood`. Its mail is still stored, but gets no acknowledgement and no automatic
//! handoff; a manual handoff still works. One `Mail Not Filed` event (disposition `flood`) and
//! one log line say when it trips.

use serde::{Deserialize, Serialize};
use store::layout;
use store::sessions::Sessions;
use store::{ObjectStore, StoreError, Update};

/// Limits: at most `count` in `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// How many are allowed (more new sessions / this many identical bodies trip it).
    pub count: usize,
    /// Window in seconds.
    pub window: i64,
}

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimits {
    /// New sessions per sender (`FLOOD_SESSIONS`, default `10/10m`): more trips it.
    pub sessions: Option<Limit>,
    /// Identical bodies per sender (`FLOOD_SAME_BODY`, default `3/1h`): this many trips it.
    pub same_body: Option<Limit>,
}

impl Default for FloodLimits {
    fn default() -> Self {
        FloodLimits {
            sessions: Some(Limit {
                count: 10,
                window: 600,
            }),
            same_body: Some(Limit {
                count: 3,
                window: 3600,
            }),
        }
    }
}

/// Parse `<count>/<N>s|m|h` or `off`.
pub fn parse_limit(name: &str, v: &str) -> Result<Option<Limit>, String> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || format!("{name} must be <count>/<N>s|m|h (e.g. 10/10m) or off (got `{v}`)");
    let (count, window) = v.split_once('/').ok_or_else(bad)?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    let window = match crate::routing::Policy::parse(&format!("quiet:{}", window.trim())) {
        Ok(crate::routing::Policy::Quiet(s)) => s as i64,
        _ => return Err(bad()),
    };
    if count == 0 {
        return Err(bad());
    }
    Ok(Some(Limit { count, window }))
}

impl FloodLimits {
    /// Read `FLOOD_SESSIONS` and `FLOOD_SAME_BODY` through `get` (defaults when unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<FloodLimits, String> {
        let mut out = FloodLimits::default();
        if let Some(v) = get("FLOOD_SESSIONS").filter(|v| !v.trim().is_empty()) {
            out.sessions = parse_limit("FLOOD_SESSIONS", &v)?;
        }
        if let Some(v) = get("FLOOD_SAME_BODY").filter(|v| !v.trim().is_empty()) {
            out.same_body = parse_limit("FLOOD_SAME_BODY", &v)?;
        }
        Ok(out)
    }
}

/// What the store keeps per sender (`index/sender/<sha256>.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderRecord {
    /// Creation times of the sender's recent new sessions.
    #[serde(default)]
    pub sessions: Vec<i64>,
    /// (digest of the text, time) of the sender's recent messages.
    #[serde(default)]
    pub bodies: Vec<(String, i64)>,
    /// Since when the sender floods (while the limits stay exceeded).
    #[serde(default)]
    pub flood_since: Option<i64>,
}

/// The verdict for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The sender floods: mark the mail.
    pub flood: bool,
    /// This message tripped the breaker (announce once).
    pub tripped: bool,
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Count one message of `sender` (a new session or not) and say whether it floods.
pub async fn record<O: ObjectStore>(
    sessions: &Sessions<O>,
    limits: &FloodLimits,
    sender: &str,
    new_session: bool,
    text: &str,
    at: i64,
) -> Result<Verdict, StoreError> {
    if sender.is_empty() || (limits.sessions.is_none() && limits.same_body.is_none()) {
        return Ok(Verdict {
            flood: false,
            tripped: false,
        });
    }
    let body = normalise(text);
    let body = (!body.is_empty()).then(|| store::ids::sha256_hex(&body)[..32].to_string());
    let limits = *limits;
    store::update_json(
        sessions.objects(),
        &layout::sender_index(sender),
        store::sessions::UPDATE_ATTEMPTS,
        move |cur: Option<SenderRecord>| {
            let mut r = cur.unwrap_or_default();
            let keep = |t: i64, l: Option<Limit>| l.is_some_and(|l| at - t < l.window);
            r.sessions.retain(|t| keep(*t, limits.sessions));
            r.bodies.retain(|(_, t)| keep(*t, limits.same_body));
            if new_session && limits.sessions.is_some() {
                r.sessions.push(at);
            }
            if let (Some(b), Some(_)) = (&body, limits.same_body) {
                r.bodies.push((b.clone(), at));
            }
            let too_many = limits.sessions.is_some_and(|l| r.sessions.len() > l.count);
            let same = body.as_ref().is_some_and(|b| {
                limits
                    .same_body
                    .is_some_and(|l| r.bodies.iter().filter(|(d, _)| d == b).count() >= l.count)
            });
            let flood = too_many || same;
            let tripped = flood && r.flood_since.is_none();
            r.flood_since = if flood {
                r.flood_since.or(Some(at))
            } else {
                None
            };
            // Bounded: a flood of thousands keeps only what the windows need.
            if r.bodies.len() > 500 {
                let cut = r.bodies.len() - 500;
                r.bodies.drain(..cut);
            }
            if r.sessions.len() > 500 {
                let cut = r.sessions.len() - 500;
                r.sessions.drain(..cut);
            }
            Update::Write(r, Verdict { flood, tripped })
        },
    )
    .await
}

/// True while `sender` floods (read at automatic handoff time).
pub async fn flooding<O: ObjectStore>(
    sessions: &Sessions<O>,
    sender: &str,
) -> Result<bool, StoreError> {
    Ok(sessions
        .get_json::<SenderRecord>(&layout::sender_index(sender))
        .await?
        .is_some_and(|r| r.flood_since.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryObjectStore;

    #[test]
    fn limits_parse() {
        assert_eq!(
            parse_limit("X", "10/10m"),
            Ok(Some(Limit {
                count: 10,
                window: 600
            }))
        );
        assert_eq!(parse_limit("X", "off"), Ok(None));
        assert!(parse_limit("X", "10").is_err());
        assert!(parse_limit("X", "0/1h").is_err());
        assert!(parse_limit("X", "3/1x").is_err());
    }

    #[tokio::test]
    async fn the_same_text_three_times_or_eleven_threads_trip_it_once() {
        let s = Sessions::new(MemoryObjectStore::default());
        let l = FloodLimits::default();
        let mut verdicts = Vec::new();
        for i in 0..4 {
            verdicts.push(
                record(
                    &s,
                    &l,
                    "bot@x.example",
                    i == 0,
                    "I am away  until Monday",
                    100 + i,
                )
                .await
                .expect("record"),
            );
        }
        assert_eq!(
            verdicts
                .iter()
                .map(|v| (v.flood, v.tripped))
                .collect::<Vec<_>>(),
            vec![(false, false), (false, false), (true, true), (true, false)]
        );
        let s = Sessions::new(MemoryObjectStore::default());
        let mut tripped = 0;
        for i in 0..12 {
            let v = record(
                &s,
                &l,
                "script@x.example",
                true,
                &format!("ticket {i}"),
                1000 + i,
            )
            .await
            .expect("record");
            assert_eq!(v.flood, i >= 10, "{i}");
            tripped += usize::from(v.tripped);
        }
        assert_eq!(tripped, 1);
        assert!(flooding(&s, "script@x.example").await.expect("read"));
        // After the windows pass, the sender is welcome again.
        let v = record(&s, &l, "script@x.example", true, "hello", 1000 + 4000)
            .await
            .expect("record");
        assert!(!v.flood);
    }
}
