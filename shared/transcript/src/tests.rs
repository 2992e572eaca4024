use super::*;

fn entry(ts: &str, dir: Direction, author: &str, text: &str) -> Entry {
    Entry {
        timestamp: ts.into(),
        direction: dir,
        author: author.into(),
        text: text.into(),
        attachments: vec![],
    }
}

fn thread(n: usize, text_len: usize) -> Thread {
    Thread {
        session_id: "mc-0123456789abcdef".into(),
        customer_name: Some("Ana Lima".into()),
        customer_email: Some("ana@example.com".into()),
        previous_ticket: None,
        related: None,
        participants: Vec::new(),
        messages: (0..n)
            .map(|i| {
                entry(
                    &format!("2024-03-12T10:{:02}:00Z", i % 60),
                    Direction::Inbound,
                    "Ana Lima <ana@example.com>",
                    &format!("message {i} {}", "x".repeat(text_len)),
                )
            })
            .collect(),
    }
}

#[test]
fn titles() {
    let mut t = thread(1, 1);
    assert_eq!(title(Some("Billing"), &t, 200), "Billing - Ana Lima");
    assert_eq!(title(None, &t, 200), "Support - Ana Lima");
    t.customer_name = None;
    assert_eq!(title(Some("Billing"), &t, 200), "Billing - ana@example.com");
    t.customer_email = None;
    assert_eq!(title(None, &t, 200), "Support - Anonymous");
    assert_eq!(
        title(Some("Line\r\nbreak"), &t, 200),
        "Line break - Anonymous"
    );
    let long = title(Some(&"é".repeat(300)), &t, 200);
    assert_eq!(dv_len(&long), 200);
    assert!(long.ends_with('…'));
}

#[test]
fn header_lines_in_order() {
    let t = thread(1, 1);
    let d = Details {
        classification: Some("Billing".into()),
        sentiment: Some("negative".into()),
        summary: Some("Charged twice".into()),
        session_url: Some("https://console.example/sessions/mc-0123456789abcdef".into()),
        dropped_properties: vec![(
            "new_customerpriority".into(),
            "label \"High\" given; option values 1, 2, 3".into(),
        )],
        attachment_lines: vec!["Inline images not uploaded: 2".into()],
    };
    let h = header(&t, &d);
    assert_eq!(
        h,
        "Channel: email\nClassification: Billing\nSentiment: negative\nSummary: Charged twice\nCustomer: Ana Lima\nEmail: ana@example.com\nSession: https://console.example/sessions/mc-0123456789abcdef\nDropped ticket property new_customerpriority: label \"High\" given; option values 1, 2, 3\nInline images not uploaded: 2\n"
    );
}

#[test]
fn full_description_when_it_fits() {
    let mut t = thread(3, 5);
    t.messages[1].direction = Direction::Outbound;
    t.messages[1].author = "Acme Support <support@acme.com>".into();
    t.messages[2].attachments = vec![("photo.jpg".into(), 2048)];
    let d = description(&t, &Details::default(), 2000);
    assert!(!d.truncated);
    assert!(d.text.contains("--- Transcript (3 messages) ---"));
    let i0 = d.text.find("message 0").expect("m0");
    let i1 = d.text.find("message 1").expect("m1");
    let i2 = d.text.find("message 2").expect("m2");
    assert!(i0 < i1 && i1 < i2);
    assert!(
        d.text
            .contains("[2024-03-12 10:01:00 UTC] Acme Support <support@acme.com> (support):")
    );
    assert!(d.text.contains("Attachments: photo.jpg (2.0 KB)"));
}

#[test]
fn long_thread_keeps_newest_within_limit() {
    let t = thread(40, 200);
    for max in [2000, 1000, 500, 300] {
        let d = description(&t, &Details::default(), max);
        assert!(d.truncated);
        assert!(dv_len(&d.text) <= max, "{max}: {}", dv_len(&d.text));
        assert!(d.text.starts_with("Channel: email\n"));
        assert!(d.text.contains("not shown"), "{max}");
        if max >= 500 {
            assert!(d.text.contains("message 39"), "newest kept at {max}");
            assert!(!d.text.contains("message 0 "), "oldest dropped at {max}");
        }
    }
}

#[test]
fn one_huge_message_is_cut_not_dropped() {
    let t = thread(1, 10_000);
    let d = description(&t, &Details::default(), 2000);
    assert!(d.truncated);
    assert!(dv_len(&d.text) <= 2000);
    assert!(d.text.contains("message 0"));
    assert!(
        d.text.contains("Transcript: the message is cut short"),
        "{}",
        d.text
    );
}

#[test]
fn a_newest_message_too_long_to_fit_is_shown_cut_and_not_counted_as_left_out() {
    let mut t = thread(2, 100);
    t.messages[1] = entry(
        "2024-03-12T11:00:00Z",
        Direction::Inbound,
        "Ana",
        &format!("message 1 {}", "y".repeat(10_000)),
    );
    let d = description(&t, &Details::default(), 2000);
    assert!(dv_len(&d.text) <= 2000);
    assert!(d.text.contains("message 1 yyy"), "{}", d.text);
    assert!(
        d.text.contains("1 of 2 earlier messages not shown"),
        "{}",
        d.text
    );
}

#[test]
fn notes_hold_everything() {
    let t = thread(40, 200);
    let notes = notes(&t, &Details::default(), 100_000);
    assert_eq!(notes.len(), 1);
    for i in 0..40 {
        assert!(notes[0].contains(&format!("message {i} ")));
    }
    let split_notes = super::notes(&t, &Details::default(), 3000);
    assert!(split_notes.len() > 1);
    assert!(split_notes.iter().all(|n| dv_len(n) <= 3000));
    let joined = split_notes.join("\n");
    for i in 0..40 {
        assert!(joined.contains(&format!("message {i} ")));
    }
}

#[test]
fn utf16_length_is_the_measure() {
    assert_eq!(dv_len("héllo"), 5);
    assert_eq!(dv_len("😀"), 2);
    assert_eq!(cut("a😀b", 2), "a");
    assert_eq!(cut("a😀b", 3), "a😀");
}
