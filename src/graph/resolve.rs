//! Maps the endpoints telemetry names to graph nodes: a workload through the identity index (so both naming
//! generations land on one Rollout node), a ghost when a loaded namespace has no such workload, an outside node for
//! namespaces not selected or not loaded, `unknown` for callers without a sidecar.

use std::collections::{BTreeMap, HashMap};

use crate::identity::{IdentityIndex, Resolution, Workload};
use crate::inventory::Inventory;
use crate::k8s::Kind;
use crate::telemetry::Row;

use super::{GraphRequest, GraphType, Node, NodeTraffic, NodeType};

/// The id of the node for callers without a sidecar (and destinations nothing names).
pub const UNKNOWN: &str = "unknown";

/// One side of a telemetry row.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub workload: &'a str,
    pub canonical_service: &'a str,
    pub canonical_revision: &'a str,
}

impl<'a> Endpoint<'a> {
    pub fn source(row: &'a Row) -> Endpoint<'a> {
        Endpoint {
            cluster: row.label("source_cluster"),
            namespace: row.label("source_workload_namespace"),
            workload: row.label("source_workload"),
            canonical_service: row.label("source_canonical_service"),
            canonical_revision: row.label("source_canonical_revision"),
        }
    }

    pub fn destination(row: &'a Row) -> Endpoint<'a> {
        Endpoint {
            cluster: row.label("destination_cluster"),
            namespace: row.label("destination_workload_namespace"),
            workload: row.label("destination_workload"),
            canonical_service: row.label("destination_canonical_service"),
            canonical_revision: row.label("destination_canonical_revision"),
        }
    }

    fn is_unknown(&self) -> bool {
        self.workload.is_empty()
            || self.workload == "unknown"
            || self.namespace.is_empty()
            || self.namespace == "unknown"
    }
}

/// What a telemetry workload name designates.
#[derive(Clone)]
enum Designated<'a> {
    Workload {
        workload: &'a Workload,
        others: Vec<&'a Workload>,
    },
    /// A loaded namespace with nothing to explain the name.
    Ghost(String),
    /// A namespace (or cluster) whose objects were not loaded.
    NotLoaded,
}

/// Builds nodes as rows are resolved; one per id.
pub struct Resolver<'a> {
    index: &'a IdentityIndex,
    inventory: &'a Inventory,
    req: &'a GraphRequest,
    pub nodes: BTreeMap<String, Node>,
    pub warnings: Vec<String>,
    cache: HashMap<(String, String, String), Designated<'a>>,
}

impl<'a> Resolver<'a> {
    pub fn new(index: &'a IdentityIndex, inventory: &'a Inventory, req: &'a GraphRequest) -> Resolver<'a> {
        Resolver { index, inventory, req, nodes: BTreeMap::new(), warnings: Vec::new(), cache: HashMap::new() }
    }

    fn designate(&mut self, cluster: &str, namespace: &str, name: &str) -> Designated<'a> {
        let key = (cluster.to_owned(), namespace.to_owned(), name.to_owned());
        if let Some(found) = self.cache.get(&key) {
            return found.clone();
        }
        let cluster = if cluster.is_empty() { self.index.cluster.as_str() } else { cluster };
        let found = if cluster != self.index.cluster || !self.index.namespaces().contains(namespace) {
            Designated::NotLoaded
        } else {
            match self.index.resolve(cluster, namespace, name) {
                Resolution::One(w) | Resolution::ByHashSuffix(w) => {
                    Designated::Workload { workload: w, others: Vec::new() }
                }
                Resolution::Ambiguous(mut ws) => {
                    // Prefer a workload that has pods (a migrated Deployment scaled to zero is not the one serving).
                    ws.sort_by_key(|w| (w.pods.is_empty(), w.id.clone()));
                    let chosen = ws.remove(0);
                    let others: Vec<String> = ws.iter().map(|w| w.id.to_string()).collect();
                    self.warnings.push(format!(
                        "telemetry name {namespace}/{name} belongs to several workloads; drawn as {} (also: {})",
                        chosen.id,
                        others.join(", ")
                    ));
                    Designated::Workload { workload: chosen, others: ws }
                }
                Resolution::Unknown => Designated::Ghost(ghost_reason(self.index, namespace, name)),
            }
        };
        self.cache.insert(key, found.clone());
        found
    }

    /// The node of a row's source.
    pub fn source(&mut self, row: &Row) -> String {
        let e = Endpoint::source(row);
        if e.is_unknown() {
            return self.unknown();
        }
        if self.req.graph_type == GraphType::Service && self.has_service(e.namespace, e.canonical_service) {
            return self.service_node(e.cluster, e.namespace, e.canonical_service);
        }
        self.endpoint_node(&e)
    }

