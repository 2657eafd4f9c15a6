//! Splits manifest text into documents and parses each one on its own, so one broken document never hides the
//! others (what `kubectl apply -f` users expect from multi-document files).
#![deny(clippy::arithmetic_side_effects)]

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use serde_saphyr::DuplicateKeyPolicy;
use serde_saphyr::budget::BudgetBreach;

use super::object::give_item_type;
use super::yaml_list::{self, YamlList, is_blank_or_comment};

/// How a file's text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// The format a manifest file name implies, or `None` for files that are not manifests.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One parsed document of a file. `index` counts documents from 1, `line` is where it starts in the file.
#[derive(Debug)]
pub struct Document {
    pub index: usize,
    pub line: usize,
    /// Which item of a `kind: List` this is (counted from 1): a list is handed out item by item, so a
    /// `kubectl get -o json` (or `-o yaml`) dump of a whole cluster never exists as one tree.
    pub item: Option<usize>,
    pub value: Value,
    /// Something the document got away with that its author should hear about (a duplicate key).
    pub note: Option<String>,
}

/// A document that could not be parsed, with its position in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentError {
    pub index: usize,
    pub line: usize,
    pub message: String,
    /// The document grew past its node budget: hostile input (a YAML alias bomb), not a typo to skip.
    pub over_budget: bool,
}

/// Nodes (mappings, sequences, scalars) a YAML document may expand to besides two per byte of its text: plenty
/// for any manifest, while an alias bomb, whose few bytes expand to millions of nodes, is stopped early.
const NODES_PER_DOCUMENT: usize = 250_000;

/// Parses every document of `text` as it is asked for (one at a time, so a document's tree can be dropped
/// before the next is read). Empty documents (only comments or blank lines) are not counted.
pub fn parse_documents(text: &str, format: Format) -> Documents<'_> {
    Documents::new(text, format, usize::MAX)
}

/// The documents of one text, parsed lazily, sharing one node budget: a YAML document may expand to
/// [`NODES_PER_DOCUMENT`] nodes plus two per byte of its text, and never to more than the budget has left.
pub struct Documents<'a> {
    inner: Inner<'a>,
    nodes_left: usize,
}

enum Inner<'a> {
    Yaml {
        chunks: std::vec::IntoIter<Chunk<'a>>,
        index: usize,
        /// The items of the current document, a list, still to hand out.
        list: Option<YamlItems<'a>>,
    },
    Json {
        text: &'a str,
        stream: serde_json::StreamDeserializer<'a, serde_json::de::StrRead<'a>, &'a RawValue>,
        done: bool,
        index: usize,
        /// The items of the current document, a list, still to hand out.
        list: Option<ListItems<'a>>,
    },
}

/// The unread items of a JSON list document, as text.
struct ListItems<'a> {
    items: std::iter::Enumerate<std::vec::IntoIter<&'a RawValue>>,
    kind: String,
    api_version: String,
    index: usize,
    line: usize,
}

/// The unread items of a YAML list document.
struct YamlItems<'a> {
    items: std::iter::Enumerate<std::vec::IntoIter<yaml_list::Item<'a>>>,
    kind: String,
    api_version: String,
    index: usize,
    /// The file line of the document's first line, and of its first line of content (where its items are said to be).
    origin: usize,
    line: usize,
}

/// What a JSON document must look like to be handed out item by item; its items are only found, not parsed.
#[derive(Deserialize)]
struct ListShape<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "apiVersion", default, borrow)]
    api_version: Cow<'a, str>,
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
}

