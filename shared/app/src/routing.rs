//! The routing document: per support address a queue, owner, priority, `ticket_properties`,
//! default classification and handoff policy, plus ordered triage rules.
//!
//! ```json
//! {"routes": [{"address": "billing@acme.com", "queue_id": "…", "owner_id": "…", "priority": 1,
//!              "ticket_properties": {"casetypecode": 2}, "classification": "Billing",
//!              "policy": "immediate"},
//!             {"address": "*", "queue_id": "…", "policy": "quiet:5m"}],
//!  "rules": [{"name": "refunds", "when": {"subject": "(?i)refund|chargeback"},
//!             "set": {"classification": "Refund", "priority": 1}}]}
//! ```
//!
//! The `*` route is the default; what it does not set comes from the `DEFAULT_*` settings and
//! `HANDOFF_POLICY`, and what any other route does not set comes from `*`. Without a document,
//! the `*` route is just those settings. Every mistake is refused with its place
//! (`routes[1].policy`) and the reason, so nothing is ever filed under a wrong route.

use std::fmt;

use dynamics::Owner;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::handoff::Settings;

/// When a session is handed off without a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Only a handoff request creates a case.
    Manual,
    /// The first customer message of a new session queues its handoff.
    Immediate,
    /// Hand off once the thread has had no customer mail for this many seconds.
    Quiet(u64),
}

impl Policy {
    /// Parse `manual`, `immediate` or `quiet:<N>s|m|h` (e.g. `quiet:90s`, `quiet:5m`).
    pub fn parse(s: &str) -> Result<Policy, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "manual" => return Ok(Policy::Manual),
            "immediate" => return Ok(Policy::Immediate),
            _ => {}
        }
        let bad = || {
            format!(
                "`{s}` is not a policy: use manual, immediate or quiet:<N>s|m|h (e.g. quiet:5m)"
            )
        };
        let spec = s.strip_prefix("quiet:").ok_or_else(bad)?;
        let (digits, unit) = spec.split_at(spec.len().saturating_sub(1));
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let secs = match unit {
            "s" => n,
            "m" => n.saturating_mul(60),
            "h" => n.saturating_mul(3600),
            _ => return Err(bad()),
        };
        if secs == 0 || secs > 7 * 86_400 {
            return Err(format!(
                "`{s}`: the quiet period must be between 1 second and 7 days"
            ));
        }
        Ok(Policy::Quiet(secs))
    }

    /// True for the policies that hand off without a request.
    pub fn is_automatic(self) -> bool {
        self != Policy::Manual
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Manual => f.write_str("manual"),
            Policy::Immediate => f.write_str("immediate"),
            Policy::Quiet(s) if s % 3600 == 0 => write!(f, "quiet:{}h", s / 3600),
            Policy::Quiet(s) if s % 60 == 0 => write!(f, "quiet:{}m", s / 60),
            Policy::Quiet(s) => write!(f, "quiet:{s}s"),
        }
    }
}

/// One support address and what its cases get.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The support address, lower-cased, or `*`.
    pub address: String,
    /// Queue the case is added to.
    pub queue_id: Option<Uuid>,
    /// Owner (user or team).
    pub owner: Option<Owner>,
    /// `prioritycode` option value.
    pub priority: i64,
    /// Extra incident columns.
    pub ticket_properties: Map<String, Value>,
    /// Classification when neither a request nor a rule gives one.
    pub classification: Option<String>,
    /// Handoff policy.
    pub policy: Policy,
}

/// What a matching rule sets; `None` keeps the route's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    /// Classification.
    pub classification: Option<String>,
    /// Priority.
    pub priority: Option<i64>,
    /// Queue.
    pub queue_id: Option<Uuid>,
    /// Owner.
    pub owner: Option<Owner>,
    /// Ticket properties (replace the route's).
    pub ticket_properties: Option<Map<String, Value>>,
    /// Policy.
    pub policy: Option<Policy>,
}

/// A triage rule: every condition given must match (regular expressions, searched anywhere).
#[derive(Debug, Clone)]
pub struct Rule {
    /// Name, shown by `mailcase triage` (default `rules[<i>]`).
    pub name: String,
    /// On the thread's first subject.
    pub subject: Option<Regex>,
    /// On the customer's reply texts.
    pub body: Option<Regex>,
    /// On the customer's address.
    pub sender: Option<Regex>,
    /// On any address the first message was written or delivered to.
    pub recipient: Option<Regex>,
    /// What it sets.
    pub set: RuleSet,
}

/// The routes and rules in force.
#[derive(Debug, Clone)]
pub struct Routing {
    routes: Vec<Route>,
    default: Route,
    rules: Vec<Rule>,
}

