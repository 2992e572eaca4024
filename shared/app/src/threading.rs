//! Who may join a thread. Message-IDs and session tokens are not secrets: a header, token or
//! subject match joins a session only when the sender is on the thread, is one of the
//! company's own addresses, or writes from the customer's own domain — never merely from the
//! same public mail provider. Otherwise the message starts its own session, which records the
//! one it pointed at.

use mail::InboundMessage;
use store::session::{Participant, Session};

/// Mail providers whose domain says nothing about who someone works for.
pub const PUBLIC_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "yahoo.es",
    "yahoo.co.jp",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "freenet.de",
    "posteo.de",
    "mailbox.org",
    "mail.ru",
    "bk.ru",
    "list.ru",
    "inbox.ru",
    "yandex.ru",
    "yandex.com",
    "ukr.net",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "zoho.com",
    "mail.com",
    "email.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "wanadoo.fr",
    "libero.it",
    "virgilio.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "onet.pl",
    "interia.pl",
    "naver.com",
    "daum.net",
    "rediffmail.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "btinternet.com",
    "sky.com",
    "fastmail.com",
    "hey.com",
    "bluewin.ch",
    "telenet.be",
    "skynet.be",
    "ziggo.nl",
    "kpnmail.nl",
    "terra.com.br",
    "uol.com.br",
    "bol.com.br",
];

/// The domain of an address, lower-cased.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

/// True for a public mail provider's domain (or a subdomain of one).
pub fn is_public(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    PUBLIC_PROVIDERS
        .iter()
        .any(|p| d == *p || d.ends_with(&format!(".{p}")))
}

/// Whether `msg` may join `session` by a header, token or subject match.
pub fn may_join(session: &Session, msg: &InboundMessage, internal_domains: &[String]) -> bool {
    let senders: Vec<&str> = msg
        .from
        .iter()
        .chain(msg.customer.iter())
        .map(|m| m.address.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    if senders.is_empty() {
        return false;
    }
    let internal = |a: &str| {
        let d = domain_of(a);
        internal_domains.iter().any(|i| i.eq_ignore_ascii_case(d))
    };
    let customer_domain = session
        .customer
        .as_ref()
        .map(|c| domain_of(&c.address).to_ascii_lowercase())
        .unwrap_or_default();
    senders.iter().any(|s| {
        session.has_participant(s)
            || internal(s)
            || (!customer_domain.is_empty()
                && !is_public(&customer_domain)
                && domain_of(s).eq_ignore_ascii_case(&customer_domain))
    })
}

/// The people a message puts on its thread: the customer first, then every external address on
/// From/To/Cc, minus our own addresses (`ours`) and the company's domains.
pub fn participants_of(
    msg: &InboundMessage,
    ours: &[String],
    internal_domains: &[String],
) -> Vec<Participant> {
    let mut out: Vec<Participant> = Vec::new();
    let external = |a: &str| {
        !a.is_empty()
            && a.contains('@')
            && !ours.iter().any(|o| o.eq_ignore_ascii_case(a))
            && !internal_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain_of(a)))
    };
    let groups = msg
        .customer
        .iter()
        .map(|m| (m, "customer"))
        .chain(msg.from.iter().map(|m| (m, "from")))
        .chain(msg.to.iter().map(|m| (m, "to")))
        .chain(msg.cc.iter().map(|m| (m, "cc")));
    for (m, role) in groups {
        let address = mail::normalise_address(&m.address);
        if external(&address) && !out.iter().any(|p| p.address == address) {
            out.push(Participant {
                address,
                name: m.name.clone(),
                role: role.to_string(),
            });
        }
    }
    out
}

/// Words of gratitude in the languages the stripper knows.
const THANKS: &[&str] = &[
    "thanks",
    "thank you",
    "thank you so much",
    "thank you very much",
    "thanks a lot",
    "many thanks",
    "thx",
    "ty",
    "cheers",
    "much appreciated",
    "great, thanks",
    "perfect, thanks",
    "danke",
    "vielen dank",
    "danke schön",
    "danke sehr",
    "herzlichen dank",
    "merci",
    "merci beaucoup",
    "gracias",
    "muchas gracias",
    "obrigado",
    "obrigada",
    "muito obrigado",
    "muito obrigada",
    "grazie",
    "grazie mille",
    "dank je",
    "dank je wel",
    "bedankt",
    "hartelijk dank",
    "tack",
    "tack så mycket",
    "takk",
    "tusen takk",
    "tak",
    "mange tak",
    "kiitos",
    "dziękuję",
    "dzięki",
    "děkuji",
    "díky",
    "спасибо",
    "большое спасибо",
    "дякую",
    "teşekkürler",
    "teşekkür ederim",
    "köszönöm",
    "ευχαριστώ",
    "mulțumesc",
    "ありがとう",
    "ありがとうございます",
    "谢谢",
    "感谢",
    "감사합니다",
    "obrigado!",
    "ok thanks",
    "ok, thanks",
    "okay thanks",
];

