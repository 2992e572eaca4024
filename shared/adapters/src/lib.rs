//! AWS adapters of `app`'s ports, shared by the Lambda functions and the CLI: the handoff
//! queue on SQS (and its drain loop, `mailcase work`), the event feed on EventBridge, sentiment
//! through Comprehend, the Dynamics secret from Secrets Manager, and the routing document from
//! `ROUTING` (inline or an S3 object).

use std::time::Duration;

use app::ports::{BoxFuture, Event, EventSink, HandoffQueue, PortError, SentimentDetector};
use app::routing::{Policy, Routing, Source};
use aws_config::SdkConfig;
use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};

/// The shared AWS configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`),
/// as `aws_config::load_from_env()` gives it, with [`https_client`]: the SDK crates are built
/// without their default HTTPS client (see the workspace Cargo.toml), so every `SdkConfig` the
/// functions and the CLI use comes from here.
pub async fn aws_config() -> SdkConfig {
    aws_config::from_env()
        .http_client(https_client())
        .load()
        .await
}

/// The SDK's default HTTPS client (hyper 1, rustls, the system's trusted roots, proxy settings
/// from the environment, as `aws-smithy-runtime` builds it for the latest behavior version) with
/// ring as rustls' crypto provider, the one reqwest already links, instead of aws-lc.
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

fn port_error<E: std::error::Error + 'static>(
    what: &str,
    e: &aws_sdk_sqs::error::SdkError<E>,
) -> PortError {
    use aws_sdk_sqs::error::SdkError;
    let retryable = match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() >= 500 || s.raw().status().as_u16() == 429
        }
        SdkError::ResponseError(_) => true,
        _ => false,
    };
    PortError {
        message: format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(e)),
        retryable,
    }
}

/// The handoff queue on SQS (`HANDOFF_QUEUE_URL`).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    /// Client.
    pub sqs: aws_sdk_sqs::Client,
    /// Queue URL.
    pub url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(aws: &SdkConfig, url: &str) -> Self {
        SqsQueue {
            sqs: aws_sdk_sqs::Client::new(aws),
            url: url.to_string(),
        }
    }
}

impl HandoffQueue for SqsQueue {
    fn send<'a>(
        &'a self,
        body: &'a str,
        delay_seconds: u32,
    ) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            let delay = i32::try_from(delay_seconds.min(900)).unwrap_or(900);
            self.sqs
                .send_message()
                .queue_url(&self.url)
                .message_body(body)
                .delay_seconds(delay)
                .send()
                .await
                .map_err(|e| port_error("SQS SendMessage", &e))?;
            tracing::debug!(delay, "handoff request queued");
            Ok(())
        })
    }
}

/// What a drain did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Requests handled and deleted.
    pub done: usize,
    /// Requests that failed (left in the queue: they come back after the visibility timeout,
    /// and after the receive limit land in the dead-letter queue).
    pub failed: usize,
}

/// Receive and handle the queue's messages until it is empty; with `wait`, keep polling while
/// messages are still delayed or in flight, for at most that long. A handled message is
/// deleted; a failed one stays for SQS to redeliver. `handle` returns whether it succeeded.
pub async fn drain<F, Fut>(
    queue: &SqsQueue,
    wait: Option<Duration>,
    mut handle: F,
) -> Result<Drained, PortError>
where
    F: FnMut(String, String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = wait.map(|w| tokio::time::Instant::now() + w);
    let mut out = Drained::default();
    loop {
        let got = queue
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| port_error("SQS ReceiveMessage", &e))?;
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            let Some(deadline) = deadline else {
                return Ok(out);
            };
            if tokio::time::Instant::now() >= deadline || !waiting(queue).await? {
                return Ok(out);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        for m in messages {
            let id = m.message_id().unwrap_or_default().to_string();
            let body = m.body().unwrap_or_default().to_string();
            if handle(id, body).await {
                out.done += 1;
                if let Some(receipt) = m.receipt_handle() {
                    queue
                        .sqs
                        .delete_message()
                        .queue_url(&queue.url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|e| port_error("SQS DeleteMessage", &e))?;
                }
            } else {
                out.failed += 1;
            }
        }
    }
}

/// True while the queue holds delayed messages (in-flight ones are ours: failed this run).
async fn waiting(queue: &SqsQueue) -> Result<bool, PortError> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = queue
        .sqs
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .attribute_names(A::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| port_error("SQS GetQueueAttributes", &e))?;
    let n = |a: A| {
        attrs
            .attributes()
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(n(A::ApproximateNumberOfMessagesDelayed) + n(A::ApproximateNumberOfMessages) > 0)
}

/// The event feed on an EventBridge bus (`EVENT_BUS`).
#[derive(Debug, Clone)]
pub struct EventBridgeSink {
    /// Client.
    pub client: aws_sdk_eventbridge::Client,
    /// Bus name or ARN.
    pub bus: String,
}

impl EventBridgeSink {
    /// The bus `bus`.
    pub fn new(aws: &SdkConfig, bus: &str) -> Self {
        EventBridgeSink {
            client: aws_sdk_eventbridge::Client::new(aws),
            bus: bus.to_string(),
        }
    }
}

