//! The SESv2 adapter of [`app::reply::MailSender`]: raw `SendEmail` from the support address.
//! SES replaces our Message-ID with `<MessageId@REGION.amazonses.com>` (and keeps
//! In-Reply-To/References), so that is the id we return and the session records. The exact
//! domain is documented as `REGION.amazonses.com`; our own id is also in the index, so a reply
//! that references either threads back.

use app::reply::{MailSender, OutboundMail, SendError};
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

/// Sends through SESv2 in one region.
#[derive(Clone, Debug)]
pub struct SesSender {
    client: aws_sdk_sesv2::Client,
    region: String,
}

impl SesSender {
    /// `region` names the SES endpoint (for the Message-ID domain).
    pub fn new(client: aws_sdk_sesv2::Client, region: impl Into<String>) -> Self {
        SesSender {
            client,
            region: region.into(),
        }
    }

    /// From an SDK config (its region, `us-east-1` when unset).
    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        let region = conf
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        SesSender::new(aws_sdk_sesv2::Client::new(conf), region)
    }
}

impl MailSender for SesSender {
    fn via(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, mail: &OutboundMail) -> Result<String, SendError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| SendError {
                message: e.to_string(),
                retryable: false,
                fix: "report this as a bug".into(),
            })?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(
                Destination::builder()
                    .to_addresses(&mail.to)
                    .set_cc_addresses((!mail.cc.is_empty()).then(|| mail.cc.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let id = out.message_id().unwrap_or_default();
        if id.is_empty() {
            return Ok(mail.message_id.clone());
        }
        Ok(format!("{id}@{}.amazonses.com", self.region))
    }
}

fn classify<E, R>(e: &SdkError<E, R>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().unwrap_or("");
    let message = format!("SES SendEmail: {}", DisplayErrorContext(e));
    let (retryable, fix) = match code {
        "TooManyRequestsException" | "LimitExceededException" | "ThrottlingException" => {
            (true, "SES is throttling: the request is retried; raise the sending quota if it persists".to_string())
        }
        "MessageRejected" => (false, "SES refused the message: verify the SUPPORT_ADDRESS identity (or its domain) in SES and, in the SES sandbox, the recipient too".into()),
        "MailFromDomainNotVerifiedException" => (false, "verify the custom MAIL FROM domain of the support identity in SES".into()),
        "AccountSuspendedException" | "SendingPausedException" => (false, "SES sending is paused for this account: check the SES account dashboard".into()),
        "NotFoundException" | "BadRequestException" => (false, "check SUPPORT_ADDRESS: it must be an SES identity in this region".into()),
        _ => match e {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
                (true, "SES could not be reached: the request is retried".into())
            }
            _ => (false, "check the function's SES permissions (ses:SendEmail, ses:SendRawEmail) and the SUPPORT_ADDRESS identity".into()),
        },
    };
    SendError {
        message,
        retryable,
        fix,
    }
}
