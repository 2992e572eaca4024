//! Sending with retries: the [`RetryPolicy`], the backoff, the one retry loop every request
//! goes through (the token request, Web API requests, `$batch` change sets) and a single HTTP
//! exchange. Each HTTP request is counted in [`DataverseClient::requests`], each retry in
//! [`DataverseClient::retries`]. Knows nothing of tokens or of what is being sent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{RequestBuilder, StatusCode};

use super::DataverseClient;
use crate::error::DynamicsError;

/// 0 to `bound - 1` milliseconds, different from call to call (the clock's nanoseconds and a
/// sequence number, mixed), so that clients retrying together spread out.
fn jitter_ms(bound: u64) -> u64 {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mixed = (nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0x2545_F491_4F6C_DD1D);
    (mixed >> 32) % bound.max(1)
}

/// How hard to try before giving up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request (first try included).
    pub max_attempts: u32,
    /// First backoff for 5xx and transport failures; doubled each time.
    pub base_delay: Duration,
    /// Longest single wait, also the cap on a `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// What one attempt came to, for [`DataverseClient::retrying`].
pub(super) enum Attempt<T> {
    /// Finished: the loop returns it.
    Done(T),
    /// Worth another try after `wait` (a counted retry); `give_up` is the outcome once the
    /// attempts are used up.
    Retry {
        /// How long to wait first.
        wait: Duration,
        /// What the loop returns when this was the last attempt.
        give_up: Result<T, DynamicsError>,
        /// The warning logged before the retry.
        warn: Warn,
    },
    /// Try again at once, not counted as a retry (after a token refresh).
    Again,
}

/// The warning logged before a retry.
pub(super) enum Warn {
    /// Nothing logged (a failing token endpoint, a rolled-back change set).
    Quiet,
    /// No answer at all: `"{what} failed; retrying"` with the error.
    Failed {
        /// The request, for the message (`"token request"`, `"Dataverse request"`).
        what: &'static str,
        /// The transport error.
        error: String,
    },
    /// A throttled or failing Web API answer with this status.
    Status(u16),
}

/// An HTTP answer read whole.
pub(super) struct Reply {
    /// The status.
    pub(super) status: StatusCode,
    /// `Retry-After` in seconds, when the answer has a numeric one.
    pub(super) retry_after: Option<u64>,
    /// The body (empty when it could not be read).
    pub(super) body: String,
}

impl DataverseClient {
    /// Exponential backoff for the `attempt`-th attempt, capped at the policy's `max_delay`.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        exp.min(self.policy.max_delay) + Duration::from_millis(jitter_ms(97))
    }

    /// The one rule for an answer worth sending again: a 429 after as long as its
    /// `Retry-After` says (else the backoff), a 5xx after the backoff, both within the policy's
    /// `max_delay`; out of attempts it is [`DynamicsError::Unavailable`] with `message`.
    /// `None` for any other status (never retried).
    pub(super) fn retry_for<T>(
        &self,
        (status, retry_after): (u16, Option<u64>),
        attempt: u32,
        warn: Warn,
        message: impl FnOnce() -> String,
    ) -> Option<Attempt<T>> {
        let wait = match status {
            429 => retry_after
                .map(Duration::from_secs)
                .unwrap_or_else(|| self.backoff(attempt))
                .min(self.policy.max_delay),
            500.. => self.backoff(attempt),
            _ => return None,
        };
        Some(Attempt::Retry {
            wait,
            give_up: Err(DynamicsError::Unavailable {
                attempts: attempt,
                status,
                message: message(),
            }),
            warn,
        })
    }

    /// The one retry loop: calls `attempt_once` with the attempt number (from 1) until it is
    /// done, fails, or asks for a retry on the last attempt allowed by the policy (then its
    /// `give_up` is the outcome). Each retry is logged, counted and waited for.
    ///
    /// `attempt_once` returns a future that owns or borrows from outside the closure only (a
    /// plain closure, not an async one, so that the callers' futures stay `Send`).
    pub(super) async fn retrying<T, F, Fut>(&self, mut attempt_once: F) -> Result<T, DynamicsError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Attempt<T>, DynamicsError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match attempt_once(attempt).await? {
                Attempt::Done(out) => return Ok(out),
                Attempt::Again => {}
                Attempt::Retry {
                    wait,
                    give_up,
                    warn,
                } => {
                    if attempt >= self.policy.max_attempts {
                        return give_up;
                    }
                    match warn {
                        Warn::Quiet => {}
                        Warn::Failed { what, error } => {
                            tracing::warn!(attempt, error = %error, "{what} failed; retrying");
                        }
                        Warn::Status(status) => {
                            tracing::warn!(
                                attempt,
                                status,
                                wait_ms = wait.as_millis() as u64,
                                "Dataverse throttled or failing; retrying"
                            );
                        }
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Send `req` once (counted in [`DataverseClient::requests`]) and read the answer whole;
    /// `log` gets its status and how long it took. A transport failure (no answer) is a retry
    /// after a backoff, [`DynamicsError::Unavailable`] with status 0 on the last attempt.
    pub(super) async fn exchange<T>(
        &self,
        req: RequestBuilder,
        attempt: u32,
        what: &'static str,
        log: impl FnOnce(StatusCode, Duration),
    ) -> Result<Reply, Attempt<T>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        match req.send().await {
            Ok(r) => {
                let status = r.status();
                log(status, started.elapsed());
                let retry_after = r
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                Ok(Reply {
                    status,
                    retry_after,
                    body: r.text().await.unwrap_or_default(),
                })
            }
            Err(e) => Err(Attempt::Retry {
                wait: self.backoff(attempt),
                give_up: Err(DynamicsError::Unavailable {
                    attempts: attempt,
                    status: 0,
                    message: transport_failure(&e),
                }),
                warn: Warn::Failed {
                    what,
                    error: transport_failure(&e),
                },
            }),
        }
    }
}

/// A transport error for the operator: its kind and reqwest's text.
fn transport_failure(e: &reqwest::Error) -> String {
    // reqwest's Display includes the URL, which holds no secret (tokens travel in headers and
    // the form body); keep the kind for the operator.
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    format!("{kind}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jitter_varies_and_stays_in_bounds() {
        let draws: Vec<u64> = (0..64).map(|_| jitter_ms(97)).collect();
        assert!(draws.iter().all(|&d| d < 97), "{draws:?}");
        let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
        assert!(distinct.len() > 16, "{distinct:?}");
    }
}
