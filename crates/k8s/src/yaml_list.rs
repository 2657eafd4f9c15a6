//! Finds the items of a YAML `kind: List` in its text, so that each is parsed, typed and dropped before the next,
//! as a JSON list's are: `kubectl get -o yaml` of a busy namespace is one document of thousands of objects. Only
//! the layout kubectl and other tools write is taken apart (a block sequence under a top-level `items:`, without
//! anchors or aliases); any other document is parsed whole, as before.
#![deny(clippy::arithmetic_side_effects)]

/// A list document's declared kind and apiVersion (each item's defaults) and its items.
pub struct YamlList<'a> {
    pub kind: String,
    pub api_version: String,
    pub items: Vec<Item<'a>>,
}

/// One item as it stands in the list: its lines, dash and indentation included.
pub struct Item<'a> {
    /// The item's first line, counted from 0 in the document's text.
    pub line: usize,
    text: &'a str,
    /// The column of the item's dash.
    indent: usize,
}

impl Item<'_> {
    /// The item as a document of its own: the dash and the sequence's indentation taken off its lines, so every
    /// line keeps its number (errors point into the file).
    pub fn document(&self) -> String {
        let strip = self.indent.saturating_add(2);
        let mut out = String::with_capacity(self.text.len());
        let mut push = |line: &str| out.push_str(line.get(strip.min(leading_spaces(line))..).unwrap_or_default());
        let mut lines = self.text.split_inclusive('\n');
        // The dash counts as indentation: `- a: 1` is `a: 1` at the items' column, `-` alone an empty line.
        if let Some(first) = lines.next() {
            push(&first.replacen('-', " ", 1));
        }
        lines.for_each(push);
        out
    }
}

/// The items of `text` when it is a `kind: ...List` document with a block sequence of items; `None` for any other
/// document, and for lists laid out otherwise (parsed whole by the caller).
pub fn list_items(text: &str) -> Option<YamlList<'_>> {
    if may_hold_anchors(text) {
        return None;
    }
    let (mut kind, mut api_version) = (None, String::new());
    let mut items: Vec<Item<'_>> = Vec::new();
    // Where the sequence is: not reached, being read (with its dash column once known), or behind.
    let mut sequence = Sequence::Before;
    let mut current: Option<(usize, usize)> = None; // (start byte, start line) of the item being read
    let mut offset = 0usize;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset = offset.saturating_add(line.len());
        let content = line.trim_end_matches(['\n', '\r']);
        if is_blank_or_comment(content) {
            continue;
        }
        if content.starts_with('\t') {
            return None;
        }
        let lead = leading_spaces(content);
        let dash = content.get(lead..).is_some_and(|rest| rest.starts_with("- ") || rest == "-");
        if let Sequence::In(column) = sequence {
            let column = match column {
                None if dash => lead,
                None => return None,
                Some(column) => column,
            };
            sequence = Sequence::In(Some(column));
            if lead == column && dash {
                close(&mut items, &mut current, text, start, column);
                current = Some((start, line_no));
                continue;
            }
            if lead >= column.saturating_add(2) {
                continue;
            }
            if lead != 0 {
                return None;
            }
            close(&mut items, &mut current, text, start, column);
            sequence = Sequence::After;
        }
        if lead != 0 {
            continue; // inside another top-level key's value
        }
        let (key, value) = content.split_once(':')?;
        let value = uncommented(value);
        match key {
            "items" if value.is_empty() && matches!(sequence, Sequence::Before) => sequence = Sequence::In(None),
            "items" => return None,
            "kind" => kind = Some(unquoted(value).to_owned()),
            "apiVersion" => api_version = unquoted(value).to_owned(),
            _ => {}
        }
    }
    if let Sequence::In(Some(column)) = sequence {
        close(&mut items, &mut current, text, text.len(), column);
    }
    let kind = kind.filter(|k| k.ends_with("List") && !items.is_empty())?;
    Some(YamlList { kind, api_version, items })
}