    /// The node of a row's destination.
    pub fn destination(&mut self, row: &Row) -> String {
        let e = Endpoint::destination(row);
        let service = row.label("destination_service_name");
        let service_ns = row.label("destination_service_namespace");
        let routable = !service.is_empty() && service != "unknown" && !service.contains("Cluster");
        if self.req.graph_type == GraphType::Service && routable {
            return self.service_node(e.cluster, if service_ns.is_empty() { e.namespace } else { service_ns }, service);
        }
        if e.is_unknown() {
            // Requests that never reached a workload (no healthy upstream, no route) still name their Service.
            return if routable { self.service_node(e.cluster, service_ns, service) } else { self.unknown() };
        }
        self.endpoint_node(&e)
    }

    fn has_service(&self, namespace: &str, name: &str) -> bool {
        !name.is_empty() && self.inventory.find(Kind::Service, namespace, name).is_some()
    }

    pub fn unknown(&mut self) -> String {
        self.nodes.entry(UNKNOWN.to_owned()).or_insert_with(|| {
            let mut n = blank(UNKNOWN, NodeType::Unknown, "", UNKNOWN, UNKNOWN);
            n.app = Some(UNKNOWN.into());
            n
        });
        UNKNOWN.to_owned()
    }

    fn service_node(&mut self, cluster: &str, namespace: &str, name: &str) -> String {
        let cluster = if cluster.is_empty() { self.index.cluster.clone() } else { cluster.to_owned() };
        let id = format!("svc:{cluster}:{namespace}:{name}");
        let outside = !self.req.selects(namespace) || !self.index.namespaces().contains(namespace);
        self.nodes.entry(id.clone()).or_insert_with(|| {
            let mut n = blank(&id, NodeType::Service, &cluster, namespace, name);
            n.is_outside = outside;
            n
        });
        id
    }

    fn endpoint_node(&mut self, e: &Endpoint<'_>) -> String {
        let designated = self.designate(e.cluster, e.namespace, e.workload);
        let id = match self.req.graph_type {
            GraphType::Workload | GraphType::Service => self.workload_node_for(e, &designated),
            GraphType::App | GraphType::VersionedApp => self.app_node_for(e, &designated),
        };
        if let Some(node) = self.nodes.get_mut(&id) {
            node.telemetry_names.insert(e.workload.to_owned());
        }
        id
    }

    /// The node of a workload (used for idle workloads and for the workloads rows name).
    pub fn workload_node(&mut self, w: &Workload) -> String {
        let id = workload_id(&w.id.cluster, &w.id.namespace, &w.id.name);
        let outside = !self.req.selects(&w.id.namespace);
        self.nodes.entry(id.clone()).or_insert_with(|| {
            let mut n = blank(&id, NodeType::Workload, &w.id.cluster, &w.id.namespace, &w.id.name);
            n.workload_kind = Some(w.id.kind.to_string());
            n.app = Some(w.app.clone());
            n.version = Some(w.version.clone());
            n.url = Some(format!("/workloads/{}/{}", w.id.namespace, w.id.name));
            n.is_outside = outside;
            n.workloads.insert(format!("{}/{}", w.id.namespace, w.id.name));
            n
        });
        id
    }

    /// The app (or versioned app) node a workload belongs to.
    pub fn app_node(&mut self, w: &'a Workload) -> String {
        let e = Endpoint {
            cluster: &w.id.cluster,
            namespace: &w.id.namespace,
            workload: &w.id.name,
            canonical_service: &w.app,
            canonical_revision: &w.version,
        };
        let designated = Designated::Workload { workload: w, others: Vec::new() };
        self.app_node_for(&e, &designated)
    }

