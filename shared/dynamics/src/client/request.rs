//! An authenticated Web API request: the bearer token from [`auth`](super::auth), one token
//! refresh on 401, throttling (429, honouring `Retry-After`) and 5xx retried by the
//! [`transport`](super::transport) loop; and the common shapes built on it (read JSON,
//! create-only write).

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::DataverseClient;
use super::transport::{Attempt, Warn};
use crate::error::{DynamicsError, api_error, excerpt};

/// A Web API answer: status and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
}

impl DataverseClient {
    /// Send one Web API request with retries. `path` is relative to `/api/data/v9.2/`.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<(String, String)>,
    ) -> Result<Answer, DynamicsError> {
        let url = format!("{}{path}", self.creds.api_base());
        let refreshed = AtomicBool::new(false);
        let (method, url, body, refreshed) = (&method, &url, &body, &refreshed);
        self.retrying(|attempt| async move {
            let token = self.token_inner(false).await?;
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token.expose())
                .header("Accept", "application/json")
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0");
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some((ct, b)) = body {
                req = req.header("Content-Type", ct).body(b.clone());
            }
            let reply = match self
                .exchange(req, attempt, "Dataverse request", |status, took| {
                    // Path without the query: a `$filter` can hold a customer's address.
                    tracing::debug!(
                        method = %method,
                        path = %path.split('?').next().unwrap_or(path),
                        status = status.as_u16(),
                        duration_ms = took.as_millis() as u64,
                        attempt,
                        "Dataverse request"
                    );
                })
                .await
            {
                Ok(reply) => reply,
                Err(retry) => return Ok(retry),
            };
            let status = reply.status;
            if status == StatusCode::UNAUTHORIZED && !refreshed.swap(true, Ordering::Relaxed) {
                // An expired or revoked token: get a fresh one once before calling it a setup
                // problem.
                self.token_inner(true).await?;
                return Ok(Attempt::Again);
            }
            let code = status.as_u16();
            let retry = self.retry_for(
                (code, reply.retry_after),
                attempt,
                Warn::Status(code),
                || excerpt(&reply.body),
            );
            Ok(retry.unwrap_or(Attempt::Done(Answer {
                status,
                body: reply.body,
            })))
        })
        .await
    }

    /// GET `path` as JSON; `None` for 404.
    pub(crate) async fn get_json(&self, path: &str) -> Result<Option<Value>, DynamicsError> {
        let a = self.send(Method::GET, path, &[], None).await?;
        match a.status.as_u16() {
            200 => serde_json::from_str(&a.body)
                .map(Some)
                .map_err(|e| DynamicsError::Decode(e.to_string())),
            404 => Ok(None),
            s => Err(api_error(s, &a.body)),
        }
    }

    /// Create-only write (`PATCH` with `If-None-Match: *`): Ok(false) when the record already
    /// exists (412).
    pub(crate) async fn create_only(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<bool, DynamicsError> {
        let a = self
            .send(
                Method::PATCH,
                path,
                &[("If-None-Match", "*".into())],
                Some(("application/json".into(), body.to_string())),
            )
            .await?;
        match a.status.as_u16() {
            200..=299 => Ok(true),
            412 => Ok(false),
            s => Err(api_error(s, &a.body)),
        }
    }
}