enum Sequence {
    Before,
    In(Option<usize>),
    After,
}

/// Ends the item being read at byte `end`.
fn close<'a>(
    items: &mut Vec<Item<'a>>,
    current: &mut Option<(usize, usize)>,
    text: &'a str,
    end: usize,
    indent: usize,
) {
    if let Some((start, line)) = current.take() {
        items.push(Item { line, text: text.get(start..end).unwrap_or_default(), indent });
    }
}

fn leading_spaces(line: &str) -> usize {
    line.len().saturating_sub(line.trim_start_matches(' ').len())
}

/// A plain value without its trailing comment.
fn uncommented(value: &str) -> &str {
    value.split_once(" #").map_or(value, |(v, _)| v).trim()
}

fn unquoted(value: &str) -> &str {
    let quoted = |q: char| value.strip_prefix(q).and_then(|v| v.strip_suffix(q));
    quoted('"').or_else(|| quoted('\'')).unwrap_or(value)
}

/// Whether `text` may define or use an anchor (`&name`, `*name`): an item referring to another part of the list
/// cannot be parsed alone. Errs on the side of yes (a shell glob like ` *x` in a script makes the list parse whole).
fn may_hold_anchors(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(3).any(|w| match w {
        [before, b'&' | b'*', after] => {
            matches!(before, b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b'-' | b':')
                && (after.is_ascii_alphanumeric() || *after == b'_')
        }
        _ => false,
    }) || bytes.first().is_some_and(|b| *b == b'&' || *b == b'*')
}

/// A YAML line with nothing to parse.
pub(super) fn is_blank_or_comment(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(text: &str) -> Vec<String> {
        list_items(text).map(|l| l.items.iter().map(Item::document).collect()).unwrap_or_default()
    }

    #[test]
    fn kubectl_s_layout_is_taken_apart_item_by_item() {
        // `kubectl get -o yaml`: items at column 0, kind after them.
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n  spec:\n    \
                    containers:\n    - name: c\n      args:\n      - |\n        - not an item\n\n- kind: Service\n  \
                    metadata: {name: b}\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let list = list_items(text).unwrap();
        assert_eq!((list.kind.as_str(), list.api_version.as_str(), list.items.len()), ("List", "v1", 2));
        assert_eq!(list.items.iter().map(|i| i.line).collect::<Vec<_>>(), [2, 13]);
        let docs = documents(text);
        assert!(docs[0].starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n"), "{}", docs[0]);
        assert!(docs[0].contains("\n    - |\n      - not an item\n"), "{}", docs[0]);
        assert_eq!(docs[1], "kind: Service\nmetadata: {name: b}\n");
    }

    #[test]
    fn indented_items_and_quoted_kinds_too() {
        let text =
            "kind: \"PodList\"\nitems:\n  - metadata:\n      name: a\n  # a comment\n  - metadata:\n      name: b\n";
        let list = list_items(text).unwrap();
        assert_eq!(list.kind, "PodList");
        assert_eq!(documents(text), ["metadata:\n  name: a\n# a comment\n", "metadata:\n  name: b\n"]);
    }

    #[test]
    fn anything_else_is_parsed_whole() {
        for text in [
            "kind: Pod\nmetadata: {name: a}\n",
            "kind: List\nitems: []\n",
            "kind: List\nitems: [{kind: Pod}]\n",
            "kind: Pod\nitems:\n- a\n",
            "kind: List\nitems:\n- &base {kind: Pod}\n- *base\n",
            "kind: List\nitems:\n    - a: 1\n  - b: 2\n",
            "kind: List\nitems:\n\t- a: 1\n",
        ] {
            assert!(list_items(text).is_none(), "{text:?}");
        }
        // Shell in a block scalar is not an anchor.
        assert!(list_items("kind: List\nitems:\n- data:\n    run: a && b 2>&1\n").is_some());
    }
}