    fn workload_node_for(&mut self, e: &Endpoint<'_>, designated: &Designated<'a>) -> String {
        let cluster = if e.cluster.is_empty() { self.index.cluster.as_str() } else { e.cluster };
        match designated {
            Designated::Workload { workload, others } => {
                let id = self.workload_node(workload);
                let alternatives: Vec<String> = others.iter().map(|o| o.id.to_string()).collect();
                if let Some(n) = self.nodes.get_mut(&id) {
                    for a in alternatives {
                        if !n.ambiguous_with.contains(&a) {
                            n.ambiguous_with.push(a);
                        }
                    }
                }
                id
            }
            Designated::Ghost(reason) => {
                let id = workload_id(cluster, e.namespace, e.workload);
                let outside = !self.req.selects(e.namespace);
                self.nodes.entry(id.clone()).or_insert_with(|| {
                    let mut n = blank(&id, NodeType::Workload, cluster, e.namespace, e.workload);
                    n.is_ghost = true;
                    n.is_outside = outside;
                    n.ghost_reason = Some(reason.clone());
                    n.app = Some(e.canonical_service.to_owned()).filter(|a| !a.is_empty());
                    n
                });
                id
            }
            Designated::NotLoaded => {
                let id = workload_id(cluster, e.namespace, e.workload);
                self.nodes.entry(id.clone()).or_insert_with(|| {
                    let mut n = blank(&id, NodeType::Workload, cluster, e.namespace, e.workload);
                    n.is_outside = true;
                    n.app = Some(e.canonical_service.to_owned()).filter(|a| !a.is_empty());
                    n.version = Some(e.canonical_revision.to_owned()).filter(|v| !v.is_empty());
                    n
                });
                id
            }
        }
    }

    fn app_node_for(&mut self, e: &Endpoint<'_>, designated: &Designated<'a>) -> String {
        let cluster = if e.cluster.is_empty() { self.index.cluster.clone() } else { e.cluster.to_owned() };
        let app = if e.canonical_service.is_empty() { e.workload } else { e.canonical_service };
        let versioned = self.req.graph_type == GraphType::VersionedApp;
        let version = if e.canonical_revision.is_empty() { "latest" } else { e.canonical_revision };
        let id = if versioned {
            format!("vapp:{cluster}:{}:{app}:{version}", e.namespace)
        } else {
            format!("app:{cluster}:{}:{app}", e.namespace)
        };
        let outside = !self.req.selects(e.namespace) || matches!(designated, Designated::NotLoaded);
        let node = self.nodes.entry(id.clone()).or_insert_with(|| {
            let mut n = blank(&id, NodeType::App, &cluster, e.namespace, app);
            n.app = Some(app.to_owned());
            n.version = versioned.then(|| version.to_owned());
            n.is_outside = outside;
            n
        });
        match designated {
            Designated::Workload { workload, .. } => {
                node.workloads.insert(format!("{}/{}", workload.id.namespace, workload.id.name));
            }
            Designated::Ghost(reason) => {
                node.is_ghost = node.workloads.is_empty();
                node.ghost_reason.get_or_insert_with(|| format!("{}: {reason}", e.workload));
            }
            Designated::NotLoaded => {}
        }
        id
    }

    /// Finishes app nodes: a node backed by real workloads is no ghost, and one backed by a single workload links
    /// to it.
    pub fn finish(mut self) -> (BTreeMap<String, Node>, Vec<String>) {
        for node in self.nodes.values_mut().filter(|n| n.node_type != NodeType::Workload) {
            if !node.workloads.is_empty() {
                node.is_ghost = false;
                node.ghost_reason = None;
            }
            if node.workloads.len() == 1
                && let Some(w) = node.workloads.iter().next()
            {
                node.url = Some(format!("/workloads/{w}"));
            }
        }
        (self.nodes, self.warnings)
    }
}

pub fn workload_id(cluster: &str, namespace: &str, name: &str) -> String {
    format!("wl:{cluster}:{namespace}:{name}")
}

fn blank(id: &str, node_type: NodeType, cluster: &str, namespace: &str, name: &str) -> Node {
    Node {
        id: id.to_owned(),
        node_type,
        cluster: cluster.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        workload_kind: None,
        app: None,
        version: None,
        is_idle: false,
        is_ghost: false,
        is_outside: false,
        ghost_reason: None,
        ambiguous_with: Vec::new(),
        url: None,
        telemetry_names: Default::default(),
        workloads: Default::default(),
        traffic: NodeTraffic::default(),
        revisions: Vec::new(),
        split: None,
        callers: Vec::new(),
    }
}

/// Why nothing in a loaded namespace explains a telemetry name.
fn ghost_reason(index: &IdentityIndex, namespace: &str, name: &str) -> String {
    if let Some((base, hash)) = name.rsplit_once('-')
        && hash.len() >= 5
        && hash.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && index.named(namespace, base).next().is_none()
    {
        return format!("looks like ReplicaSet {name} of {base}, which is not in the snapshot (deleted?)");
    }
    if let Some(owner) =
        index.workloads().iter().find(|w| w.id.namespace == namespace && w.pods.iter().any(|p| p.name == name))
    {
        return format!("a pod of {} reporting its own name (injected without a controller reference?)", owner.id);
    }
    "no workload in the snapshot carries this name (deleted, renamed, or made by a controller meshlens does not read)"
        .to_owned()
}
