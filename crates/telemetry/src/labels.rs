//! A result row's labels as small numbers into its answer's table of strings: a graph of a 4,000-workload mesh
//! reads hundreds of thousands of rows of a dozen labels, and a pair of 4-byte numbers is an eighth of a pair of
//! shared strings (which are fat pointers, each pair in a vector grown by doubling).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap;

/// The distinct label names and values of one answer.
#[derive(Default)]
pub struct LabelStrings(Box<[Box<str>]>);

impl LabelStrings {
    fn get(&self, id: u32) -> &str {
        self.0.get(id as usize).map_or("", |s| s)
    }
}

/// An answer with more distinct label strings than a row can number (2^32): far more than any answer holds.
#[derive(Debug, thiserror::Error)]
#[error("more than 2^32 distinct label strings in one answer")]
pub struct LabelTableFull;

/// Numbers strings as an answer is read; [`LabelTable::finish`] freezes them for the answer's rows.
#[derive(Default)]
pub struct LabelTable {
    ids: FxHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl LabelTable {
    /// The number of `s`, the same for every occurrence.
    pub fn id(&mut self, s: &str) -> Result<u32, LabelTableFull> {
        if let Some(&id) = self.ids.get(s) {
            return Ok(id);
        }
        let id = u32::try_from(self.strings.len()).map_err(|_| LabelTableFull)?;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        Ok(id)
    }

    /// The string numbered `id`.
    pub fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// `pairs` sorted by label name, as rows keep them.
    pub fn sort(&self, pairs: &mut [(u32, u32)]) {
        pairs.sort_unstable_by(|a, b| self.text(a.0).cmp(self.text(b.0)));
    }

    pub fn finish(self) -> Arc<LabelStrings> {
        Arc::new(LabelStrings(self.strings.into_boxed_slice()))
    }
}

/// A row's labels, sorted by name. Compared, ordered and printed by their text.
#[derive(Clone)]
pub struct Labels {
    strings: Arc<LabelStrings>,
    pairs: Box<[(u32, u32)]>,
}

impl Labels {
    /// `pairs` must be ids of `strings`, sorted by name ([`LabelTable::sort`]).
    pub fn new(strings: Arc<LabelStrings>, pairs: Box<[(u32, u32)]>) -> Labels {
        Labels { strings, pairs }
    }

    /// The value of `name`, if the row has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        // A scan beats a binary search here: most names differ in length, which is compared before any byte.
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// (name, value) in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|&(k, v)| (self.strings.get(k), self.strings.get(v)))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Labels {}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    fn cmp(&self, other: &Labels) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{LabelTable, Labels};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        let mut table = LabelTable::default();
        let mut ids: Vec<(u32, u32)> =
            pairs.iter().map(|(k, v)| (table.id(k).unwrap(), table.id(v).unwrap())).collect();
        table.sort(&mut ids);
        Labels::new(table.finish(), ids.into())
    }

    #[test]
    fn labels_read_compare_and_order_by_their_text() {
        let a = labels(&[("b", "2"), ("a", "x")]);
        assert_eq!(a.iter().collect::<Vec<_>>(), [("a", "x"), ("b", "2")]);
        assert_eq!((a.get("b"), a.get("c")), (Some("2"), None));
        // Numbered in another order by another table, still equal.
        assert_eq!(a, labels(&[("a", "x"), ("b", "2")]));
        assert!(a < labels(&[("a", "y")]));
        assert_eq!(format!("{a:?}"), r#"{"a": "x", "b": "2"}"#);
        assert!(labels(&[]).is_empty());
    }
}