impl Default for Routing {
    /// No document and no settings: one `*` route, manual, priority 2.
    fn default() -> Self {
        Routing::from_settings(&Settings::default(), Policy::Manual)
    }
}

/// A routing document that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing document, {place}: {reason}")]
pub struct RoutingError {
    /// e.g. `routes[1].policy`, or `line 3 column 7` for a syntax error.
    pub place: String,
    /// What is wrong and what is expected.
    pub reason: String,
}

fn err(place: impl Into<String>, reason: impl Into<String>) -> RoutingError {
    RoutingError {
        place: place.into(),
        reason: reason.into(),
    }
}

/// Where the routing document comes from (`ROUTING`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No document: the `DEFAULT_*` settings are the `*` route.
    None,
    /// The JSON document itself.
    Inline(String),
    /// An S3 object holding it.
    S3 {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
}

impl Source {
    /// Read `ROUTING`: empty, a JSON document, or `s3://bucket/key`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Source, RoutingError> {
        let Some(v) = get("ROUTING")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        else {
            return Ok(Source::None);
        };
        if let Some(rest) = v.strip_prefix("s3://") {
            return match rest.split_once('/') {
                Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok(Source::S3 {
                    bucket: b.to_string(),
                    key: k.to_string(),
                }),
                _ => Err(err(
                    "ROUTING",
                    format!("`{v}` must name an object as s3://bucket/key"),
                )),
            };
        }
        if v.starts_with('{') {
            return Ok(Source::Inline(v));
        }
        Err(err(
            "ROUTING",
            "must hold the JSON document itself ({\"routes\": [...]}) or s3://bucket/key naming an object",
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocRaw {
    #[serde(default)]
    routes: Vec<RouteRaw>,
    #[serde(default)]
    rules: Vec<RuleRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteRaw {
    address: String,
    #[serde(default)]
    queue_id: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    ticket_properties: Option<Map<String, Value>>,
    #[serde(default)]
    classification: Option<String>,
    #[serde(default)]
    policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRaw {
    #[serde(default)]
    name: Option<String>,
    when: WhenRaw,
    set: SetRaw,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenRaw {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    recipient: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRaw {
    #[serde(default)]
    classification: Option<String>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    queue_id: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    ticket_properties: Option<Map<String, Value>>,
    #[serde(default)]
    policy: Option<String>,
}

fn queue_at(place: String, v: Option<String>) -> Result<Option<Uuid>, RoutingError> {
    v.map(|q| {
        Uuid::parse_str(q.trim()).map_err(|_| err(place, format!("`{q}` is not a queue GUID")))
    })
    .transpose()
}

fn owner_at(place: String, v: Option<String>) -> Result<Option<Owner>, RoutingError> {
    v.map(|o| {
        Owner::parse(&o).ok_or_else(|| {
            err(
                place,
                format!("`{o}` is not a user GUID, systemusers(<guid>) or teams(<guid>)"),
            )
        })
    })
    .transpose()
}

fn policy_at(place: String, v: Option<String>) -> Result<Option<Policy>, RoutingError> {
    v.map(|p| Policy::parse(&p).map_err(|r| err(place, r)))
        .transpose()
}

fn regex_at(place: String, v: Option<String>) -> Result<Option<Regex>, RoutingError> {
    v.map(|r| {
        regex::RegexBuilder::new(&r)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let first = e.to_string();
                let last = first.lines().last().unwrap_or("").trim().to_string();
                err(
                    place,
                    format!("`{r}` is not a valid regular expression: {last}"),
                )
            })
    })
    .transpose()
}

fn address_at(place: String, a: &str) -> Result<String, RoutingError> {
    let a = a.trim();
    if a == "*" {
        return Ok("*".into());
    }
    let n = mail::normalise_address(a);
    if !mail::compose::is_plain_address(&n) {
        return Err(err(
            place,
            format!(
                "`{a}` is not a plain address such as billing@acme.com (or `*` for the default route)"
            ),
        ));
    }
    Ok(n)
}

impl Routing {
    /// No document: the `DEFAULT_*` settings and `HANDOFF_POLICY` are the `*` route.
    pub fn from_settings(settings: &Settings, policy: Policy) -> Routing {
        Routing {
            routes: Vec::new(),
            default: Route {
                address: "*".into(),
                queue_id: settings.queue_id,
                owner: settings.owner,
                priority: settings.priority.unwrap_or(2),
                ticket_properties: settings.ticket_properties.clone(),
                classification: None,
                policy,
            },
            rules: Vec::new(),
        }
    }

    /// Parse a document over the defaults (`DEFAULT_*` settings, `HANDOFF_POLICY`).
    pub fn parse(text: &str, settings: &Settings, policy: Policy) -> Result<Routing, RoutingError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let doc: DocRaw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.inner();
            let place = if path == "." || path.is_empty() || inner.is_syntax() || inner.is_eof() {
                format!("line {} column {}", inner.line(), inner.column())
            } else {
                path
            };
            // serde_json appends " at line L column C"; the place already says where.
            let reason = inner.to_string();
            let reason = reason
                .rsplit_once(" at line ")
                .map(|(r, _)| r.to_string())
                .unwrap_or(reason);
            err(place, reason)
        })?;
        let mut base = Routing::from_settings(settings, policy);
        let mut seen: Vec<String> = Vec::new();
        let mut raws = Vec::new();
        for (i, r) in doc.routes.into_iter().enumerate() {
            let at = |f: &str| format!("routes[{i}].{f}");
            let address = address_at(at("address"), &r.address)?;
            if seen.contains(&address) {
                return Err(err(
                    at("address"),
                    format!("`{address}` has two routes; give each address one"),
                ));
            }
            seen.push(address.clone());
            let queue_id = queue_at(at("queue_id"), r.queue_id)?;
            let owner = owner_at(at("owner_id"), r.owner_id)?;
            let policy = policy_at(at("policy"), r.policy)?;
            let classification = r.classification.map(|c| c.trim().to_string());
            if classification.as_deref() == Some("") {
                return Err(err(at("classification"), "must not be empty"));
            }
            raws.push((
                address,
                queue_id,
                owner,
                r.priority,
                r.ticket_properties,
                classification,
                policy,
            ));
        }
        // The `*` entry first, so the other routes inherit from it.
        if let Some(star) = raws.iter().find(|r| r.0 == "*") {
            let d = &mut base.default;
            d.queue_id = star.1.or(d.queue_id);
            d.owner = star.2.or(d.owner);
            d.priority = star.3.unwrap_or(d.priority);
            if let Some(p) = &star.4 {
                d.ticket_properties = p.clone();
            }
            d.classification = star.5.clone().or(d.classification.take());
            d.policy = star.6.unwrap_or(d.policy);
        }
        let d = base.default.clone();
        for (address, queue_id, owner, priority, props, classification, policy) in raws {
            if address == "*" {
                continue;
            }
            base.routes.push(Route {
                address,
                queue_id: queue_id.or(d.queue_id),
                owner: owner.or(d.owner),
                priority: priority.unwrap_or(d.priority),
                ticket_properties: props.unwrap_or_else(|| d.ticket_properties.clone()),
                classification: classification.or_else(|| d.classification.clone()),
                policy: policy.unwrap_or(d.policy),
            });
        }
        for (i, r) in doc.rules.into_iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            let name = r
                .name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("rules[{i}]"));
            let w = r.when;
            if w.subject.is_none()
                && w.body.is_none()
                && w.sender.is_none()
                && w.recipient.is_none()
            {
                return Err(err(
                    at("when"),
                    "needs at least one of subject, body, sender, recipient",
                ));
            }
            let set = RuleSet {
                classification: r.set.classification.map(|c| c.trim().to_string()),
                priority: r.set.priority,
                queue_id: queue_at(at("set.queue_id"), r.set.queue_id)?,
                owner: owner_at(at("set.owner_id"), r.set.owner_id)?,
                ticket_properties: r.set.ticket_properties,
                policy: policy_at(at("set.policy"), r.set.policy)?,
            };
            base.rules.push(Rule {
                name,
                subject: regex_at(at("when.subject"), w.subject)?,
                body: regex_at(at("when.body"), w.body)?,
                sender: regex_at(at("when.sender"), w.sender)?,
                recipient: regex_at(at("when.recipient"), w.recipient)?,
                set,
            });
        }
        Ok(base)
    }

