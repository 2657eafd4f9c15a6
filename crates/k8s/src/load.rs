//! Reads manifest texts into objects while keeping count of what was skipped and what was broken, so a bad
//! document is reported by file and index and never stops the rest from loading.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;

use super::document::{Documents, Format};
use super::object::{Decoded, Kind, Object, decode};

/// Where a document came from: a file (or any named text), the document's index and line, and for items of a
/// `kind: List` the item's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: String,
    pub document: usize,
    pub line: usize,
    pub item: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {} (line {})", self.source, self.document, self.line)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        Ok(())
    }
}

/// A document or file that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What loading saw besides the objects.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub sources: usize,
    pub documents: usize,
    pub objects: usize,
    /// Documents of kinds meshlens does not read, by `apiVersion/kind`.
    pub skipped: BTreeMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Objects defined more than once; the later definition is kept.
    pub duplicates: Vec<String>,
    /// Documents that were read, with something to say about them (a repeated key).
    pub notes: Vec<Problem>,
}

impl LoadReport {
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

/// Nodes the documents of a load may expand to besides two per byte read: what manifests never need, and what
/// stops YAML aliases that stay within each document's budget from adding up across documents.
const NODES_PER_LOAD: usize = 1_000_000;

/// Accumulates objects from any number of manifest texts. Each document's tree is dropped once it is decoded, and
/// the documents of a load share one node budget, so memory and time follow the input's size.
pub struct Loader {
    objects: Vec<Object>,
    seen: HashMap<(Kind, String, String), Origin>,
    report: LoadReport,
    nodes_left: usize,
}

impl Default for Loader {
    fn default() -> Loader {
        Loader { objects: Vec::new(), seen: HashMap::new(), report: LoadReport::default(), nodes_left: NODES_PER_LOAD }
    }
}

/// A document expanded past the budget: hostile input, which stops the load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{location}: {message} (the manifests expand far beyond their size, as a YAML alias bomb does; nothing was loaded)"
)]
pub struct OverBudget {
    pub location: String,
    pub message: String,
}

impl Loader {
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Reads every document of `text`, named `source` in messages: a broken document is a problem to report, one
    /// that expands past the load's budget ends the load.
    pub fn add_text(&mut self, source: &str, text: &str, format: Format) -> Result<(), OverBudget> {
        self.report.sources = self.report.sources.saturating_add(1);
        self.nodes_left = self.nodes_left.saturating_add(text.len().saturating_mul(2));
        let mut documents = Documents::new(text, format, self.nodes_left);
        for doc in &mut documents {
            // A list's items come one by one: the list is one document.
            if !doc.as_ref().is_ok_and(|doc| doc.item.is_some_and(|item| item > 1)) {
                self.report.documents = self.report.documents.saturating_add(1);
            }
            match doc {
                Ok(doc) => {
                    let origin =
                        Origin { source: source.to_owned(), document: doc.index, line: doc.line, item: doc.item };
                    if let Some(message) = doc.note {
                        self.report.notes.push(Problem { location: origin.to_string(), message });
                    }
                    self.add_value(doc.value, origin);
                }
                Err(err) => {
                    let location = format!("{source}: document {}", err.index);
                    if err.over_budget {
                        return Err(OverBudget { location, message: err.message });
                    }
                    self.report.problems.push(Problem { location, message: err.message });
                }
            }
        }
        self.nodes_left = documents.nodes_left();
        Ok(())
    }

    /// Adds objects a source served as values (an API's LIST), the `n`th named `source #n` in messages.
    pub fn add_values(&mut self, source: &str, values: Vec<Value>) {
        self.report.sources = self.report.sources.saturating_add(1);
        for (i, value) in values.into_iter().enumerate() {
            self.report.documents = self.report.documents.saturating_add(1);
            let origin = Origin { source: source.to_owned(), document: i.saturating_add(1), line: 0, item: None };
            self.add_value(value, origin);
        }
    }

    /// Records a source that could not be read at all (unreadable file, not UTF-8, ...).
    pub fn add_problem(&mut self, source: &str, message: String) {
        self.report.sources = self.report.sources.saturating_add(1);
        self.report.problems.push(Problem { location: source.to_owned(), message });
    }

    fn add_value(&mut self, value: Value, origin: Origin) {
        match decode(value) {
            Ok(Decoded::Object(object)) => self.add_object(object, origin),
            Ok(Decoded::List(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let origin = Origin { item: Some(i.saturating_add(1)), ..origin.clone() };
                    self.add_value(item, origin);
                }
            }
            Ok(Decoded::Unknown(kind)) => {
                let skipped = self.report.skipped.entry(kind).or_default();
                *skipped = skipped.saturating_add(1);
            }
            Err(err) => self.report.problems.push(Problem { location: origin.to_string(), message: err.to_string() }),
        }
    }

    fn add_object(&mut self, object: Object, origin: Origin) {
        let meta = object.metadata();
        let key = (object.kind(), meta.namespace_str().to_owned(), meta.name_str().to_owned());
        if let Some(previous) = self.seen.insert(key, origin.clone()) {
            self.report.duplicates.push(format!("{} at {origin} replaces the one at {previous}", object.describe()));
        }
        self.report.objects = self.report.objects.saturating_add(1);
        self.objects.push(object);
    }

    pub fn finish(self) -> (Vec<Object>, LoadReport) {
        (self.objects, self.report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_unknown_kinds_and_broken_documents_are_accounted_for() {
        let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a, namespace: ns}
- apiVersion: v1
  kind: Service
  metadata: {name: b, namespace: ns}
  spec: {ports: "eighty"}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
---
kind: Service
metadata: {name: c
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: ns}
"#;
        let mut loader = Loader::new();
        loader.add_text("k8s/mixed.yaml", text, Format::Yaml).unwrap();
        let (objects, report) = loader.finish();
        assert_eq!(objects.len(), 2);
        assert_eq!(report.documents, 4);
        assert_eq!(report.skipped.get("networking.istio.io/v1/Gateway"), Some(&1));
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(report.problems[0].location.starts_with("k8s/mixed.yaml: document 1 (line 2), item 2"));
        assert!(report.problems[0].message.contains("Service ns/b: spec.ports"), "{}", report.problems[0]);
        assert_eq!(report.problems[1].location, "k8s/mixed.yaml: document 3");
        assert_eq!(report.duplicates.len(), 1);
        assert!(report.duplicates[0].contains("Service ns/a"), "{}", report.duplicates[0]);
    }
}
