//! The Dynamics secret (one Secrets Manager secret, JSON).

use std::fmt;

use serde::Deserialize;

use crate::DynamicsError;

/// A string that never prints.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// `{"tenant_id","client_id","client_secret","environment_url","authority_host"?}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Credentials {
    /// Entra tenant (directory) id.
    pub tenant_id: String,
    /// The app registration's application (client) id.
    pub client_id: String,
    /// The client secret's *value*.
    pub client_secret: Secret,
    /// `https://yourorg.crm.dynamics.com` (no path, no trailing slash).
    pub environment_url: String,
    /// Token authority, default `https://login.microsoftonline.com`.
    #[serde(default)]
    pub authority_host: Option<String>,
}

impl Credentials {
    /// Parse and check the secret's JSON. The error names the field to fix and never echoes
    /// the secret.
    pub fn from_json(text: &str) -> Result<Self, DynamicsError> {
        let mut c: Credentials = serde_json::from_str(text).map_err(|e| {
            // serde's message can quote input; keep only the position and the field it names.
            let msg = e.to_string();
            let field = ["tenant_id", "client_id", "client_secret", "environment_url"]
                .into_iter()
                .find(|f| msg.contains(f))
                .map(|f| format!(" (field `{f}`)"))
                .unwrap_or_default();
            DynamicsError::Config(format!(
                "the Dynamics secret is not the expected JSON{field} at line {} column {}: it needs tenant_id, client_id, client_secret, environment_url and optionally authority_host",
                e.line(),
                e.column()
            ))
        })?;
        for (name, value) in [
            ("tenant_id", &c.tenant_id),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret.0),
        ] {
            if value.trim().is_empty() {
                return Err(DynamicsError::Config(format!(
                    "the Dynamics secret's `{name}` is empty"
                )));
            }
        }
        c.environment_url = normalise_url(&c.environment_url, "environment_url")?;
        if let Some(a) = &c.authority_host {
            c.authority_host = Some(normalise_url(a, "authority_host")?);
        }
        Ok(c)
    }

    /// The token authority without a trailing slash.
    pub fn authority(&self) -> &str {
        self.authority_host
            .as_deref()
            .unwrap_or("https://login.microsoftonline.com")
    }

    /// `<environment_url>/api/data/v9.2/`.
    pub fn api_base(&self) -> String {
        format!("{}/api/data/v9.2/", self.environment_url)
    }
}

fn normalise_url(url: &str, field: &str) -> Result<String, DynamicsError> {
    let u = url.trim().trim_end_matches('/');
    let local = u.starts_with("http://127.0.0.1")
        || u.starts_with("http://localhost")
        || u.starts_with("http://[::1]");
    if !(u.starts_with("https://") || local) {
        return Err(DynamicsError::Config(format!(
            "the Dynamics secret's `{field}` must start with https:// (got `{u}`)"
        )));
    }
    let after_scheme = u.split_once("://").map(|(_, r)| r).unwrap_or("");
    if after_scheme.contains('/') {
        return Err(DynamicsError::Config(format!(
            "the Dynamics secret's `{field}` must be the bare host, e.g. https://yourorg.crm.dynamics.com, without a path (got `{u}`)"
        )));
    }
    Ok(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let c = Credentials::from_json(r#"{"tenant_id":"t","client_id":"c","client_secret":"hunter2","environment_url":"https://org.crm.dynamics.com/"}"#).expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.environment_url, "https://org.crm.dynamics.com");
        assert_eq!(c.api_base(), "https://org.crm.dynamics.com/api/data/v9.2/");
    }

    #[test]
    fn errors_name_the_field_without_echoing_secrets() {
        let cases = [
            (
                r#"{"tenant_id":"t","client_id":"c","client_secret":"hunter2"}"#,
                "environment_url",
            ),
            (
                r#"{"tenant_id":"t","client_id":"c","client_secret":"hunter2","environment_url":"https://org.crm.dynamics.com/api/data"}"#,
                "environment_url",
            ),
            (
                r#"{"tenant_id":"","client_id":"c","client_secret":"hunter2","environment_url":"https://o.crm.dynamics.com"}"#,
                "tenant_id",
            ),
            (r#"not json hunter2"#, "expected JSON"),
        ];
        for (input, needle) in cases {
            let e = Credentials::from_json(input).expect_err(input).to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }
}
