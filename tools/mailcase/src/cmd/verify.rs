//! `mailcase verify`: the connection test (`app::verify`), with SES through SESv2
//! `GetEmailIdentity`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use app::handoff::Settings;
use app::verify::{EmailIdentities, IdentityStatus, Inputs, Problem, Report};
use aws_sdk_sesv2::config::ProvideCredentials;
use aws_sdk_sesv2::types::VerificationStatus;
use dynamics::{DataverseClient, DynamicsError, RetryPolicy};

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase verify`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// The Dynamics credentials JSON (same shape as the secret); else DYNAMICS_SECRET_ID is
    /// read from Secrets Manager.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// The public support address whose SES identity (or its domain's) is checked.
    #[arg(long, env = "SUPPORT_ADDRESS")]
    support_address: Option<String>,
    /// The checklist as one JSON object: {"ok", "checks": [{name, status, detail, fix}]}.
    #[arg(long)]
    json: bool,
    /// First send a test message to the support address through SESv2; when the forwarding
    /// rule brings it back into ingest, the email channel is marked Active (run verify again).
    #[arg(long)]
    send_test: bool,
}

/// Send the forwarding test from and to the support address.
async fn send_test<O: store::ObjectStore>(
    sessions: &store::sessions::Sessions<O>,
    support: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    let support = support.map(mail::normalise_address).ok_or_else(|| {
        anyhow::anyhow!("--send-test needs --support-address (or SUPPORT_ADDRESS)")
    })?;
    let aws = crate::logging::aws_config().await;
    let sender = ses::SesSender::from_conf(&aws);
    let from = mail::Mailbox {
        name: None,
        address: support.clone(),
    };
    app::channel::send_test(sessions, &sender, &from, &support, now)
        .await
        .map_err(|e| anyhow::anyhow!("the test message was not sent: {e}. Fix: {}", e.fix()))?;
    eprintln!(
        "test message sent to {support}; it should come back within a minute: run `mailcase verify` again"
    );
    Ok(())
}

/// SES identities through SESv2.
pub struct SesIdentities(aws_sdk_sesv2::Client);

impl SesIdentities {
    /// A client for this AWS configuration.
    pub fn new(conf: &aws_config::SdkConfig) -> Self {
        SesIdentities(aws_sdk_sesv2::Client::new(conf))
    }
}

impl EmailIdentities for SesIdentities {
    async fn status(&self, identity: &str) -> Result<IdentityStatus, String> {
        match self
            .0
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
        {
            Ok(out) => Ok(match out.verification_status() {
                Some(VerificationStatus::Success) => IdentityStatus::Verified,
                Some(VerificationStatus::Pending | VerificationStatus::NotStarted) => {
                    IdentityStatus::Pending
                }
                Some(VerificationStatus::Failed | VerificationStatus::TemporaryFailure) => {
                    IdentityStatus::Failed
                }
                _ if out.verified_for_sending_status() => IdentityStatus::Verified,
                _ => IdentityStatus::Pending,
            }),
            Err(e) => match e.as_service_error() {
                Some(se) if se.is_not_found_exception() => Ok(IdentityStatus::NotFound),
                _ => Err(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string()),
            },
        }
    }
}

/// SES, or why its check is skipped: a local `--store` without AWS region or credentials skips
/// it; with `--bucket` AWS is expected, so failures are reported by the check itself.
async fn identities(args: &Args) -> Result<SesIdentities, String> {
    let aws = crate::logging::aws_config().await;
    if args.store.bucket.is_none() {
        if aws.region().is_none() {
            return Err("AWS is not configured (no region) and the store is local: SES not checked; set AWS_REGION (and credentials) to check it".into());
        }
        let Some(provider) = aws.credentials_provider() else {
            return Err(
                "AWS credentials are not configured and the store is local: SES not checked".into(),
            );
        };
        match tokio::time::timeout(Duration::from_secs(5), provider.provide_credentials()).await {
            Ok(Ok(_)) => {}
            _ => {
                return Err("no AWS credentials found and the store is local: SES not checked; configure AWS credentials to check it".into());
            }
        }
    }
    Ok(SesIdentities::new(&aws))
}

/// The Dynamics client, or the credentials check's failure.
async fn client(args: &Args) -> Result<DataverseClient, Problem> {
    let creds = super::handoff::credentials(args.credentials.as_ref())
        .await
        .map_err(|e| match e.downcast_ref::<DynamicsError>() {
            Some(d) => Problem::from(d),
            None => Problem {
                detail: format!("{e:#}"),
                fix: "Give --credentials FILE (the secret's JSON) or set DYNAMICS_SECRET_ID to the Secrets Manager secret (and allow secretsmanager:GetSecretValue on it).".into(),
            },
        })?;
    // Fail fast: an operator is waiting.
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
    };
    DataverseClient::new(creds, policy).map_err(|e| Problem::from(&e))
}

/// Run the checks and print the checklist; exit code 1 when any check fails.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_lookup(|k| std::env::var(k).ok());
    let crm = client(args).await;
    let ses = identities(args).await;
    let now = super::now();
    let routing = super::worker::routing().await.map_err(|e| e.to_string());
    let document = std::env::var("ROUTING").is_ok_and(|v| !v.trim().is_empty());
    let mut report = with_sessions!(args.store, |sessions| {
        if args.send_test {
            send_test(&sessions, args.support_address.as_deref(), now).await?;
        }
        app::verify::run(&Inputs {
            dynamics: crm.as_ref().map_err(Clone::clone),
            settings: settings.as_ref().map_err(Clone::clone),
            sessions: &sessions,
            identities: ses.as_ref().map_err(Clone::clone),
            support_address: args.support_address.as_deref(),
            now,
        })
        .await
    });
    report.checks.extend(
        app::verify::routes::checks(
            routing.as_ref().map_err(String::as_str),
            document,
            crm.as_ref().ok(),
        )
        .await,
    );
    report.checks.extend(feed_checks().await);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": report.ok(),
                "checks": report.checks,
            }))?
        );
    } else {
        print!("{}", checklist(&report));
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The event bus (`EVENT_BUS`) and Comprehend (`SENTIMENT=comprehend`), when configured.
async fn feed_checks() -> Vec<app::verify::Check> {
    use app::verify::Check;
    let mut out = Vec::new();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    match env("EVENT_BUS") {
        None => out.push(Check::skip("event_bus", "EVENT_BUS is not set: no events are published")),
        Some(bus) => out.push(match adapters::describe_bus(&super::worker::aws().await, &bus).await {
            Ok(arn) => Check::ok("event_bus", format!("{arn} exists")),
            Err(e) => Check::fail(
                "event_bus",
                format!("event bus {bus}: {e}"),
                "Set EVENT_BUS to the stack's EventBusName output (and allow events:PutEvents on it).",
            ),
        }),
    }
    match env("SENTIMENT").as_deref() {
        None | Some("off") | Some("none") => out.push(Check::skip("sentiment", "SENTIMENT is off")),
        Some("comprehend") => {
            use app::ports::SentimentDetector;
            let c = adapters::ComprehendSentiment::new(&super::worker::aws().await);
            out.push(match c.detect("Thank you, the replacement arrived quickly and works well.").await {
                Ok(s) => Check::ok("sentiment", format!("Comprehend answered ({})", s.unwrap_or_else(|| "no sentiment".into()))),
                Err(e) => Check::warn(
                    "sentiment",
                    e.to_string(),
                    "Allow comprehend:DetectDominantLanguage and comprehend:DetectSentiment (Resource '*': they have no resource-level permissions) in a Region that offers Comprehend; cases are still created without the line.",
                ),
            });
        }
        Some(other) => out.push(Check::fail(
            "sentiment",
            format!("SENTIMENT is `{other}`"),
            "Set SENTIMENT to off or comprehend.",
        )),
    }
    out
}

/// `OK   token     detail`, `FAIL queue     detail -> fix: ...`, then a summary line.
pub fn checklist(report: &Report) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &report.checks {
        out.push_str(&format!(
            "{:<4} {:<width$}  {}",
            c.status.label(),
            c.name,
            c.detail
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!(" -> fix: {fix}"));
        }
        out.push('\n');
    }
    let count = |s: app::verify::Status| report.checks.iter().filter(|c| c.status == s).count();
    out.push_str(&format!(
        "\n{} checks: {} ok, {} failed, {} warned, {} skipped\n",
        report.checks.len(),
        count(app::verify::Status::Ok),
        count(app::verify::Status::Fail),
        count(app::verify::Status::Warn),
        count(app::verify::Status::Skip),
    ));
    out
}
