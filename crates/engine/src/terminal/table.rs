//! Aligned text columns, the way `kubectl` and the Argo CLI print them: every column but the last padded to its
//! widest cell plus two spaces, widths counted in characters, no trailing blanks.

use std::borrow::Cow;

use crate::terminal::{Newlines, escape};

/// Renders rows of cells as aligned lines. Cells are values: control characters and line breaks in them are shown
/// escaped (and counted so), never sent to the terminal.
pub fn render(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Cow<'_, str>>> =
        rows.iter().map(|row| row.iter().map(|cell| escape(cell, Newlines::Escape)).collect()).collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row).take(columns.saturating_sub(1)) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One `Label:  value` line of a `kubectl describe`-style view, the value aligned after a 17-column label and
/// shown escaped (it is one value, so a line break in it is shown too).
pub fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let value = value.to_string();
    out.push_str(&format!("{label:<17}{}\n", escape(&value, Newlines::Escape)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell_and_the_last_is_not_padded() {
        let rows = vec![
            vec!["NAME".to_string(), "KIND".into(), "INFO".into()],
            vec!["└──□ pod-a".to_string(), "Pod".into(), "".into()],
            vec!["x".to_string(), "ReplicaSet".into(), "stable".into()],
        ];
        assert_eq!(render(&rows), "NAME        KIND        INFO\n└──□ pod-a  Pod\nx           ReplicaSet  stable\n");
    }
}