impl EventSink for EventBridgeSink {
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            let mut req = self.client.put_events();
            for e in events.iter().take(10) {
                req = req.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(app::events::SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(e.detail.to_string())
                        .build(),
                );
            }
            let out = req.send().await.map_err(|e| PortError {
                message: format!(
                    "EventBridge PutEvents to {}: {}",
                    self.bus,
                    aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                ),
                retryable: true,
            })?;
            let failed = out.failed_entry_count();
            if failed > 0 {
                let codes: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| {
                        e.error_code()
                            .map(|c| format!("{c}: {}", e.error_message().unwrap_or("")))
                    })
                    .collect();
                return Err(PortError {
                    message: format!(
                        "EventBridge refused {failed} event(s): {}",
                        codes.join("; ")
                    ),
                    retryable: false,
                });
            }
            tracing::debug!(count = events.len(), bus = %self.bus, "events published");
            Ok(())
        })
    }
}

/// Sentiment through Amazon Comprehend (`SENTIMENT=comprehend`): DetectDominantLanguage, then
/// DetectSentiment when the language is one Comprehend supports for sentiment.
#[derive(Debug, Clone)]
pub struct ComprehendSentiment {
    /// Client.
    pub client: aws_sdk_comprehend::Client,
}

/// Languages DetectSentiment accepts.
pub const SENTIMENT_LANGUAGES: [&str; 12] = [
    "en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW",
];

impl ComprehendSentiment {
    /// A client from the AWS configuration.
    pub fn new(aws: &SdkConfig) -> Self {
        ComprehendSentiment {
            client: aws_sdk_comprehend::Client::new(aws),
        }
    }
}

impl SentimentDetector for ComprehendSentiment {
    fn detect<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Result<Option<String>, PortError>> {
        Box::pin(async move {
            let fail = |what: &str, e: String| PortError {
                message: format!("Comprehend {what}: {e}"),
                retryable: true,
            };
            // DetectDominantLanguage needs at least 20 characters.
            let probe: String = if text.chars().count() < 20 {
                format!("{text} {text} {text} {text}")
            } else {
                text.to_string()
            };
            let lang = self
                .client
                .detect_dominant_language()
                .text(probe)
                .send()
                .await
                .map_err(|e| {
                    fail(
                        "DetectDominantLanguage",
                        aws_sdk_comprehend::error::DisplayErrorContext(&e).to_string(),
                    )
                })?;
            let code = lang
                .languages()
                .first()
                .and_then(|l| l.language_code())
                .unwrap_or("")
                .to_string();
            let Some(code) = SENTIMENT_LANGUAGES
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&code))
            else {
                tracing::info!(language = %code, "sentiment not supported for this language");
                return Ok(None);
            };
            let out = self
                .client
                .detect_sentiment()
                .text(text)
                .language_code(aws_sdk_comprehend::types::LanguageCode::from(*code))
                .send()
                .await
                .map_err(|e| {
                    fail(
                        "DetectSentiment",
                        aws_sdk_comprehend::error::DisplayErrorContext(&e).to_string(),
                    )
                })?;
            Ok(out.sentiment().map(|s| s.as_str().to_ascii_lowercase()))
        })
    }
}

/// The secret's string value (the Dynamics credentials JSON). The error names the secret, never
/// its value.
pub async fn read_secret(aws: &SdkConfig, secret_id: &str) -> Result<String, String> {
    let out = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    out.secret_string().map(str::to_string).ok_or_else(|| {
        format!("secret {secret_id} has no string value: store the credentials JSON")
    })
}

/// The Dynamics credentials in the Secrets Manager secret `secret_id`: the one loader of the
/// handoff function and the CLI. Errors name the secret, never its value.
pub async fn dynamics_credentials(
    aws: &SdkConfig,
    secret_id: &str,
) -> Result<dynamics::Credentials, String> {
    let text = read_secret(aws, secret_id).await?;
    dynamics::Credentials::from_json(&text).map_err(|e| format!("secret {secret_id}: {e}"))
}

/// The routing in force from the environment: `ROUTING` (inline JSON or `s3://bucket/key`) over
/// the `DEFAULT_*` settings and `HANDOFF_POLICY`. Every error names the setting or the place in
/// the document.
pub async fn routing_from_env(
    aws: Option<&SdkConfig>,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Routing, String> {
    let settings = app::handoff::Settings::from_lookup(&get)?;
    let policy = match get("HANDOFF_POLICY")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
    {
        Some(p) => Policy::parse(&p).map_err(|e| format!("HANDOFF_POLICY: {e}"))?,
        None => Policy::Manual,
    };
    let text = match Source::from_lookup(&get).map_err(|e| e.to_string())? {
        Source::None => return Ok(Routing::from_settings(&settings, policy)),
        Source::Inline(t) => t,
        Source::S3 { bucket, key } => {
            let aws =
                aws.ok_or("ROUTING names an S3 object, but no AWS configuration is available")?;
            let obj = aws_sdk_s3::Client::new(aws)
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ROUTING: cannot read s3://{bucket}/{key}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    )
                })?;
            let bytes = obj
                .body
                .collect()
                .await
                .map_err(|e| format!("ROUTING: reading s3://{bucket}/{key}: {e}"))?
                .into_bytes();
            String::from_utf8(bytes.to_vec())
                .map_err(|_| format!("ROUTING: s3://{bucket}/{key} is not UTF-8 JSON"))?
        }
    };
    Routing::parse(&text, &settings, policy).map_err(|e| e.to_string())
}

/// Read-only probe of the event bus for `verify`: its ARN, or what is wrong.
pub async fn describe_bus(aws: &SdkConfig, bus: &str) -> Result<String, String> {
    aws_sdk_eventbridge::Client::new(aws)
        .describe_event_bus()
        .name(bus)
        .send()
        .await
        .map(|o| o.arn().unwrap_or(bus).to_string())
        .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
}
