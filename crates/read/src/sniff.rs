//! Dialect sniffing: the delimiter among `,` `;` TAB `|`, from the first records of a sample.

pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// A `sep=X` first line (written by spreadsheets) names the delimiter outright.
pub fn separator_hint(sample: &[u8]) -> Option<u8> {
    let rest = sample
        .strip_prefix(b"sep=")
        .or_else(|| sample.strip_prefix(b"SEP="))?;
    let (&d, after) = rest.split_first()?;
    (is_delimiter(d) && matches!(after.first(), None | Some(b'\n') | Some(b'\r'))).then_some(d)
}

/// A byte that can delimit fields: ASCII (the tokenizer cuts UTF-8 text at it), and not the
/// quote or a line break.
fn is_delimiter(d: u8) -> bool {
    d.is_ascii() && !matches!(d, b'"' | b'\n' | b'\r')
}

/// Picks the candidate that splits the most of the first 20 records into the same number of
/// fields (more than one); ties go to the one with more fields, then to the candidates' order.
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    let rows = count_per_record(sample, 20);
    let mut best = (b',', 0usize, 0usize);
    for (ci, &d) in CANDIDATES.iter().enumerate() {
        let counts: Vec<usize> = rows.iter().map(|r| r[ci]).filter(|&c| c > 0).collect();
        if counts.is_empty() {
            continue;
        }
        // The most common count, and how many records have it.
        let mut sorted = counts.clone();
        sorted.sort_unstable();
        let (mut mode, mut mode_n, mut i) = (0, 0, 0);
        while i < sorted.len() {
            let j = sorted[i..].iter().take_while(|&&c| c == sorted[i]).count();
            if j >= mode_n {
                mode = sorted[i];
                mode_n = j;
            }
            i += j;
        }
        if (mode_n, mode) > (best.1, best.2) {
            best = (d, mode_n, mode);
        }
    }
    best.0
}

/// Per record (quote-aware), how many of each candidate stand outside quotes.
fn count_per_record(sample: &[u8], max_records: usize) -> Vec<[usize; 4]> {
    let mut rows = Vec::new();
    let mut counts = [0usize; 4];
    let mut in_quote = false;
    let mut any = false;
    for &b in sample {
        if b == b'"' {
            in_quote = !in_quote;
            any = true;
            continue;
        }
        if in_quote {
            continue;
        }
        if b == b'\n' || b == b'\r' {
            if any {
                rows.push(counts);
                if rows.len() == max_records {
                    return rows;
                }
            }
            counts = [0; 4];
            any = false;
            continue;
        }
        any = true;
        if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    if any {
        rows.push(counts);
    }
    rows
}

pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "\\t".to_string(),
        d => (d as char).to_string(),
    }
}

/// Parses `--delimiter`: one character, or `tab` / `\t`.
pub fn parse_delimiter(s: &str) -> Option<u8> {
    match s {
        "tab" | "TAB" | "\\t" | "\t" => Some(b'\t'),
        s if s.len() == 1 && is_delimiter(s.as_bytes()[0]) => Some(s.as_bytes()[0]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_candidate() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a|b\n1|2\n"), b'|');
        // Commas inside quotes do not count.
        assert_eq!(sniff_delimiter(b"\"a,b,c\";d\n\"1,2\";3\n"), b';');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn honours_sep_lines() {
        assert_eq!(separator_hint(b"sep=;\r\na;b"), Some(b';'));
        assert_eq!(separator_hint(b"sep=;x"), None);
        // A byte of a multi-byte character (`sep=\xa4` read as UTF-8) or a quote is no
        // delimiter: the line is then an ordinary row.
        assert_eq!(separator_hint(b"sep=\xa4\na\xa4b"), None);
        assert_eq!(separator_hint(b"sep=\"\na"), None);
        assert_eq!(parse_delimiter("tab"), Some(b'\t'));
        assert_eq!(parse_delimiter("ab"), None);
    }
}
