//! Physical line counting. A line break is `\n`, `\r\n` (counted once) or a lone `\r`.

/// Counts the line breaks in `bytes`. `next` is the byte after the slice (if known), so a `\r`
/// at the end of the slice is not counted when a `\n` follows it.
pub fn count_breaks(bytes: &[u8], next: Option<u8>) -> u64 {
    let lf = memchr::memchr_iter(b'\n', bytes).count() as u64;
    if memchr::memchr(b'\r', bytes).is_none() {
        return lf;
    }
    let lone_cr = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1).copied().or(next) != Some(b'\n'))
        .count() as u64;
    lf + lone_cr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lf_crlf_and_lone_cr() {
        assert_eq!(count_breaks(b"a\nb\r\nc\rd", None), 3);
        assert_eq!(count_breaks(b"a\r", Some(b'\n')), 0);
        assert_eq!(count_breaks(b"a\r", None), 1);
        assert_eq!(count_breaks(b"", None), 0);
    }
}
