//! The AWS checks: the store answers (a probe object under `verify/`) and the SES identity of
//! the support address, or of its domain, is verified ([`EmailIdentities`] keeps app free of
//! the AWS SDK).

use std::future::Future;

use serde::Serialize;
use store::sessions::Sessions;
use store::{ObjectStore, StoreError};

use super::Check;

/// Verification state of an SES identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// `SUCCESS`.
    Verified,
    /// `PENDING` or `NOT_STARTED`.
    Pending,
    /// `FAILED` or `TEMPORARY_FAILURE`.
    Failed,
    /// No such identity in this account and region.
    NotFound,
}

/// SES email identities (an address or a domain). The CLI implements it with SESv2
/// `GetEmailIdentity`; app stays free of the AWS SDK.
pub trait EmailIdentities: Send + Sync {
    /// The identity's verification state; `Err` for anything else (permissions, network).
    fn status(&self, identity: &str)
    -> impl Future<Output = Result<IdentityStatus, String>> + Send;
}

/// No SES at all (tests, local runs): every lookup fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentities;

impl EmailIdentities for NoIdentities {
    async fn status(&self, _identity: &str) -> Result<IdentityStatus, String> {
        Err("SES is not configured".into())
    }
}

/// The store answers: write, read back and delete a probe object under `verify/`.
pub async fn store_probe<O: ObjectStore>(sessions: &Sessions<O>, now: i64) -> Check {
    let store = sessions.objects();
    let key = store::layout::verify_probe(now);
    let fix = "Check the bucket name (MAIL_BUCKET / --bucket), the region and that your AWS identity may s3:PutObject, s3:GetObject, s3:DeleteObject and s3:ListBucket on it.";
    let failed = |step: &str, e: &StoreError| {
        Check::fail(
            "store",
            format!("{step} {key}: {}", crate::DisplayChain(e)),
            fix,
        )
    };
    match store
        .put_new(&key, b"mailcase verify".to_vec(), "text/plain")
        .await
    {
        Ok(_) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return failed("cannot write", &e),
    }
    match store.get(&key).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Check::fail(
                "store",
                format!("wrote {key} but could not read it back"),
                fix,
            );
        }
        Err(e) => return failed("cannot read", &e),
    }
    if let Err(e) = store.delete(&key).await {
        return failed("cannot delete", &e);
    }
    Check::ok(
        "store",
        "wrote, read and deleted a probe object under verify/",
    )
}

/// The SES identity of the support address, or of its domain.
pub async fn ses_identity<E: EmailIdentities>(ses: &E, support_address: Option<&str>) -> Check {
    let Some(address) = support_address.map(|a| a.trim().to_lowercase()) else {
        return Check::skip(
            "ses_identity",
            "no support address (--support-address or SUPPORT_ADDRESS)",
        );
    };
    let Some((_, domain)) = address
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.'))
    else {
        return Check::fail(
            "ses_identity",
            format!("SUPPORT_ADDRESS `{address}` is not an email address"),
            "Set SUPPORT_ADDRESS to the public support address, e.g. support@yourco.com.",
        );
    };
    let domain = domain.to_string();
    let by_domain = ses.status(&domain).await;
    let by_address = ses.status(&address).await;
    use IdentityStatus::*;
    let states = [(&domain, &by_domain), (&address, &by_address)];
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Verified))) {
        return Check::ok("ses_identity", format!("SES identity {id} is verified"));
    }
    if let (Err(e), Err(_)) = (&by_domain, &by_address) {
        return Check::fail(
            "ses_identity",
            format!("cannot read SES identity {domain}: {e}"),
            "Check AWS credentials, the region (SES identities are regional: use the region of your receipt rule) and the ses:GetEmailIdentity permission.",
        );
    }
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Pending))) {
        return Check::warn(
            "ses_identity",
            format!("SES identity {id} is pending verification"),
            format!(
                "Publish the DKIM CNAME records SES shows for {domain} in your DNS (SES console > Identities > {domain}); verification can take up to 72 hours. For an address identity, click the link in SES's verification mail."
            ),
        );
    }
    if let Some((id, _)) = states.iter().find(|(_, s)| matches!(s, Ok(Failed))) {
        return Check::fail(
            "ses_identity",
            format!("SES identity {id} failed verification"),
            format!(
                "SES could not find the DNS records for {domain}: check its DKIM CNAME records in your DNS, then restart verification (SES console > Identities > {domain})."
            ),
        );
    }
    Check::fail(
        "ses_identity",
        format!("no SES identity for {address} or {domain} in this account and region"),
        format!(
            "Create and verify the domain identity: `aws sesv2 create-email-identity --email-identity {domain}`, then publish its DKIM records; make sure AWS_REGION is the region of your SES receipt rule."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Status;

    struct Fake(Vec<(&'static str, IdentityStatus)>);

    impl EmailIdentities for Fake {
        async fn status(&self, identity: &str) -> Result<IdentityStatus, String> {
            Ok(self
                .0
                .iter()
                .find(|(i, _)| *i == identity)
                .map(|(_, s)| *s)
                .unwrap_or(IdentityStatus::NotFound))
        }
    }

    async fn ses(states: Vec<(&'static str, IdentityStatus)>) -> Check {
        ses_identity(&Fake(states), Some("Support@Acme.com")).await
    }

    #[tokio::test]
    async fn ses_identity_states_map_to_fixes() {
        let c = ses(vec![("acme.com", IdentityStatus::Verified)]).await;
        assert_eq!(c.status, Status::Ok, "{c:?}");
        let c = ses(vec![("support@acme.com", IdentityStatus::Verified)]).await;
        assert_eq!(c.status, Status::Ok, "{c:?}");
        let c = ses(vec![("acme.com", IdentityStatus::Pending)]).await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.fix.as_deref().unwrap_or("").contains("DKIM"), "{c:?}");
        let c = ses(vec![("acme.com", IdentityStatus::Failed)]).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.detail.contains("failed verification"), "{c:?}");
        let c = ses(vec![]).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.fix
                .as_deref()
                .unwrap_or("")
                .contains("create-email-identity --email-identity acme.com"),
            "{c:?}"
        );
        let c = ses_identity(&NoIdentities, Some("support@acme.com")).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.fix.as_deref().unwrap_or("").contains("region"), "{c:?}");
        let c = ses_identity(&NoIdentities, Some("not-an-address")).await;
        assert_eq!(c.status, Status::Fail, "{c:?}");
        let c = ses_identity(&NoIdentities, None).await;
        assert_eq!(c.status, Status::Skip, "{c:?}");
    }
}
