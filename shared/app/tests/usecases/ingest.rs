//! Ingest: a new thread is one session, its replies join it, a redelivery is filed once, and
//! mail that must not become a case (loops, auto-replies) is recorded with its reason instead.

use app::events::{MAIL_NOT_FILED, MESSAGE_FILED, SESSION_CREATED};
use app::ingest::UnfiledRecord;
use store::ids::MessageKey;
use store::layout;

use crate::world::{SUPPORT, World, mail};

#[tokio::test]
async fn a_new_thread_creates_one_session_and_announces_it() {
    let w = World::start().await;
    let o = w.ingest(&mail("m1@client.example"), "ses-1").await;
    assert_eq!(o.disposition, "customer");
    assert!(o.new_session && !o.duplicate && !o.followup, "{o:?}");
    let sid = o.session_id.expect("filed");
    let all = w.sessions().await;
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.id, sid);
    assert_eq!(
        s.customer.as_ref().map(|c| c.address.as_str()),
        Some("ana@client.example")
    );
    assert_eq!(s.messages.len(), 1);
    assert_eq!(s.messages[0].reply_text, "My order 1042 arrived damaged.");
    assert_eq!(s.route.as_deref(), Some("*"));
    assert_eq!(w.feed.types(), [SESSION_CREATED, MESSAGE_FILED]);
    assert!(w.queued().await.is_empty(), "a manual route queues nothing");
}

#[tokio::test]
async fn replies_join_by_in_reply_to_references_or_session_token() {
    let (w, sid) = World::with_session().await;
    // In-Reply-To.
    let o = w
        .ingest(
            &mail("m2@client.example").reply_to("m1@client.example"),
            "ses-2",
        )
        .await;
    assert_eq!(o.session_id.as_deref(), Some(sid.as_str()));
    assert!(!o.new_session);
    // References only, and a subject of its own.
    let refs = mail("m3@client.example")
        .subject("Something else entirely")
        .header("References", "<m1@client.example> <m2@client.example>");
    assert_eq!(w.file(&refs, "ses-3").await, sid);
    // No headers at all, but our session token in the subject.
    let token = app::tokens::session_token(&sid);
    let by_token = mail("m4@client.example").subject(&format!("Still broken {token}"));
    assert_eq!(w.file(&by_token, "ses-4").await, sid);
    // Another subject without any of them is another thread.
    let other = mail("m5@client.example").subject("A new question");
    assert_ne!(w.file(&other, "ses-5").await, sid);
    assert_eq!(w.session(&sid).await.messages.len(), 4);
    assert_eq!(w.sessions().await.len(), 2);
}

#[tokio::test]
async fn a_redelivered_message_is_filed_once() {
    let w = World::start().await;
    let m = mail("m1@client.example");
    let first = w.ingest(&m, "ses-1").await;
    let again = w.ingest(&m, "ses-1").await;
    assert_eq!(again.session_id, first.session_id);
    assert!(again.duplicate && !again.new_session, "{again:?}");
    assert_eq!(again.message_key, first.message_key);
    let sid = first.session_id.expect("filed");
    assert_eq!(w.session(&sid).await.messages.len(), 1);
    // Without a Message-ID the SES receipt is the message's identity.
    let bare = mail("unused").without("Message-ID").subject("No id here");
    let a = w.ingest(&bare, "ses-bare").await;
    let b = w.ingest(&bare, "ses-bare").await;
    assert_eq!(
        a.message_key,
        MessageKey::of_ses_receipt("ses-bare").as_str()
    );
    assert!(b.duplicate, "{b:?}");
    let bare_sid = b.session_id.expect("filed");
    assert_eq!(w.session(&bare_sid).await.messages.len(), 1);
    assert_eq!(w.sessions().await.len(), 2);
}

#[tokio::test]
async fn mail_from_the_support_address_is_a_loop_and_not_filed() {
    let w = World::start().await;
    let m = mail("loop@acme.com").from(&format!("Acme Support <{SUPPORT}>"));
    let o = w.ingest(&m, "ses-loop").await;
    assert_eq!(o.disposition, "loop");
    assert_eq!(o.reason, "sent from our own address");
    assert!(o.session_id.is_none());
    assert!(w.sessions().await.is_empty());
    let record: UnfiledRecord = w
        .sessions
        .get_json(&layout::unfiled(&o.message_key))
        .await
        .expect("read")
        .expect("recorded under unfiled/");
    assert_eq!(record.disposition, "loop");
    assert_eq!(record.ses_message_id, "ses-loop");
    let not_filed = w.feed.of(MAIL_NOT_FILED);
    assert_eq!(not_filed.len(), 1, "{:?}", w.feed.types());
    assert_eq!(not_filed[0]["disposition"], "loop");
}

#[tokio::test]
async fn auto_replies_are_recorded_not_filed_even_inside_a_thread() {
    let (w, sid) = World::with_session().await;
    // RFC 3834 header, answering our thread.
    let oof = mail("oof@client.example")
        .reply_to("m1@client.example")
        .header("Auto-Submitted", "auto-replied");
    // An out-of-office subject without any header.
    let away = mail("away@client.example").subject("Out of Office: back on Monday");
    for (m, ses) in [(&oof, "ses-oof"), (&away, "ses-away")] {
        let o = w.ingest(m, ses).await;
        assert_eq!(o.disposition, "auto_reply", "{o:?}");
        assert!(o.session_id.is_none());
        assert!(!o.reason.is_empty());
        let unfiled = layout::unfiled(&o.message_key);
        assert!(w.keys(&unfiled).await.contains(&unfiled));
    }
    assert_eq!(w.session(&sid).await.messages.len(), 1);
    assert_eq!(w.sessions().await.len(), 1);
    // `Auto-Submitted: no` is a person writing: filed into the thread.
    let person = mail("m2@client.example")
        .reply_to("m1@client.example")
        .header("Auto-Submitted", "no");
    assert_eq!(w.file(&person, "ses-2").await, sid);
    assert_eq!(w.keys(layout::UNFILED_PREFIX).await.len(), 2);
}
