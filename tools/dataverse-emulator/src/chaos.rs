//! Random faults for soak tests: a fraction of Web API requests is throttled, fails, is slow,
//! or is executed and then loses its answer.
//!
//! [`Fault`](crate::Fault) fails the next N matching requests in a row; real service trouble is
//! spread out instead, so [`Chaos`] rolls a deterministic die (seeded) for every request under
//! `/api/data/v9.2/` (the token endpoint and `/_admin` are never affected) and picks a
//! [`ChaosKind`] by weight. What each kind answers is what the real service (or the network in
//! front of it) does:
//! - [`ChaosKind::Throttle`]: 429 with `Retry-After` and the service-protection code
//!   `0x80072322`, the request not executed (as [`Fault`](crate::Fault) with status 429);
//! - [`ChaosKind::Unavailable`]: 503, not executed;
//! - [`ChaosKind::Slow`]: executed normally after an extra delay;
//! - [`ChaosKind::LostResponse`]: executed (and committed), then answered 504 as a gateway that
//!   gave up waiting would: the client cannot tell it happened, so only idempotent writes are
//!   safe to retry.
//!
//! Requests failed before execution are counted like served ones (`request_counts`), so counts
//! stay "requests that reached the emulator".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{Emulator, State};

/// What an affected request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaosKind {
    /// 429 with `Retry-After: <seconds>`, not executed.
    Throttle {
        /// The `Retry-After` header's seconds.
        retry_after: u64,
    },
    /// 503, not executed.
    Unavailable,
    /// Executed after this extra delay.
    Slow(Duration),
    /// Executed, then answered 504 (the answer is lost on the way back).
    LostResponse,
}

impl ChaosKind {
    fn label(self) -> &'static str {
        match self {
            ChaosKind::Throttle { .. } => "429",
            ChaosKind::Unavailable => "503",
            ChaosKind::Slow(_) => "slow",
            ChaosKind::LostResponse => "504 after execution",
        }
    }
}

/// Fail or slow down a fraction of Web API requests at random (deterministic per seed).
#[derive(Debug, Clone)]
pub struct Chaos {
    /// Fraction of requests affected, 0.0 to 1.0.
    pub fraction: f64,
    /// Kinds with their relative weights (e.g. `[(2, Throttle), (2, Unavailable), (1, Slow)]`).
    pub kinds: Vec<(u32, ChaosKind)>,
    /// Only requests whose decoded path contains this (e.g. `$batch`); `None` for any.
    pub path_contains: Option<String>,
    /// Seed of the generator: the same seed and request order give the same faults.
    pub seed: u64,
}

/// Chaos in force, with its generator and what it did.
#[derive(Debug)]
pub(crate) struct Active {
    chaos: Chaos,
    rng: u64,
    injected: std::collections::BTreeMap<&'static str, u64>,
}

impl Active {
    /// splitmix64: small, good enough, no dependency.
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn roll(&mut self, path: &str) -> Option<ChaosKind> {
        if self
            .chaos
            .path_contains
            .as_deref()
            .is_some_and(|p| !path.contains(p))
        {
            return None;
        }
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.chaos.fraction {
            return None;
        }
        let total: u64 = self.chaos.kinds.iter().map(|(w, _)| u64::from(*w)).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.next() % total;
        for (w, kind) in &self.chaos.kinds {
            let w = u64::from(*w);
            if pick < w {
                *self.injected.entry(kind.label()).or_default() += 1;
                return Some(*kind);
            }
            pick -= w;
        }
        None
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    match s.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Put the chaos middleware in front of the emulator's routes.
pub(crate) fn layer(router: Router, state: Shared) -> Router {
    router.layer(axum::middleware::from_fn_with_state(state, middleware))
}

fn error(status: StatusCode, code: &str, message: &str, retry_after: Option<u64>) -> Response {
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json; odata.metadata=minimal"),
    );
    h.insert("odata-version", axum::http::HeaderValue::from_static("4.0"));
    if let Some(s) = retry_after
        && let Ok(v) = axum::http::HeaderValue::from_str(&s.to_string())
    {
        h.insert("retry-after", v);
    }
    resp
}

async fn middleware(AxState(state): AxState<Shared>, req: Request, next: Next) -> Response {
    let Some(path) = req.uri().path().strip_prefix("/api/data/v9.2/") else {
        return next.run(req).await;
    };
    let path = crate::odata::decode(path);
    let kind = {
        let mut s = lock(&state);
        let kind = s.chaos.as_mut().and_then(|a| a.roll(&path));
        if matches!(
            kind,
            Some(ChaosKind::Throttle { .. } | ChaosKind::Unavailable)
        ) {
            let counted = crate::http::kind_of(req.method(), &path);
            *s.counts.entry(counted).or_default() += 1;
        }
        kind
    };
    match kind {
        None => next.run(req).await,
        Some(ChaosKind::Throttle { retry_after }) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            Some(retry_after),
        ),
        Some(ChaosKind::Unavailable) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "0x80040216",
            "An unexpected error occurred.",
            None,
        ),
        Some(ChaosKind::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Some(ChaosKind::LostResponse) => {
            let _lost = next.run(req).await;
            (StatusCode::GATEWAY_TIMEOUT, "").into_response()
        }
    }
}

impl Emulator {
    /// Fail or slow down a fraction of Web API requests from now on (`None` stops it).
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        self.with(|s| {
            s.chaos = chaos.map(|c| Active {
                rng: c.seed,
                chaos: c,
                injected: Default::default(),
            })
        });
    }

    /// How many requests the chaos affected, by kind (`429`, `503`, `slow`,
    /// `504 after execution`).
    pub fn chaos_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.with(|s| {
            s.chaos
                .as_ref()
                .map(|a| {
                    a.injected
                        .iter()
                        .map(|(k, v)| (k.to_string(), *v))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_of_requests_is_affected_by_weight_and_only_on_matching_paths() {
        let mut active = Active {
            chaos: Chaos {
                fraction: 0.2,
                kinds: vec![
                    (3, ChaosKind::Throttle { retry_after: 1 }),
                    (1, ChaosKind::Unavailable),
                ],
                path_contains: Some("$batch".into()),
                seed: 42,
            },
            rng: 42,
            injected: Default::default(),
        };
        let hits = (0..10_000)
            .filter(|_| active.roll("$batch").is_some())
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        let throttled = active.injected["429"];
        assert!((1_300..1_700).contains(&throttled), "{throttled}");
        assert!((0..1_000).all(|_| active.roll("contacts").is_none()));
    }
}
