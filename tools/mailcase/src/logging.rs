//! The CLI logs like the functions: `RUST_LOG` (or `-v`, `-vv`, `-vvv`) prints tracing's
//! structured lines to stderr, each Dataverse request (from `dynamics`) and each AWS request
//! (from [`aws_config`]'s HTTP client) with its status and duration at debug.
//!
//! Never a secret or token: our own lines carry method, host, path (no query string) and
//! status only; below info, the HTTP, TLS, signing and credential crates are silenced whatever
//! `RUST_LOG` says, because at trace some of them print request headers (the SigV4 session
//! token, a bearer token).

use std::time::Instant;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tracing::Metadata;
use tracing_subscriber::filter::{FilterFn, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Crates whose debug/trace output may include headers or credentials.
const QUIET_BELOW_INFO: &[&str] = &[
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_http_client",
    "aws_smithy_runtime_api",
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
    "tower",
];

/// Keep an event unless it is below info from one of [`QUIET_BELOW_INFO`].
pub fn allowed(meta: &Metadata<'_>) -> bool {
    keep(meta.target(), *meta.level())
}

fn keep(target: &str, level: tracing::Level) -> bool {
    let quiet = QUIET_BELOW_INFO
        .iter()
        .any(|p| target == *p || target.strip_prefix(p).is_some_and(|r| r.starts_with("::")));
    !(quiet && level > tracing::Level::INFO)
}

/// The filter: `RUST_LOG` when set, else the `-v` count (none: nothing is logged).
fn filter(verbose: u8) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::builder()
            .with_default_directive(LevelFilter::OFF.into())
            .parse_lossy(v),
        _ => EnvFilter::new(match verbose {
            0 => "off",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }),
    }
}

/// Install the stderr subscriber (once, at start).
pub fn init(verbose: u8) {
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true)
        .with_filter(FilterFn::new(allowed));
    let _ = tracing_subscriber::registry()
        .with(filter(verbose))
        .with(layer)
        .try_init();
}

/// `adapters::aws_config()` with its HTTP client (`adapters::https_client`) wrapped so that each
/// request is logged at debug.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::from_env()
        .http_client(Logged(adapters::https_client()))
        .load()
        .await
}

/// An AWS HTTP client that logs every request it sends.
#[derive(Debug, Clone)]
struct Logged(SharedHttpClient);

impl HttpClient for Logged {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LoggedConnector(self.0.http_connector(settings, components)))
    }
}

#[derive(Debug)]
struct LoggedConnector(SharedHttpConnector);

impl HttpConnector for LoggedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let method = request.method().to_string();
        // No query string: presigned or listing parameters stay out of the log.
        let uri = request.uri().split('?').next().unwrap_or("").to_string();
        let started = Instant::now();
        let sent = self.0.call(request);
        HttpConnectorFuture::new(async move {
            let result = sent.await;
            let ms = started.elapsed().as_millis() as u64;
            match &result {
                Ok(resp) => tracing::debug!(
                    method = %method,
                    uri = %uri,
                    status = resp.status().as_u16(),
                    duration_ms = ms,
                    "AWS request"
                ),
                Err(e) => tracing::debug!(
                    method = %method,
                    uri = %uri,
                    error = %e,
                    duration_ms = ms,
                    "AWS request failed"
                ),
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_printing_crates_are_quiet_below_info() {
        use tracing::Level;
        let cases = [
            ("aws_sigv4::http_request", Level::TRACE, false),
            ("hyper_util::client", Level::DEBUG, false),
            ("aws_smithy_runtime", Level::DEBUG, false),
            ("aws_smithy_runtime", Level::WARN, true),
            ("dynamics::client", Level::DEBUG, true),
            ("mailcase::logging", Level::DEBUG, true),
            ("hyperdrive", Level::TRACE, true),
        ];
        for (target, level, expected) in cases {
            assert_eq!(keep(target, level), expected, "{target} {level}");
        }
    }
}
