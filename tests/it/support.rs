//! Builders shared by the end-to-end tests.

use app::ingest::Receipt;
use store::ObjectStore;
use store::layout::OUTBOX_PREFIX;

/// A raw RFC 5322 message.
pub struct Mail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [&'a str],
    pub date: &'a str,
    pub body: &'a str,
    pub extra_headers: &'a str,
}

impl Default for Mail<'_> {
    fn default() -> Self {
        Mail {
            from: "Ana Lima <ana@client.example>",
            to: "support@acme.com",
            subject: "Order 1042 arrived damaged",
            message_id: "m1@client.example",
            in_reply_to: None,
            references: &[],
            date: "Tue, 12 Mar 2024 10:15:00 +0000",
            body: "Hello",
            extra_headers: "",
        }
    }
}

impl Mail<'_> {
    pub fn raw(&self) -> Vec<u8> {
        let mut s = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}>\r\n",
            self.from, self.to, self.subject, self.date, self.message_id
        );
        if let Some(p) = self.in_reply_to {
            s.push_str(&format!("In-Reply-To: <{p}>\r\n"));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            s.push_str(&format!("References: {}\r\n", refs.join(" ")));
        }
        s.push_str(self.extra_headers);
        s.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        s.push_str(self.body);
        s.push_str("\r\n");
        s.into_bytes()
    }
}

pub fn receipt(ses_id: &str) -> Receipt {
    Receipt {
        ses_message_id: ses_id.into(),
        received_at: 1_710_238_500,
        spam: None,
        virus: None,
        recipients: Vec::new(),
    }
}

/// The one mail in a local outbox (`outbox/`), as sent.
pub async fn only_outbox_mail(outbox: &impl ObjectStore) -> Vec<u8> {
    let keys = outbox.list(OUTBOX_PREFIX).await.expect("list");
    assert_eq!(keys.len(), 1, "{keys:?}");
    outbox
        .get(&keys[0])
        .await
        .expect("get")
        .expect("mail")
        .bytes
}
