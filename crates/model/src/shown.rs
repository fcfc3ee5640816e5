//! File text as messages show it. A header name or a value can hold anything a file holds:
//! escape sequences that recolour or rewrite the terminal, a carriage return that hides what
//! came before it, bidi overrides that reorder a line, or a hundred thousand column names.
//! Every message that quotes file text goes through these, so what reaches a terminal, a log
//! or the job record is one bounded line of visible characters.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters of one piece of file text a message shows before cutting it with `…`.
pub const SHOWN_CHARS: usize = 80;

/// Names a message lists before it counts the rest (`… and 12 more`).
pub const SHOWN_NAMES: usize = 10;

/// Characters that change how a terminal shows the text around them: C0 and C1 controls
/// (ESC, CR, NUL, …), DEL, the bidi embeddings, overrides, isolates and marks, and the
/// Unicode line and paragraph separators.
pub fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// `s` with every [`is_hidden_control`] character escaped as Rust writes it (`\u{1b}`, `\r`,
/// `\0`); borrowed when there is none, which is the common case.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden_control(c) {
            let _ = write!(out, "{}", c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Truncates on a char boundary and marks the cut with an ellipsis.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((idx, _)) => format!("{}…", &s[..idx]),
    }
}

/// One piece of file text (a header name) as a message names it, unquoted: its first
/// [`SHOWN_CHARS`] characters, controls escaped.
pub fn shown(s: &str) -> String {
    escape_controls(&truncate_chars(s, SHOWN_CHARS)).into_owned()
}

/// A value as a message quotes it: its first `max` characters in double quotes, with
/// controls, quotes and backslashes escaped.
pub fn quoted(s: &str, max: usize) -> String {
    format!("{:?}", truncate_chars(s, max))
}

/// File texts as a message lists them: the first [`SHOWN_NAMES`], each [`shown`], then how
/// many more there are.
pub fn shown_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = items
        .iter()
        .take(SHOWN_NAMES)
        .map(|s| shown(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN_NAMES {
        let _ = write!(out, " and {} more", items.len() - SHOWN_NAMES);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_bidi_overrides() {
        assert_eq!(escape_controls("plain, ä €"), "plain, ä €");
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("\u{1b}[31mred\u{1b}[0m\r\0\t\u{7f}\u{85}"),
            "\\u{1b}[31mred\\u{1b}[0m\\r\\0\\t\\u{7f}\\u{85}"
        );
        assert_eq!(
            escape_controls("a\u{202e}b\u{2066}c\u{200f}d\u{2028}"),
            "a\\u{202e}b\\u{2066}c\\u{200f}d\\u{2028}"
        );
        // Escaping twice changes nothing: output already escaped stays as it is.
        let once = escape_controls("x\u{1b}y").into_owned();
        assert_eq!(escape_controls(&once), once);
    }

    #[test]
    fn shown_text_is_cut_to_its_first_characters() {
        let long = "é".repeat(200);
        let s = shown(&long);
        assert_eq!(s.chars().count(), SHOWN_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(shown("\u{1b}x"), "\\u{1b}x");
    }

    #[test]
    fn quoted_values_escape_quotes_and_controls() {
        assert_eq!(quoted("a\"b\u{1b}", 50), "\"a\\\"b\\u{1b}\"");
        assert_eq!(quoted("abcdef", 3), "\"abc…\"");
    }

    #[test]
    fn lists_stop_after_the_first_names() {
        let names: Vec<String> = (0..100_000).map(|i| format!("col{i}")).collect();
        let listed = shown_list(&names);
        assert!(listed.starts_with("col0, col1, "), "{listed}");
        assert!(listed.ends_with("col9 and 99990 more"), "{listed}");
        assert_eq!(shown_list(&["a", "b"]), "a, b");
        assert_eq!(shown_list::<&str>(&[]), "");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("äöü", 2), "äö…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
