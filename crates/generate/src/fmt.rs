//! Allocation-free formatting into a byte buffer.

/// Appends `n` in decimal.
#[inline]
pub(crate) fn uint(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Appends the low `width` decimal digits of `n`, zero-padded (width <= 20).
#[inline]
pub(crate) fn padded(b: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = width;
    while i > 0 {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    b.extend_from_slice(&tmp[..width]);
}

/// Appends a US dollar amount: `$12.50`, or `"$1,433.66"` (quoted, since the thousands
/// separator is a comma) from 1000 up.
#[inline]
pub(crate) fn money(b: &mut Vec<u8>, cents: u64) {
    let dollars = cents / 100;
    let quoted = dollars >= 1000;
    if quoted {
        b.push(b'"');
    }
    b.push(b'$');
    thousands(b, dollars);
    b.push(b'.');
    padded(b, cents % 100, 2);
    if quoted {
        b.push(b'"');
    }
}

/// Appends a euro amount as eBay.de writes it: `116,99 €`, `1.433,66 €`.
#[inline]
pub(crate) fn money_de(b: &mut Vec<u8>, cents: u64) {
    grouped(b, cents / 100, b'.');
    b.push(b',');
    padded(b, cents % 100, 2);
    b.extend_from_slice(" €".as_bytes());
}

/// Appends `n` with a comma every three digits.
fn thousands(b: &mut Vec<u8>, n: u64) {
    grouped(b, n, b',');
}

/// Appends `n` with `sep` every three digits.
fn grouped(b: &mut Vec<u8>, n: u64, sep: u8) {
    if n < 1000 {
        uint(b, n);
        return;
    }
    grouped(b, n / 1000, sep);
    b.push(sep);
    padded(b, n % 1000, 3);
}

/// Appends a percentage from basis points: 625 -> `6.25%`.
pub(crate) fn percent_bp(b: &mut Vec<u8>, bp: u32) {
    uint(b, u64::from(bp / 100));
    b.push(b'.');
    padded(b, u64::from(bp % 100), 2);
    b.push(b'%');
}

/// True when a CSV field holding `s` must be quoted (with either delimiter the generator
/// writes, `,` or `;`).
#[inline]
pub(crate) fn needs_quotes(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| matches!(c, b',' | b';' | b'"' | b'\n' | b'\r'))
}

/// Appends `s` as one CSV field, quoted (with doubled inner quotes) only when needed.
#[inline]
pub(crate) fn text(b: &mut Vec<u8>, s: &[u8]) {
    if !needs_quotes(s) {
        b.extend_from_slice(s);
        return;
    }
    b.push(b'"');
    for &c in s {
        if c == b'"' {
            b.push(b'"');
        }
        b.push(c);
    }
    b.push(b'"');
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

const GERMAN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
];

/// `%d-%b-%y` with German month abbreviations, as eBay.de writes: `10-Dez-25`, `28-Mär-26`.
pub(crate) fn german_date(days_since_epoch: i64) -> Vec<u8> {
    let (y, m, d) = civil_from_days(days_since_epoch);
    let mut b = Vec::with_capacity(10);
    padded(&mut b, u64::from(d), 2);
    b.push(b'-');
    b.extend_from_slice(GERMAN_MONTHS[(m - 1) as usize].as_bytes());
    b.push(b'-');
    padded(&mut b, y.rem_euclid(100) as u64, 2);
    b
}

/// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `%b-%d-%y`, e.g. `Mar-15-24`.
pub(crate) fn ebay_date(days_since_epoch: i64) -> [u8; 9] {
    let (y, m, d) = civil_from_days(days_since_epoch);
    let mon = MONTHS[(m - 1) as usize];
    let yy = y.rem_euclid(100) as u8;
    [
        mon[0],
        mon[1],
        mon[2],
        b'-',
        b'0' + (d / 10) as u8,
        b'0' + (d % 10) as u8,
        b'-',
        b'0' + yy / 10,
        b'0' + yy % 10,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(s(|b| uint(b, 0)), "0");
        assert_eq!(s(|b| uint(b, u64::MAX)), u64::MAX.to_string());
        assert_eq!(s(|b| padded(b, 42, 5)), "00042");
        assert_eq!(s(|b| padded(b, 123_456, 3)), "456");
        assert_eq!(s(|b| percent_bp(b, 625)), "6.25%");
        assert_eq!(s(|b| percent_bp(b, 0)), "0.00%");
    }

    #[test]
    fn money_formats() {
        assert_eq!(s(|b| money(b, 0)), "$0.00");
        assert_eq!(s(|b| money(b, 1250)), "$12.50");
        assert_eq!(s(|b| money(b, 99_999)), "$999.99");
        assert_eq!(s(|b| money(b, 100_000)), "\"$1,000.00\"");
        assert_eq!(s(|b| money(b, 143_366)), "\"$1,433.66\"");
        assert_eq!(s(|b| money(b, 12_345_678_901)), "\"$123,456,789.01\"");
        assert_eq!(s(|b| money_de(b, 11_699)), "116,99 €");
        assert_eq!(s(|b| money_de(b, 143_366)), "1.433,66 €");
    }

    #[test]
    fn quoting() {
        assert_eq!(s(|b| text(b, b"plain")), "plain");
        assert_eq!(s(|b| text(b, b"Widget, large")), "\"Widget, large\"");
        assert_eq!(
            s(|b| text(b, b"Widget \"XL\" edition")),
            "\"Widget \"\"XL\"\" edition\""
        );
        assert_eq!(s(|b| text(b, b"a\nb")), "\"a\nb\"");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2024-03-15 is day 19797.
        assert_eq!(&ebay_date(19_797), b"Mar-15-24");
        assert_eq!(civil_from_days(19_358), (2023, 1, 1));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
        assert_eq!(&ebay_date(19_782), b"Feb-29-24");
        assert_eq!(german_date(19_797), "15-Mär-24".as_bytes());
        assert_eq!(german_date(20_432), "10-Dez-25".as_bytes());
    }
}
