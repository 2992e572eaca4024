//! Thread subjects: reply/forward prefixes removed so a thread keeps one key.

/// The subject without `Re:`/`Fwd:`/`AW:`/`WG:`/`SV:`/`VS:`/`Antw:`/`Réf:`/`回复:`... prefixes,
/// `[list]` tags, numbered forms (`Re[2]:`) and trailing `(fwd)`, whitespace collapsed.
pub fn thread_subject(subject: &str) -> String {
    mail_parser::parsers::fields::thread::thread_name(subject).trim().to_string()
}
