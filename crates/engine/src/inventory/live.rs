//! A watched cluster's objects as its watch events leave them, typed as they arrive (the same trimmed model a
//! snapshot is read into), grouped by namespace, with the namespaces that changed since they were last taken: a
//! change to one pod re-derives its namespace, not the cluster.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use meshlens_k8s::live::{Change, LiveError, Watched};
use meshlens_k8s::load::{LoadReport, Problem};
use meshlens_k8s::{Kind, Object};

use super::Inventory;

/// How long a burst of changes may take to settle before it is applied.
pub const SETTLE: Duration = Duration::from_millis(200);

/// An object's place: kind and name within its namespace group.
type Key = (Kind, String);

/// The objects of every watched collection, by namespace (a Namespace object goes with its own namespace).
pub struct LiveObjects {
    cluster: String,
    collections: Vec<(Kind, Option<String>)>,
    by_namespace: BTreeMap<String, BTreeMap<Key, Object>>,
    /// Per collection being listed afresh: the (namespace, name) it listed so far.
    relisting: HashMap<usize, HashSet<(String, String)>>,
    /// Collections listed at least once.
    listed: Vec<bool>,
    dirty: BTreeSet<String>,
    /// What could not be read during the first listing (afterwards, problems go to the log).
    report: LoadReport,
}

impl LiveObjects {
    pub fn new(cluster: &str, watched: &Watched) -> LiveObjects {
        LiveObjects {
            cluster: cluster.to_owned(),
            collections: watched.collections.clone(),
            by_namespace: BTreeMap::new(),
            relisting: HashMap::new(),
            listed: vec![false; watched.collections.len()],
            dirty: BTreeSet::new(),
            report: LoadReport::default(),
        }
    }

    /// Every collection has been listed once: the objects are the whole cluster.
    pub fn ready(&self) -> bool {
        self.listed.iter().all(|&listed| listed)
    }

    /// Applies one event. A failure before its collection was first listed is an error (a kind the account may
    /// not list should not leave the caller waiting); later ones are retried by the watch.
    pub fn apply(&mut self, change: Change) -> Result<(), LiveError> {
        match change {
            Change::Relisting(c) => {
                self.relisting.insert(c, HashSet::new());
            }
            Change::Applied(c, object) => self.applied(c, object),
            Change::Unreadable(c, message) => {
                let location = format!("the Kubernetes API ({})", self.describe(c));
                if self.ready() {
                    tracing::warn!("{location}: {message}; the object keeps its last readable state");
                } else {
                    self.report.problems.push(Problem { location, message });
                }
            }
            Change::Deleted(c, namespace, name) => {
                if let Some(&(kind, _)) = self.collections.get(c) {
                    self.remove(kind, &namespace, &name);
                }
            }
            Change::Listed(c) => self.listed(c),
            Change::Failed(c, message, lasting) => {
                if !self.listed.get(c).copied().unwrap_or(true) {
                    let what = self.collections.get(c).map(|(kind, _)| kind.to_string()).unwrap_or_default();
                    return Err(LiveError::Watch { what, message, lasting });
                }
            }
        }
        Ok(())
    }

    fn applied(&mut self, c: usize, object: Object) {
        let (kind, meta) = (object.kind(), object.metadata());
        let (namespace, name) = (meta.namespace_str().to_owned(), meta.name_str().to_owned());
        if let Some(seen) = self.relisting.get_mut(&c) {
            seen.insert((namespace.clone(), name.clone()));
        }
        let group = group_of(kind, &namespace, &name).to_owned();
        self.by_namespace.entry(group.clone()).or_default().insert((kind, name), object);
        self.dirty.insert(group);
    }

    /// Ends a relisting: what the collection held and did not list again is gone.
    fn listed(&mut self, c: usize) {
        if let Some(flag) = self.listed.get_mut(c) {
            *flag = true;
        }
        let (Some(seen), Some((kind, scope))) = (self.relisting.remove(&c), self.collections.get(c).cloned()) else {
            return;
        };
        let gone: Vec<(String, String)> = (self.by_namespace.iter())
            .filter(|(group, _)| kind == Kind::Namespace || scope.as_ref().is_none_or(|ns| ns == *group))
            .flat_map(|(_, objects)| objects.iter())
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, o)| (o.metadata().namespace_str().to_owned(), o.metadata().name_str().to_owned()))
            .filter(|key| !seen.contains(key))
            .collect();
        for (namespace, name) in gone {
            self.remove(kind, &namespace, &name);
        }
    }

    fn remove(&mut self, kind: Kind, namespace: &str, name: &str) {
        let group = group_of(kind, namespace, name);
        let Some(objects) = self.by_namespace.get_mut(group) else { return };
        if objects.remove(&(kind, name.to_owned())).is_some() {
            if objects.is_empty() {
                self.by_namespace.remove(group);
            }
            self.dirty.insert(group.to_owned());
        }
    }

    fn describe(&self, c: usize) -> String {
        match self.collections.get(c) {
            Some((kind, Some(namespace))) => format!("{kind} in namespace {namespace}"),
            Some((kind, None)) => kind.to_string(),
            None => format!("collection {c}"),
        }
    }

    /// Waits for changes and applies them: the first to come, then every one that follows within [`SETTLE`] and
    /// until `earliest` (a rollout step touches several objects: one new world for them all). False once the
    /// watch has ended.
    pub async fn next_changes(
        &mut self,
        changes: &mut UnboundedReceiver<Change>,
        earliest: Instant,
    ) -> Result<bool, LiveError> {
        let Some(first) = changes.recv().await else { return Ok(false) };
        self.apply(first)?;
        let until = earliest.max(Instant::now() + SETTLE);
        while let Ok(Some(change)) = tokio::time::timeout_at(until, changes.recv()).await {
            self.apply(change)?;
        }
        Ok(true)
    }

    /// Applies changes until every collection has been listed once. A failure that may pass (the watches retry it)
    /// is told to `retrying`, which says whether to go on waiting; a lasting one ends the wait.
    pub async fn first_listing(
        &mut self,
        changes: &mut UnboundedReceiver<Change>,
        mut retrying: impl FnMut(&LiveError) -> bool,
    ) -> Result<(), LiveError> {
        while !self.ready() {
            match self.next_changes(changes, Instant::now()).await {
                Ok(true) => {}
                Ok(false) => return Err(LiveError::Ended),
                Err(e) if !e.is_lasting() && retrying(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The namespaces whose objects changed since [`LiveObjects::take_changed`] was last called.
    pub fn changed(&self) -> &BTreeSet<String> {
        &self.dirty
    }

    /// The namespaces whose objects changed since the last call.
    pub fn take_changed(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.dirty)
    }

    /// What could not be read during the first listing.
    pub fn take_report(&mut self) -> LoadReport {
        std::mem::take(&mut self.report)
    }

    /// The objects of one namespace (its Namespace object included), as an inventory of their own.
    pub fn namespace_inventory(&self, namespace: &str) -> Option<Inventory> {
        let objects = self.by_namespace.get(namespace)?;
        Some(Inventory::new(self.cluster.clone(), objects.values().cloned()))
    }

    /// Every object, as one inventory.
    pub fn inventory(&self) -> Inventory {
        let objects = self.by_namespace.values().flat_map(|objects| objects.values().cloned());
        Inventory::new(self.cluster.clone(), objects)
    }
}

/// The namespace an object's changes re-derive: its own, or a Namespace object's name.
fn group_of<'a>(kind: Kind, namespace: &'a str, name: &'a str) -> &'a str {
    if kind == Kind::Namespace { name } else { namespace }
}
