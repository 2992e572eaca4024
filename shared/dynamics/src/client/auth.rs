//! The Entra ID token: OAuth 2.0 client credentials against
//! `{authority}/{tenant}/oauth2/v2.0/token`, sent through the retry loop (5xx and transport
//! failures retried) and cached until a minute before it expires.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::DataverseClient;
use super::transport::{Attempt, Warn};
use crate::credentials::Secret;
use crate::error::{DynamicsError, auth_error, excerpt};
use crate::wire;

/// A cached bearer token.
pub(super) struct Token {
    value: Secret,
    refresh_at: Instant,
}

impl DataverseClient {
    /// A valid bearer token (cached until a minute before expiry).
    pub async fn token(&self) -> Result<Secret, DynamicsError> {
        self.token_inner(false).await
    }

    /// The cached token, or a new one when there is none, it is due for refresh, or `force`.
    pub(super) async fn token_inner(&self, force: bool) -> Result<Secret, DynamicsError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref()
            && !force
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.creds.authority(),
            wire::encode(&self.creds.tenant_id)
        );
        let scope = format!("{}/.default", self.creds.environment_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.creds.client_id.as_str()),
            ("client_secret", self.creds.client_secret.expose()),
            ("scope", scope.as_str()),
        ];
        let (url, form) = (&url, &form);
        let reply = self
            .retrying(|attempt| async move {
                let req = self.http.post(url).form(form);
                let reply = match self
                    .exchange(req, attempt, "token request", |status, took| {
                        // The form (client secret) and the answer (the token) are never logged.
                        tracing::debug!(
                            status = status.as_u16(),
                            duration_ms = took.as_millis() as u64,
                            attempt,
                            "Entra ID token request"
                        );
                    })
                    .await
                {
                    Ok(reply) => reply,
                    Err(retry) => return Ok(retry),
                };
                // Throttled (429, for as long as `Retry-After` says) or failing (5xx): again.
                // Out of attempts, it is an outage to retry later, not a setup problem.
                let code = reply.status.as_u16();
                let retry = self.retry_for(
                    (code, reply.retry_after),
                    attempt,
                    Warn::Status(code),
                    || format!("token endpoint: {}", excerpt(&reply.body)),
                );
                Ok(retry.unwrap_or(Attempt::Done(reply)))
            })
            .await?;
        let status = reply.status;
        let json: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(auth_error(status.as_u16(), &json));
        }
        let value = json
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| DynamicsError::Decode("token response without access_token".into()))?;
        let expires_in = json
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(300);
        let lifetime = Duration::from_secs(expires_in);
        let margin = Duration::from_secs(60).min(lifetime / 2);
        let token = Token {
            value: Secret::new(value),
            refresh_at: Instant::now() + lifetime - margin,
        };
        let out = token.value.clone();
        *guard = Some(token);
        Ok(out)
    }
}