impl<'a> Documents<'a> {
    /// The documents of `text`, which may expand to `nodes_left` nodes in all.
    pub fn new(text: &'a str, format: Format, nodes_left: usize) -> Documents<'a> {
        let inner = match format {
            Format::Yaml => Inner::Yaml { chunks: split_yaml(text).into_iter(), index: 0, list: None },
            Format::Json => Inner::Json {
                text,
                stream: serde_json::Deserializer::from_str(text).into_iter::<&RawValue>(),
                done: false,
                index: 0,
                list: None,
            },
        };
        Documents { inner, nodes_left }
    }

    /// What the budget has left after the documents read so far.
    pub fn nodes_left(&self) -> usize {
        self.nodes_left
    }
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, DocumentError>;

    fn next(&mut self) -> Option<Self::Item> {
        let parsed = match &mut self.inner {
            Inner::Yaml { chunks, index, list } => loop {
                if let Some(YamlItems { items, kind, api_version, index, origin, line }) = list {
                    if let Some((i, item)) = items.next() {
                        let text = item.document();
                        let chunk = Chunk { origin: origin.saturating_add(item.line), text: &text };
                        let number = i.saturating_add(1);
                        let allowed = budget(&text, self.nodes_left);
                        break list_item(parse_yaml_chunk(*index, chunk, allowed), number, *line, kind, api_version);
                    }
                    *list = None;
                }
                let chunk = chunks.next()?;
                *index = index.saturating_add(1);
                match yaml_list::list_items(chunk.text) {
                    Some(found) => {
                        let YamlList { kind, api_version, items } = found;
                        let (items, line) = (items.into_iter().enumerate(), chunk.content_line());
                        *list = Some(YamlItems { items, kind, api_version, index: *index, origin: chunk.origin, line });
                    }
                    None => {
                        let allowed = budget(chunk.text, self.nodes_left);
                        break parse_yaml_chunk(*index, chunk, allowed);
                    }
                }
            },
            Inner::Json { text, stream, done, index, list } => loop {
                if let Some(ListItems { items, kind, api_version, index, line }) = list {
                    if let Some((i, raw)) = items.next() {
                        let parsed = parse_json(raw, *index, *line);
                        break list_item(parsed, i.saturating_add(1), *line, kind, api_version);
                    }
                    *list = None;
                }
                if *done {
                    return None;
                }
                let start = stream.byte_offset();
                let next = stream.next()?;
                *index = index.saturating_add(1);
                let line =
                    line_of(text, start.saturating_add(leading_whitespace(text.get(start..).unwrap_or_default())));
                let raw = match next {
                    Ok(raw) => raw,
                    Err(err) => {
                        // The stream cannot resynchronise after a syntax error; the rest of the file is unreadable.
                        *done = true;
                        break Err(DocumentError { index: *index, line, message: err.to_string(), over_budget: false });
                    }
                };
                match serde_json::from_str::<ListShape<'_>>(raw.get()) {
                    Ok(shape) if shape.kind.ends_with("List") && !shape.items.is_empty() => {
                        let (kind, api_version) = (shape.kind.into_owned(), shape.api_version.into_owned());
                        *list = Some(ListItems {
                            items: shape.items.into_iter().enumerate(),
                            kind,
                            api_version,
                            index: *index,
                            line,
                        });
                    }
                    _ => break parse_json(raw, *index, line),
                }
            },
        };
        if let Ok(doc) = &parsed {
            self.nodes_left = self.nodes_left.saturating_sub(node_count(&doc.value));
        }
        Some(parsed)
    }
}

/// Document `index` of a JSON file, written at `line`.
fn parse_json(raw: &RawValue, index: usize, line: usize) -> Result<Document, DocumentError> {
    serde_json::from_str::<Value>(raw.get())
        .map(|value| Document { index, line, item: None, value, note: None })
        .map_err(|err| DocumentError { index, line, message: err.to_string(), over_budget: false })
}

/// Item `number` of a list written at `line`: typed by the list's kind and apiVersion where it says none, and an
/// error names the item.
fn list_item(
    parsed: Result<Document, DocumentError>,
    number: usize,
    line: usize,
    kind: &str,
    api_version: &str,
) -> Result<Document, DocumentError> {
    parsed
        .map(|mut doc| {
            give_item_type(&mut doc.value, kind, api_version);
            Document { line, item: Some(number), ..doc }
        })
        .map_err(|err| DocumentError { line, message: format!("item {number}: {}", err.message), ..err })
}

/// The nodes a YAML document of `text` may expand to: [`NODES_PER_DOCUMENT`] and two per byte, within what the
/// file's budget has left.
fn budget(text: &str, nodes_left: usize) -> usize {
    NODES_PER_DOCUMENT.saturating_add(text.len().saturating_mul(2)).min(nodes_left)
}

/// The nodes of a parsed document: every mapping, sequence and scalar.
fn node_count(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(node_count).fold(1, usize::saturating_add),
        Value::Object(map) => map.values().map(node_count).fold(1, |n, c| n.saturating_add(c).saturating_add(1)),
        _ => 1,
    }
}

/// A YAML document's text; `origin` is the file line of the text's first line.
struct Chunk<'a> {
    origin: usize,
    text: &'a str,
}

impl Chunk<'_> {
    /// The file line of the document's first line that is neither blank nor a comment.
    fn content_line(&self) -> usize {
        let skipped = self.text.lines().take_while(|l| is_blank_or_comment(l)).count();
        self.origin.saturating_add(skipped)
    }
}

