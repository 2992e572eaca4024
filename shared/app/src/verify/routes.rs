//! `verify`'s routing checks: the document parses (every mistake with its place), the rules
//! compile, and every route's queue, owner, priority and `ticket_properties` exist in the org —
//! read-only, like the rest of verify. The `*` route is checked by the settings checks when it
//! is just the `DEFAULT_*` settings; with a document it is checked as `route[*]`.

use ::dynamics::DataverseClient;

use super::Check;
use super::dynamics::{owner, priority, queue};
use super::ticket_properties::ticket_properties;
use crate::routing::{Route, Routing};

/// The `routing` and `rules` checks, then one check per route (sub-checks named
/// `route[<address>].queue` and so on).
pub async fn checks(
    routing: Result<&Routing, &str>,
    document: bool,
    crm: Option<&DataverseClient>,
) -> Vec<Check> {
    let routing = match routing {
        Ok(r) => r,
        Err(e) => {
            return vec![
                Check::fail(
                    "routing",
                    e.to_string(),
                    "Fix the routing document (ROUTING, or the S3 object it names) at the place named; the functions refuse to run with it.",
                ),
                Check::skip("rules", "the routing document is refused"),
            ];
        }
    };
    let d = routing.default_route();
    let mut out = vec![Check::ok(
        "routing",
        format!(
            "{} route(s) besides *: {}; * (policy {}, priority {}{})",
            routing.routes().len(),
            routing
                .routes()
                .iter()
                .map(|r| format!("{} ({})", r.address, r.policy))
                .collect::<Vec<_>>()
                .join(", "),
            d.policy,
            d.priority,
            if d.classification.is_some() {
                ", with a classification"
            } else {
                ""
            }
        ),
    )];
    out.push(if routing.rules().is_empty() {
        Check::ok("rules", "no triage rules")
    } else {
        Check::ok(
            "rules",
            format!(
                "{} rule(s) compile: {}",
                routing.rules().len(),
                routing
                    .rules()
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    });
    let Some(crm) = crm else {
        for r in routing.routes() {
            out.push(Check::skip(
                format!("route[{}]", r.address),
                "no usable Dynamics connection",
            ));
        }
        return out;
    };
    let me = crm.who_am_i().await.ok();
    let mut rule_routes: Vec<Route> = Vec::new();
    for rule in routing.rules() {
        // What a rule sets is checked like a route of its own.
        let s = &rule.set;
        if s.queue_id.is_some()
            || s.owner.is_some()
            || s.priority.is_some()
            || s.ticket_properties.is_some()
        {
            rule_routes.push(Route {
                address: format!("rule {}", rule.name),
                queue_id: s.queue_id.or(d.queue_id),
                owner: s.owner.or(d.owner),
                priority: s.priority.unwrap_or(d.priority),
                ticket_properties: s.ticket_properties.clone().unwrap_or_default(),
                classification: None,
                policy: d.policy,
            });
        }
    }
    // The `*` route too when a document is in force (it may set what DEFAULT_* does not).
    let star = document.then(|| d.clone());
    for r in routing
        .routes()
        .iter()
        .chain(star.iter())
        .chain(rule_routes.iter())
    {
        let name = format!("route[{}]", r.address);
        let mut sub = vec![
            queue(crm, r.queue_id).await,
            priority(crm, Some(r.priority)).await,
        ];
        if let Some(me) = me {
            sub.push(owner(crm, r.owner, me).await);
        }
        sub.extend(ticket_properties(crm, &r.ticket_properties).await);
        out.extend(sub.into_iter().map(|mut c| {
            c.name = format!("{name}.{}", c.name);
            c
        }));
    }
    out
}