    /// The routes of the document (without `*`), in document order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The `*` route.
    pub fn default_route(&self) -> &Route {
        &self.default
    }

    /// Every route, `*` last.
    pub fn all_routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().chain(std::iter::once(&self.default))
    }

    /// The triage rules in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The first route (document order) whose address is among `addresses` (lower-cased),
    /// else `*`.
    pub fn route_for(&self, addresses: &[String]) -> &Route {
        self.routes
            .iter()
            .find(|r| addresses.iter().any(|a| a.eq_ignore_ascii_case(&r.address)))
            .unwrap_or(&self.default)
    }

    /// The route a session recorded; `*` when the document no longer has it.
    pub fn route_named(&self, address: &str) -> &Route {
        self.routes
            .iter()
            .find(|r| r.address.eq_ignore_ascii_case(address))
            .unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> Result<Routing, RoutingError> {
        Routing::parse(doc, &Settings::default(), Policy::Manual)
    }

    const Q1: &str = "11111111-1111-1111-1111-111111111111";

    #[test]
    fn policies_parse_and_print() {
        assert_eq!(Policy::parse("manual"), Ok(Policy::Manual));
        assert_eq!(Policy::parse(" Immediate "), Ok(Policy::Immediate));
        assert_eq!(Policy::parse("quiet:5m"), Ok(Policy::Quiet(300)));
        assert_eq!(Policy::parse("quiet:90s"), Ok(Policy::Quiet(90)));
        assert_eq!(Policy::parse("quiet:2h"), Ok(Policy::Quiet(7200)));
        assert_eq!(Policy::Quiet(300).to_string(), "quiet:5m");
        assert_eq!(Policy::Quiet(90).to_string(), "quiet:90s");
        for bad in [
            "quiet",
            "quiet:",
            "quiet:5",
            "quiet:5x",
            "quiet:0s",
            "later",
            "quiet:-1m",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_inherit_from_star_and_star_from_settings() {
        let settings = Settings {
            priority: Some(3),
            ..Settings::default()
        };
        let doc = format!(
            r#"{{"routes": [{{"address": "Billing@Acme.com", "priority": 1, "classification": "Billing"}},
                          {{"address": "*", "queue_id": "{Q1}", "policy": "quiet:5m"}}]}}"#
        );
        let r = Routing::parse(&doc, &settings, Policy::Manual).expect("parses");
        let billing = r.route_for(&["billing@acme.com".into()]);
        assert_eq!(billing.address, "billing@acme.com");
        assert_eq!(billing.priority, 1);
        assert_eq!(billing.policy, Policy::Quiet(300));
        assert_eq!(billing.queue_id, Uuid::parse_str(Q1).ok());
        let other = r.route_for(&["someone@else.com".into()]);
        assert_eq!(other.address, "*");
        assert_eq!(other.priority, 3);
        assert_eq!(other.classification, None);
    }

    #[test]
    fn first_route_in_document_order_wins() {
        let r = parse(
            r#"{"routes": [{"address": "billing@acme.com", "priority": 1},
                           {"address": "support@acme.com", "priority": 3}]}"#,
        )
        .expect("parses");
        let got = r.route_for(&["support@acme.com".into(), "billing@acme.com".into()]);
        assert_eq!(got.address, "billing@acme.com");
    }

    #[test]
    fn mistakes_name_their_place() {
        let cases = [
            (
                r#"{"routes": [{"address": "a@b.c", "queue": "x"}]}"#,
                "routes[0]",
                "unknown field `queue`",
            ),
            (
                r#"{"routes": [{"address": "a@b.c"}, {"address": "*", "policy": "soon"}]}"#,
                "routes[1].policy",
                "not a policy",
            ),
            (
                r#"{"rules": [{"when": {"subject": "(unclosed"}, "set": {}}]}"#,
                "rules[0].when.subject",
                "not a valid regular expression",
            ),
            (
                r#"{"routes": [{"address": "a@b.c", "queue_id": "nope"}]}"#,
                "routes[0].queue_id",
                "not a queue GUID",
            ),
            (
                r#"{"routes": [{"address": "not an address"}]}"#,
                "routes[0].address",
                "plain address",
            ),
            (
                r#"{"routes": [{"address": "a@b.c"}, {"address": "A@b.c"}]}"#,
                "routes[1].address",
                "two routes",
            ),
            (
                r#"{"routes": [{"address": "a@b.c", "priority": "High"}]}"#,
                "routes[0].priority",
                "invalid type",
            ),
            (
                r#"{"routes": [ {"address": "a@b.c",, } ]}"#,
                "line 1 column",
                "key must be a string",
            ),
            (
                r#"{"rules": [{"when": {}, "set": {"classification": "X"}}]}"#,
                "rules[0].when",
                "at least one",
            ),
            (r#"{"rulez": []}"#, "rulez", "unknown field"),
        ];
        for (doc, place, reason) in cases {
            let e = parse(doc).expect_err(doc);
            assert!(e.place.starts_with(place), "{doc}: place {e:?}");
            assert!(e.reason.contains(reason), "{doc}: reason {e:?}");
        }
    }

    #[test]
    fn source_from_env() {
        let get = |v: &'static str| move |k: &str| (k == "ROUTING").then(|| v.to_string());
        assert_eq!(Source::from_lookup(get("")), Ok(Source::None));
        assert_eq!(
            Source::from_lookup(get("s3://b/config/routing.json")),
            Ok(Source::S3 {
                bucket: "b".into(),
                key: "config/routing.json".into()
            })
        );
        assert!(matches!(
            Source::from_lookup(get(" {\"routes\": []}")),
            Ok(Source::Inline(_))
        ));
        assert!(Source::from_lookup(get("s3://bucket-only")).is_err());
        assert!(Source::from_lookup(get("routing.json")).is_err());
    }
}