/// True when a message only says thanks: short, and nothing but gratitude (and a name).
pub fn is_thanks_only(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 80 {
        return false;
    }
    let lines: Vec<String> = t
        .lines()
        .map(|l| {
            l.trim()
                .trim_matches(|c: char| {
                    c.is_ascii_punctuation() || c == '！' || c == '。' || c.is_whitespace()
                })
                .to_lowercase()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let Some(first) = lines.first() else {
        return false;
    };
    // "Thank you!" / "Thanks, Ana" / "Danke schön\nAna": gratitude, then at most a short sign-off.
    let first = first.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let thanks = THANKS.iter().any(|w| {
        first == *w
            || first.strip_prefix(w).is_some_and(|rest| {
                let rest = rest.trim_start_matches([',', '!', '.', ' ', '-']);
                rest.split_whitespace().count() <= 2 && !rest.contains('?')
            })
    });
    thanks
        && lines.len() <= 2
        && lines
            .get(1)
            .is_none_or(|l| l.split_whitespace().count() <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail::Mailbox;

    fn mb(a: &str) -> Mailbox {
        Mailbox {
            name: None,
            address: a.into(),
        }
    }

    fn session(customer: &str, others: &[&str]) -> Session {
        let mut s = Session {
            customer: Some(mail::Mailbox {
                name: None,
                address: customer.into(),
            }),
            ..Session::new("mc-1", "")
        };
        for o in others {
            s.participants.push(Participant {
                address: o.to_string(),
                name: None,
                role: "cc".into(),
            });
        }
        s
    }

    fn msg(from: &str) -> InboundMessage {
        let mut m = mail::parse(b"Subject: x\r\n\r\nhi\r\n", &mail::ParseOptions::default());
        m.from = Some(mb(from));
        m.customer = Some(mb(from));
        m
    }

    #[test]
    fn thanks_only() {
        for t in [
            "Thank you!",
            "Thanks, Ana",
            "thanks a lot!!",
            "Vielen Dank\nMax",
            "Merci beaucoup.",
            "Спасибо!",
            "ありがとうございます。",
            "Many thanks -- Bo",
        ] {
            assert!(is_thanks_only(t), "{t}");
        }
        for t in [
            "Thanks, but it is still broken.",
            "Thank you. Can you also send the invoice?",
            "It works again",
            "",
            "Thanks for the quick fix of the printer driver, the scanner still fails every time I try",
        ] {
            assert!(!is_thanks_only(t), "{t}");
        }
    }

    #[test]
    fn who_may_join() {
        let internal = vec!["acme.com".to_string()];
        let s = session("ana@bigcorp.example", &["cy@partner.example"]);
        assert!(may_join(&s, &msg("ana@bigcorp.example"), &internal));
        assert!(
            may_join(&s, &msg("bo@bigcorp.example"), &internal),
            "a colleague at the customer's company"
        );
        assert!(
            may_join(&s, &msg("cy@partner.example"), &internal),
            "someone who was on Cc"
        );
        assert!(
            may_join(&s, &msg("rep@acme.com"), &internal),
            "our own people"
        );
        assert!(!may_join(&s, &msg("eve@evil.example"), &internal));
        let g = session("ana@gmail.com", &[]);
        assert!(
            !may_join(&g, &msg("eve@gmail.com"), &internal),
            "same public provider is no tie"
        );
        assert!(!may_join(&g, &msg("eve@mail.gmail.com"), &internal));
    }

    #[test]
    fn participants_are_external_people_customer_first() {
        let mut m = msg("ana@client.example");
        m.to = vec![mb("support@acme.com"), mb("Bo@Client.example")];
        m.cc = vec![
            mb("rep@acme.com"),
            mb("cy@partner.example"),
            mb("ana@client.example"),
        ];
        let p = participants_of(&m, &["support@acme.com".into()], &["acme.com".into()]);
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|p| (p.address.as_str(), p.role.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ana@client.example", "customer"),
                ("bo@client.example", "to"),
                ("cy@partner.example", "cc")
            ]
        );
    }
}