/// Cuts a YAML stream at `---` and `...` markers in column 0. Kubernetes manifests are mappings, whose block
/// scalars are always indented, so a marker in column 0 always separates documents.
fn split_yaml(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let line_no = line_no.saturating_add(1);
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let is_start = trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t");
        let is_end = trimmed == "..." || trimmed.starts_with("... ");
        if is_start || is_end {
            push_chunk(&mut chunks, text.get(start_byte..offset).unwrap_or_default(), start_line);
            // A start marker may carry content on its own line (`--- |`); keep it with the new document.
            if is_start {
                start_byte = offset.saturating_add(3);
                start_line = line_no;
            } else {
                start_byte = offset.saturating_add(line.len());
                start_line = line_no.saturating_add(1);
            }
        }
        offset = offset.saturating_add(line.len());
    }
    push_chunk(&mut chunks, text.get(start_byte..).unwrap_or_default(), start_line);
    chunks
}

fn push_chunk<'a>(chunks: &mut Vec<Chunk<'a>>, text: &'a str, origin: usize) {
    if !text.lines().all(is_blank_or_comment) {
        chunks.push(Chunk { origin, text });
    }
}

/// The error under the parser's wrappers (a source snippet, the alias it was found through).
fn cause(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::WithSnippet { error, .. } | serde_saphyr::Error::AliasError { error, .. } = err {
        err = error;
    }
    err
}

/// How deep YAML mappings and sequences may nest: far deeper than any manifest (a Deployment's deepest field is
/// about 12 levels down), shallow enough that the parser's recursion stays well within a thread's stack.
const MAX_YAML_DEPTH: usize = 64;

/// Parses one YAML document, which may expand to `max_nodes` nodes (replayed aliases count).
fn parse_yaml_chunk(index: usize, chunk: Chunk<'_>, max_nodes: usize) -> Result<Document, DocumentError> {
    let line = chunk.content_line();
    let parse = |duplicate_keys| {
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                // Large `kind: List` documents (a whole namespace exported at once) are normal input: the limits
                // grow with the document's size, and stop what expands far beyond it.
                max_reader_input_bytes: None,
                max_events: max_nodes.saturating_mul(2),
                max_nodes: max_nodes,
                max_total_scalar_bytes: (1usize << 26).saturating_add(chunk.text.len().saturating_mul(2)),
                max_depth: MAX_YAML_DEPTH,
            },
            duplicate_keys: duplicate_keys,
        };
        serde_saphyr::from_str_with_options::<Value>(chunk.text, options)
    };
    let located = |err: &serde_saphyr::Error| {
        let plain = err.without_snippet().to_string();
        match err.location() {
            Some(loc) => {
                let suffix = format!(" at line {}, column {}", loc.line(), loc.column());
                let text = plain.strip_suffix(&suffix).unwrap_or(&plain);
                let file_line = chunk.origin.saturating_add(loc.line() as usize).saturating_sub(1);
                format!("{text} (line {file_line}, column {})", loc.column())
            }
            None => plain,
        }
    };
    let failed = |err: serde_saphyr::Error| match cause(&err) {
        // Deep nesting is this document's fault alone, as in JSON: the rest loads.
        serde_saphyr::Error::Budget { breach: BudgetBreach::Depth { depth }, location } => {
            let file_line = chunk.origin.saturating_add(location.line() as usize).saturating_sub(1);
            let message = format!(
                "nested {depth} levels deep, past the {MAX_YAML_DEPTH} that meshlens reads (line {file_line}): refused"
            );
            DocumentError { index, line, message, over_budget: false }
        }
        serde_saphyr::Error::Budget { .. } => DocumentError { index, line, message: located(&err), over_budget: true },
        _ => DocumentError { index, line, message: located(&err), over_budget: false },
    };
    match parse(DuplicateKeyPolicy::Error) {
        Ok(value) => Ok(Document { index, line, item: None, value, note: None }),
        // kubectl reads a repeated key as its last value (YAML to JSON keeps the last); so does meshlens, and says so.
        Err(err) if matches!(cause(&err), serde_saphyr::Error::DuplicateMappingKey { .. }) => {
            let note = format!("{}; the last value is used, as kubectl does", located(&err));
            let value = parse(DuplicateKeyPolicy::LastWins).map_err(failed)?;
            Ok(Document { index, line, item: None, value, note: Some(note) })
        }
        Err(err) => Err(failed(err)),
    }
}

fn leading_whitespace(s: &str) -> usize {
    s.len().saturating_sub(s.trim_start().len())
}

