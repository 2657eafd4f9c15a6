//! Text made safe for a terminal. Names and label values come from files and clusters anyone may have written: an
//! escape sequence in a `destination_workload` would otherwise retitle the window, clear the screen or rewrite
//! what the user reads, and a bidirectional control would reorder it. Every such character is shown, never sent.

pub mod table;

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a line break in the text is the text's own (kept) or part of a value (shown as `\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    /// Multi-line text meshlens wrote, such as a whole table.
    Keep,
    /// One value, such as a table cell: a line break in it would forge a line of the output.
    Escape,
}

/// The text with every control character (C0, DEL, C1) and Unicode bidirectional control escaped as a visible
/// `\x1b`, `\n` or `\u{202e}`; unchanged (and not copied) when it has none.
pub fn escape(text: &str, newlines: Newlines) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_hidden(c) && !(c == '\n' && newlines == Newlines::Keep);
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if c.is_ascii() => write!(out, "\\x{:02x}", u32::from(c)),
            c => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

/// A control character, or a character that changes the direction of the text after it (the marks and the
/// embeddings, overrides and isolates that "Trojan Source" used to make code read differently than it runs).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_controls_are_shown_not_sent() {
        let hostile = "reviews\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}gnp.exe\u{2066}\r\t\x7f";
        let shown = escape(hostile, Newlines::Escape);
        assert_eq!(shown, "reviews\\x1b]0;owned\\x07\\x1b[2J\\u{9b}31m\\u{202e}gnp.exe\\u{2066}\\r\\t\\x7f");
        assert!(!shown.chars().any(is_hidden));
    }

    #[test]
    fn line_breaks_are_kept_in_text_and_shown_in_values() {
        assert_eq!(escape("a\nb\x1b", Newlines::Keep), "a\nb\\x1b");
        assert_eq!(escape("a\nb", Newlines::Escape), "a\\nb");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let text = "reviews-6d4f9b7c8 → ratings · 20% «ok» 日本";
        assert!(matches!(escape(text, Newlines::Escape), Cow::Borrowed(t) if t == text));
    }
}
