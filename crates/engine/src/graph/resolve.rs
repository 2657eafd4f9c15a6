//! Maps the endpoints telemetry names to graph nodes: a workload through the identity index (so both naming
//! generations land on one Rollout node), a ghost when a loaded namespace has no such workload, an outside node for
//! namespaces not selected or not loaded, `unknown` for callers without a sidecar.

use rustc_hash::FxHashMap;

use crate::identity::{IdentityIndex, Resolution, Workload};
use meshlens_telemetry::Row;
use meshlens_telemetry::istio::label;

use super::{GraphRequest, GraphType, Node, NodeType};

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
            cluster: row.label(label::SOURCE_CLUSTER),
            namespace: row.label(label::SOURCE_WORKLOAD_NAMESPACE),
            workload: row.label(label::SOURCE_WORKLOAD),
            canonical_service: row.label(label::SOURCE_CANONICAL_SERVICE),
            canonical_revision: row.label(label::SOURCE_CANONICAL_REVISION),
        }
    }

    pub fn destination(row: &'a Row) -> Endpoint<'a> {
        Endpoint {
            cluster: row.label(label::DESTINATION_CLUSTER),
            namespace: row.label(label::DESTINATION_WORKLOAD_NAMESPACE),
            workload: row.label(label::DESTINATION_WORKLOAD),
            canonical_service: row.label(label::DESTINATION_CANONICAL_SERVICE),
            canonical_revision: row.label(label::DESTINATION_CANONICAL_REVISION),
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
    req: &'a GraphRequest,
    /// The nodes, in the order they were made; a [`NodeRef`] is a position here.
    nodes: Vec<Node>,
    by_id: FxHashMap<String, NodeRef>,
    pub warnings: Vec<String>,
    /// What (cluster, namespace, name) telemetry names designate.
    designated: FxHashMap<(&'a str, &'a str, &'a str), Designated<'a>>,
    /// Nodes by the row labels that decide them: rows repeat the same endpoints many times.
    memo: FxHashMap<(bool, [&'a str; 7]), NodeRef>,
    /// Workload nodes by workload (the index outlives the resolver, so an address is one workload).
    workload_nodes: FxHashMap<*const Workload, NodeRef>,
    /// In a service graph, the Service node each workload (cluster, namespace, name) was called through, when
    /// there is exactly one: its calls are drawn from that Service, as Kiali reduces its service graph.
    fronted_by: FxHashMap<(&'a str, &'a str, &'a str), Option<NodeRef>>,
}

/// A node of the graph being built, cheap to hash and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeRef(usize);

impl<'a> Resolver<'a> {
    pub fn new(index: &'a IdentityIndex, req: &'a GraphRequest) -> Resolver<'a> {
        Resolver {
            index,
            req,
            nodes: Vec::new(),
            by_id: FxHashMap::default(),
            warnings: Vec::new(),
            designated: FxHashMap::default(),
            memo: FxHashMap::default(),
            workload_nodes: FxHashMap::default(),
            fronted_by: FxHashMap::default(),
        }
    }

    /// Learns, for a service graph, which Service each destination workload of `rows` is called through. A
    /// workload behind several Services stays the source of its calls: which Service a call of its own serves
    /// cannot be told.
    pub fn learn_services(&mut self, rows: impl Iterator<Item = &'a Row>) {
        if self.req.graph_type != GraphType::Service {
            return;
        }
        for row in rows {
            let e = Endpoint::destination(row);
            if e.is_unknown() {
                continue;
            }
            let service = self.destination(row);
            if self.get(service).node_type != NodeType::Service {
                continue;
            }
            let fronting = self.fronted_by.entry((e.cluster, e.namespace, e.workload)).or_insert(Some(service));
            if *fronting != Some(service) {
                *fronting = None;
            }
        }
    }

    /// The node `id`, made by `make` when new.
    fn node(&mut self, id: String, make: impl FnOnce(&str) -> Node) -> NodeRef {
        if let Some(&node) = self.by_id.get(&id) {
            return node;
        }
        let node = NodeRef(self.nodes.len());
        self.nodes.push(make(&id));
        self.by_id.insert(id, node);
        node
    }

    #[expect(clippy::indexing_slicing, reason = "a NodeRef is made only by Resolver::node, as an index of its nodes")]
    pub fn get(&self, node: NodeRef) -> &Node {
        &self.nodes[node.0]
    }

    #[expect(clippy::indexing_slicing, reason = "a NodeRef is made only by Resolver::node, as an index of its nodes")]
    pub fn get_mut(&mut self, node: NodeRef) -> &mut Node {
        &mut self.nodes[node.0]
    }

    fn designate(&mut self, cluster: &'a str, namespace: &'a str, name: &'a str) -> Designated<'a> {
        let key = (cluster, namespace, name);
        if let Some(found) = self.designated.get(&key) {
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
        self.designated.insert(key, found.clone());
        found
    }

    /// The node of a row's source.
    pub fn source(&mut self, row: &'a Row) -> NodeRef {
        let e = Endpoint::source(row);
        let key = (true, [e.cluster, e.namespace, e.workload, e.canonical_service, e.canonical_revision, "", ""]);
        if let Some(&node) = self.memo.get(&key) {
            return node;
        }
        let node = if e.is_unknown() {
            self.unknown()
        } else if let Some(Some(service)) = self.fronted_by.get(&(e.cluster, e.namespace, e.workload)) {
            *service
        } else {
            self.endpoint_node(&e)
        };
        self.memo.insert(key, node);
        node
    }

    /// The node of a row's destination.
    pub fn destination(&mut self, row: &'a Row) -> NodeRef {
        let e = Endpoint::destination(row);
        let (service, service_ns) =
            (row.label(label::DESTINATION_SERVICE_NAME), row.label(label::DESTINATION_SERVICE_NAMESPACE));
        let key = (
            false,
            [e.cluster, e.namespace, e.workload, e.canonical_service, e.canonical_revision, service, service_ns],
        );
        if let Some(&node) = self.memo.get(&key) {
            return node;
        }
        let routable = !service.is_empty() && service != "unknown" && !service.contains("Cluster");
        let node = if self.req.graph_type == GraphType::Service && routable {
            self.service_node(e.cluster, if service_ns.is_empty() { e.namespace } else { service_ns }, service)
        } else if e.is_unknown() {
            // Requests that never reached a workload (no healthy upstream, no route) still name their Service.
            if routable { self.service_node(e.cluster, service_ns, service) } else { self.unknown_destination() }
        } else {
            self.endpoint_node(&e)
        };
        self.memo.insert(key, node);
        node
    }

    pub fn unknown(&mut self) -> NodeRef {
        self.node(UNKNOWN.to_owned(), |id| {
            let mut n = Node::new(id, NodeType::Unknown, "", UNKNOWN, UNKNOWN);
            n.app = Some(UNKNOWN.into());
            n
        })
    }

    /// Where calls go that name neither a workload nor a Service: an `unknown` Service node apart from the
    /// `unknown` caller, as Kiali draws it (a caller and a destination nobody knows are not one node).
    fn unknown_destination(&mut self) -> NodeRef {
        self.node(format!("svc:{UNKNOWN}:{UNKNOWN}:{UNKNOWN}"), |id| {
            Node::new(id, NodeType::Service, UNKNOWN, UNKNOWN, UNKNOWN)
        })
    }

    fn service_node(&mut self, cluster: &str, namespace: &str, name: &str) -> NodeRef {
        let cluster = if cluster.is_empty() { self.index.cluster.as_str() } else { cluster };
        let outside = !self.req.selects(namespace) || !self.index.namespaces().contains(namespace);
        self.node(format!("svc:{cluster}:{namespace}:{name}"), |id| {
            let mut n = Node::new(id, NodeType::Service, cluster, namespace, name);
            n.is_outside = outside;
            n
        })
    }

    fn endpoint_node(&mut self, e: &Endpoint<'a>) -> NodeRef {
        let designated = self.designate(e.cluster, e.namespace, e.workload);
        let node = match self.req.graph_type {
            GraphType::Workload | GraphType::Service => self.workload_node_for(e, &designated),
            GraphType::App | GraphType::VersionedApp => self.app_node_for(e, &designated),
        };
        let names = &mut self.get_mut(node).telemetry_names;
        if !names.contains(e.workload) {
            names.insert(e.workload.to_owned());
        }
        node
    }

    /// The node of a workload (used for idle workloads and for the workloads rows name).
    pub fn workload_node(&mut self, w: &'a Workload) -> NodeRef {
        if let Some(&node) = self.workload_nodes.get(&std::ptr::from_ref(w)) {
            return node;
        }
        let outside = !self.req.selects(&w.id.namespace);
        let node = self.node(workload_id(&w.id.cluster, &w.id.namespace, &w.id.name), |id| {
            let mut n = Node::new(id, NodeType::Workload, &w.id.cluster, &w.id.namespace, &w.id.name);
            n.workload_kind = Some(w.id.kind.clone());
            n.app = Some(w.app.clone());
            n.version = Some(w.version.clone());
            n.url = Some(format!("/workloads/{}/{}", w.id.namespace, w.id.name));
            n.is_outside = outside;
            n.is_waypoint = w.is_waypoint();
            n.workloads.insert(format!("{}/{}", w.id.namespace, w.id.name));
            n
        });
        self.workload_nodes.insert(std::ptr::from_ref(w), node);
        node
    }

    /// The app (or versioned app) node a workload belongs to.
    pub fn app_node(&mut self, w: &'a Workload) -> NodeRef {
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

    fn workload_node_for(&mut self, e: &Endpoint<'_>, designated: &Designated<'a>) -> NodeRef {
        let cluster = if e.cluster.is_empty() { self.index.cluster.as_str() } else { e.cluster };
        match designated {
            Designated::Workload { workload, others } => {
                let node = self.workload_node(workload);
                let ambiguous_with = &mut self.get_mut(node).ambiguous_with;
                for other in others.iter().map(|o| o.id.to_string()) {
                    if !ambiguous_with.contains(&other) {
                        ambiguous_with.push(other);
                    }
                }
                node
            }
            Designated::Ghost(reason) => {
                let outside = !self.req.selects(e.namespace);
                self.node(workload_id(cluster, e.namespace, e.workload), |id| {
                    let mut n = Node::new(id, NodeType::Workload, cluster, e.namespace, e.workload);
                    n.is_ghost = true;
                    n.is_outside = outside;
                    n.ghost_reason = Some(reason.clone());
                    n.app = Some(e.canonical_service.to_owned()).filter(|a| !a.is_empty());
                    n.version = Some(e.canonical_revision.to_owned()).filter(|v| !v.is_empty());
                    n
                })
            }
            Designated::NotLoaded => self.node(workload_id(cluster, e.namespace, e.workload), |id| {
                let mut n = Node::new(id, NodeType::Workload, cluster, e.namespace, e.workload);
                n.is_outside = true;
                n.app = Some(e.canonical_service.to_owned()).filter(|a| !a.is_empty());
                n.version = Some(e.canonical_revision.to_owned()).filter(|v| !v.is_empty());
                n
            }),
        }
    }

    fn app_node_for(&mut self, e: &Endpoint<'_>, designated: &Designated<'a>) -> NodeRef {
        let cluster = if e.cluster.is_empty() { self.index.cluster.as_str() } else { e.cluster };
        let app = if e.canonical_service.is_empty() { e.workload } else { e.canonical_service };
        let versioned = self.req.graph_type == GraphType::VersionedApp;
        let version = if e.canonical_revision.is_empty() { "latest" } else { e.canonical_revision };
        let id = if versioned {
            format!("vapp:{cluster}:{}:{app}:{version}", e.namespace)
        } else {
            format!("app:{cluster}:{}:{app}", e.namespace)
        };
        let outside = !self.req.selects(e.namespace) || matches!(designated, Designated::NotLoaded);
        let node = self.node(id, |id| {
            let mut n = Node::new(id, NodeType::App, cluster, e.namespace, app);
            n.app = Some(app.to_owned());
            n.version = versioned.then(|| version.to_owned());
            n.is_outside = outside;
            n
        });
        let n = self.get_mut(node);
        match designated {
            Designated::Workload { workload, .. } => {
                n.workloads.insert(format!("{}/{}", workload.id.namespace, workload.id.name));
            }
            Designated::Ghost(reason) => {
                n.is_ghost = n.workloads.is_empty();
                n.ghost_reason.get_or_insert_with(|| format!("{}: {reason}", e.workload));
            }
            Designated::NotLoaded => {}
        }
        node
    }

    /// Finishes app nodes (a node backed by real workloads is no ghost, and one backed by a single workload links
    /// to it) and gives the nodes sorted by id.
    pub fn finish(self) -> (Vec<Node>, Vec<String>) {
        let mut nodes = self.nodes;
        for node in nodes.iter_mut().filter(|n| n.node_type != NodeType::Workload) {
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
        nodes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        (nodes, self.warnings)
    }
}

pub fn workload_id(cluster: &str, namespace: &str, name: &str) -> String {
    format!("wl:{cluster}:{namespace}:{name}")
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