fn line_of(text: &str, byte: usize) -> usize {
    text.bytes().take(byte).filter(|b| *b == b'\n').count().saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_values(text: &str, format: Format) -> Vec<(usize, usize, Value)> {
        parse_documents(text, format)
            .map(|d| {
                let d = d.expect("document parses");
                (d.index, d.line, d.value)
            })
            .collect()
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_and_says_so() {
        let docs: Vec<_> = parse_documents("kind: Service\nspec: {}\nkind: Rollout\n", Format::Yaml).collect();
        let doc = docs[0].as_ref().unwrap();
        assert_eq!(doc.value["kind"], "Rollout");
        let note = doc.note.as_deref().unwrap();
        assert!(note.contains("duplicate mapping key: kind") && note.contains("(line 3"), "{note}");
        assert!(parse_documents("kind: Service\n", Format::Yaml).next().unwrap().unwrap().note.is_none());
    }

    #[test]
    fn splits_multi_document_yaml_and_skips_empty_documents() {
        let text = "---\n# only a comment\n---\na: 1\n---\nb: 2\n...\n---\nc: 3\n";
        let docs = ok_values(text, Format::Yaml);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0], (1, 4, serde_json::json!({"a": 1})));
        assert_eq!(docs[1], (2, 6, serde_json::json!({"b": 2})));
        assert_eq!(docs[2], (3, 9, serde_json::json!({"c": 3})));
    }

    #[test]
    fn indented_dashes_inside_block_scalars_do_not_split() {
        let text = "data:\n  script: |\n    echo one\n    ---\n    echo two\n";
        let docs = ok_values(text, Format::Yaml);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].2["data"]["script"], "echo one\n---\necho two\n");
    }

    #[test]
    fn a_broken_document_names_its_index_and_absolute_line_and_the_others_still_parse() {
        let text = "a: 1\n---\nb: [1, 2\n---\nc: 3\n";
        let docs: Vec<_> = parse_documents(text, Format::Yaml).collect();
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().unwrap_err();
        assert_eq!(err.index, 2);
        assert!(err.message.contains("unclosed bracket"), "{}", err.message);
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert_eq!(docs[2].as_ref().unwrap().value, serde_json::json!({"c": 3}));
    }

    #[test]
    fn a_json_list_is_handed_out_item_by_item_with_its_item_type() {
        let text = r#"{"items": [{"metadata": {"name": "a"}}, {"kind": "Service", "metadata": {"name": "b"}}],
            "kind": "PodList", "apiVersion": "v1"}
            {"kind": "List", "items": []} {"kind": "List", "items": 5}"#;
        let docs: Vec<Document> = parse_documents(text, Format::Json).map(|d| d.unwrap()).collect();
        let items: Vec<_> =
            docs.iter().map(|d| (d.index, d.item, d.value["kind"].as_str().unwrap_or_default())).collect();
        assert_eq!(items, [(1, Some(1), "Pod"), (1, Some(2), "Service"), (2, None, "List"), (3, None, "List")]);
        assert_eq!(docs[0].value["apiVersion"], "v1");
        let mut loader = crate::load::Loader::new();
        loader.add_text("t", text, Format::Json).unwrap();
        let (objects, report) = loader.finish();
        assert_eq!((objects.len(), report.documents), (2, 3));
    }

    #[test]
    fn a_yaml_list_is_handed_out_item_by_item_and_a_broken_item_loses_only_itself() {
        let text = "a: 1\n---\napiVersion: v1\nitems:\n- metadata: {name: a}\n- kind: Service\n  metadata:\n    \
                    name: [b\n- metadata:\n    name: c\nkind: PodList\n";
        let docs: Vec<_> = parse_documents(text, Format::Yaml).collect();
        assert_eq!(docs.len(), 4);
        let first = docs[1].as_ref().unwrap();
        assert_eq!((first.index, first.line, first.item), (2, 3, Some(1)), "an item is where its list is");
        assert_eq!((first.value["kind"].as_str(), first.value["apiVersion"].as_str()), (Some("Pod"), Some("v1")));
        let broken = docs[2].as_ref().unwrap_err();
        assert!(broken.message.starts_with("item 2: ") && broken.message.contains("line 8"), "{}", broken.message);
        let last = docs[3].as_ref().unwrap();
        assert_eq!((last.item, last.value["metadata"]["name"].as_str()), (Some(3), Some("c")));
        // The same objects as the list parsed whole.
        let whole = "apiVersion: v1\nitems:\n- &a {metadata: {name: a}}\nkind: List\n";
        let items: Vec<_> = parse_documents(whole, Format::Yaml).map(|d| d.unwrap().item).collect();
        assert_eq!(items, [None], "an anchor makes the list parse whole");
    }

    #[test]
    fn concatenated_json_values_are_separate_documents() {
        let text = "{\"a\": 1}\n\n{\"b\": 2}\n";
        let docs = ok_values(text, Format::Json);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].1, 3);
    }

    #[test]
    fn truncated_json_reports_the_broken_value_after_the_good_ones() {
        let text = "{\"a\": 1}\n{\"b\": [2,";
        let docs: Vec<_> = parse_documents(text, Format::Json).collect();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].is_ok());
        let err = docs[1].as_ref().unwrap_err();
        assert_eq!((err.index, err.line), (2, 2));
        assert!(err.message.contains("EOF"), "{}", err.message);
    }
}
