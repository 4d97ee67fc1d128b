//! Unquoted timestamps: which plain scalars go-yaml takes for a timestamp, and
//! the RFC 3339 text kustomize prints for one.
//!
//! go-yaml v3 reads a plain scalar as a `time.Time` when it starts with four
//! digits and `-` and Go's `time.Parse` accepts it with one of the layouts
//! `2006-1-2T15:4:5.999999999Z07:00`, the same with a lowercase `t`,
//! `2006-1-2 15:4:5.999999999` (no zone: UTC) or `2006-1-2`. kustomize then
//! converts the resource to JSON, where `time.Time` marshals as
//! `2006-01-02T15:04:05.999999999Z07:00`: zero offsets become `Z`, the fraction
//! is cut at nine digits and loses its trailing zeros. The writer needs the
//! same test to quote such strings, so both share [`parse`].

/// One timestamp as `time.Parse` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    /// Nanoseconds: the first nine digits of the fraction.
    nanos: u32,
    /// Zone offset in minutes east of UTC (0 for `Z` and zone-less forms).
    offset: i32,
}

impl Timestamp {
    /// Go's `time.Time.MarshalJSON` text, or `None` where Go refuses to marshal
    /// it (an offset of 24 hours or more, which `time.Parse` accepts).
    pub(crate) fn rfc3339(&self) -> Option<String> {
        let Timestamp {
            year,
            month,
            day,
            hour,
            min,
            sec,
            nanos,
            offset,
        } = *self;
        let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}");
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        if offset == 0 {
            out.push('Z');
        } else {
            let abs = offset.unsigned_abs();
            if abs / 60 >= 24 {
                return None;
            }
            out.push(if offset < 0 { '-' } else { '+' });
            out.push_str(&format!("{:02}:{:02}", abs / 60, abs % 60));
        }
        Some(out)
    }
}

/// Go's `getnum(s, fixed=false)`: one digit, or two if the second is a digit.
fn getnum(b: &[u8], i: &mut usize) -> Option<u32> {
    let d0 = b.get(*i).filter(|c| c.is_ascii_digit())?;
    let mut v = u32::from(d0 - b'0');
    *i += 1;
    if let Some(d1) = b.get(*i).filter(|c| c.is_ascii_digit()) {
        v = v * 10 + u32::from(d1 - b'0');
        *i += 1;
    }
    Some(v)
}

fn expect(b: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (b.get(*i) == Some(&c)).then(|| *i += 1)
}

fn two_digits(x: &[u8]) -> Option<u32> {
    match x {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

/// The timestamp `b` spells for go-yaml, if any (see the module comment).
pub(crate) fn parse(b: &[u8]) -> Option<Timestamp> {
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if lead != 4 || b.get(4) != Some(&b'-') {
        return None;
    }
    let year: u32 = b
        .get(..4)?
        .iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'));
    let mut i = 5;
    let month = getnum(b, &mut i)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    expect(b, &mut i, b'-')?;
    let day = getnum(b, &mut i)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days_in {
        return None;
    }
    let mut ts = Timestamp {
        year,
        month,
        day,
        hour: 0,
        min: 0,
        sec: 0,
        nanos: 0,
        offset: 0,
    };
    if i == b.len() {
        return Some(ts); // "2006-1-2"
    }
    let with_zone = match b.get(i) {
        Some(b'T' | b't') => {
            i += 1;
            true
        }
        Some(b' ') => {
            // A space in a Go layout matches any run of spaces.
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            false
        }
        _ => return None,
    };
    ts.hour = getnum(b, &mut i)?;
    expect(b, &mut i, b':')?;
    ts.min = getnum(b, &mut i)?;
    expect(b, &mut i, b':')?;
    ts.sec = getnum(b, &mut i)?;
    if ts.hour >= 24 || ts.min >= 60 || ts.sec >= 60 {
        return None;
    }
    // Optional fraction: '.' or ',' and at least one digit; any number of
    // digits is read, the first nine count.
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut n = 0;
        while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if n < 9 {
                ts.nanos = ts.nanos * 10 + u32::from(d - b'0');
                n += 1;
            }
            i += 1;
        }
        for _ in n..9 {
            ts.nanos *= 10;
        }
    }
    if with_zone {
        if b.get(i) == Some(&b'Z') {
            i += 1;
        } else {
            let z = b.get(i..i + 6)?;
            if z.get(3) != Some(&b':') {
                return None;
            }
            let hh = two_digits(z.get(1..3)?)?;
            let mm = two_digits(z.get(4..6)?)?;
            // Go allows 24 hours and 60 minutes here.
            if hh > 24 || mm > 60 {
                return None;
            }
            let minutes = i32::try_from(hh * 60 + mm).ok()?;
            ts.offset = match z.first() {
                Some(b'+') => minutes,
                Some(b'-') => -minutes,
                _ => return None,
            };
            i += 6;
        }
    }
    (i == b.len()).then_some(ts)
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn json(s: &str) -> Option<String> {
        parse(s.as_bytes()).and_then(|t| t.rfc3339())
    }

    // Expected texts measured with kubectl kustomize v5.5.0 (fixtures/timestamps-*).
    #[test]
    fn go_rfc3339_text() {
        assert_eq!(
            json("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            json("2001-12-14T21:59:43.1234567891234+00:00").as_deref(),
            Some("2001-12-14T21:59:43.123456789Z")
        );
        assert_eq!(
            json("2001-12-14T01:02:03.000000000001Z").as_deref(),
            Some("2001-12-14T01:02:03Z")
        );
        assert_eq!(
            json("2001-12-14T21:59:43,5Z").as_deref(),
            Some("2001-12-14T21:59:43.5Z")
        );
        assert_eq!(
            json("2001-12-14T21:59:43-00:30").as_deref(),
            Some("2001-12-14T21:59:43-00:30")
        );
        assert_eq!(
            json("2001-12-14T21:59:43.5-00:00").as_deref(),
            Some("2001-12-14T21:59:43.5Z")
        );
        assert_eq!(
            json("2001-12-14  21:59:43").as_deref(),
            Some("2001-12-14T21:59:43Z")
        );
        assert_eq!(
            json("2001-1-2T3:4:5Z").as_deref(),
            Some("2001-01-02T03:04:05Z")
        );
        assert_eq!(json("2000-02-29").as_deref(), Some("2000-02-29T00:00:00Z"));
    }

    #[test]
    fn not_timestamps() {
        for s in [
            "1900-02-29",
            "2001-02-30",
            "2001-12-14T21:59:43.000",
            "2001-12-14t21:59:43z",
            "2001-12-14T21:59:43.Z",
            "2001-12-14T21:59:43+05:30:00",
            "2001-12-14 21:59:43Z",
            "2001-12-14 21:59",
            "2001-012-14",
            "12001-12-14",
            "2001-12-14T25:59:43Z",
            "2001-12-14T21:59:60Z",
        ] {
            assert!(parse(s.as_bytes()).is_none(), "{s}");
        }
    }

    #[test]
    fn offsets_go_cannot_marshal() {
        assert!(parse(b"2001-12-14T21:59:43+24:00").is_some());
        assert_eq!(json("2001-12-14T21:59:43+24:00"), None);
        assert_eq!(json("2001-12-14T21:59:43+23:60"), None);
    }
}
