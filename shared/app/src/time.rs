//! RFC 3339 timestamps without a date-time crate: the only format AWS events use.

/// Seconds since the epoch of an RFC 3339 timestamp such as `2024-03-12T10:15:00.123Z` or
/// `2024-03-12T10:15:00+01:00`; fractions are dropped. `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> { s.get(a..b)?.parse::<i64>().ok() };
    if s.len() < 20 || s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h = rest.get(1..3)?.parse::<i64>().ok()?;
            let m = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("1970-01-01T00:00:00.123Z", Some(0)),
            ("2024-03-12T10:15:00Z", Some(1_710_238_500)),
            ("2024-03-12T11:15:00+01:00", Some(1_710_238_500)),
            ("2000-02-29T00:00:00Z", Some(951_782_400)),
            ("not a date", None),
            ("2024-13-01T00:00:00Z", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_rfc3339(input), expected, "{input:?}");
            if let Some(ts) = expected
                && input.ends_with('Z')
                && !input.contains('.')
            {
                assert_eq!(mail::rfc3339_utc(ts), input);
            }
        }
    }
}
