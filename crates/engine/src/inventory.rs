//! The cluster's objects at one moment, indexed by kind/namespace/name, by uid and by owner, so that identity and
//! views can follow owner references both ways without scanning.

pub mod live;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use meshlens_k8s::core::{Namespace, PROXY_CLUSTER_ID_ENV, Pod};
use meshlens_k8s::gateway::{RouteKind, RouteView};
use meshlens_k8s::kinds::Lists;
use meshlens_k8s::load::Loader;
use meshlens_k8s::{Kind, Object, ObjectMeta, OwnerReference, Resource};

/// Cluster name Istio telemetry uses when none is configured.
pub const DEFAULT_CLUSTER: &str = "Kubernetes";

/// A reference to one stored object: its kind and position in that kind's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub kind: Kind,
    pub index: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Inventory {
    /// The Istio cluster ID telemetry names these objects' workloads by: the one their sidecars were injected with
    /// (the most common, when they disagree), else the one the source was given.
    pub cluster: String,
    /// The cluster ID the source was given (a snapshot's `cluster:`, `--cluster-id`), else `Kubernetes`.
    given_cluster: String,
    /// The cluster IDs the sidecars were injected with, with how many pods carry each, most first.
    sidecar_clusters: Vec<(String, usize)>,
    lists: Lists,
    by_name: HashMap<(Kind, String, String), usize>,
    by_uid: HashMap<String, Vec<ObjRef>>,
    by_owner_uid: HashMap<String, Vec<ObjRef>>,
}

impl Inventory {
    /// Stores `objects`; a later object with the same kind, namespace and name replaces an earlier one.
    pub fn new(cluster: impl Into<String>, objects: impl IntoIterator<Item = Object>) -> Inventory {
        let given = cluster.into();
        let mut inv = Inventory { cluster: given.clone(), given_cluster: given, ..Inventory::default() };
        for object in objects {
            inv.insert(object);
        }
        inv.reindex();
        inv.sidecar_clusters = inv.count_sidecar_clusters();
        inv.settle_cluster();
        inv
    }

    /// The same objects given cluster ID `id` (which the sidecars' own still overrides).
    pub fn with_given_cluster(mut self, id: &str) -> Inventory {
        self.given_cluster = id.to_owned();
        self.settle_cluster();
        self
    }

    fn settle_cluster(&mut self) {
        self.cluster = self.sidecar_clusters.first().map_or_else(|| self.given_cluster.clone(), |(id, _)| id.clone());
    }

    fn count_sidecar_clusters(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for pod in self.all::<Pod>() {
            if let Some(id) = pod.proxy_env(PROXY_CLUSTER_ID_ENV) {
                *counts.entry(id).or_default() += 1;
            }
        }
        let mut counted: Vec<(String, usize)> = counts.into_iter().map(|(id, n)| (id.to_owned(), n)).collect();
        counted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counted
    }

    /// What a user should know of how the cluster ID was decided: sidecars that disagree, or a given ID the
    /// sidecars contradict.
    pub fn cluster_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.sidecar_clusters.len() > 1 {
            let ids: Vec<String> = self.sidecar_clusters.iter().map(|(id, n)| format!("{id} ({n} pods)")).collect();
            notes.push(format!(
                "the sidecars were injected with several cluster IDs: {}; read as {} (pods keep the ID they were injected with until they are recreated)",
                ids.join(", "),
                self.cluster
            ));
        }
        if !self.sidecar_clusters.is_empty()
            && self.given_cluster != DEFAULT_CLUSTER
            && self.given_cluster != self.cluster
        {
            notes.push(format!(
                "cluster ID {} was given, but the sidecars report {} (their ISTIO_META_CLUSTER_ID), which their telemetry carries: read as {}",
                self.given_cluster, self.cluster, self.cluster
            ));
        }
        notes
    }

    fn insert(&mut self, object: Object) {
        let kind = object.kind();
        let key = (kind, object.metadata().namespace_str().to_owned(), object.metadata().name_str().to_owned());
        match self.by_name.get(&key) {
            Some(&index) => self.lists.replace(index, object),
            None => {
                let index = self.lists.push(object);
                self.by_name.insert(key, index);
            }
        }
    }

    /// The objects of manifests given as values (a simulated world, a test's objects), read by the loader
    /// snapshots go through; documents it cannot read are left out.
    pub fn of_values(cluster: impl Into<String>, values: Vec<serde_json::Value>) -> Inventory {
        let mut loader = Loader::new();
        loader.add_values("values", values);
        Inventory::new(cluster, loader.finish().0)
    }

    /// Every stored object of kind `K`.
    pub fn all<K: Resource>(&self) -> &[Arc<K>] {
        K::list(&self.lists)
    }

    /// The Gateway API routes of `kind`, as views.
    pub fn routes(&self, kind: RouteKind) -> Vec<RouteView<'_>> {
        kind.views(&self.lists)
    }

    /// Every Gateway API route, HTTP, gRPC, TCP then TLS.
    pub fn every_route(&self) -> Vec<RouteView<'_>> {
        RouteKind::ALL.iter().flat_map(|kind| self.routes(*kind)).collect()
    }

    /// The stored object `r` refers to, when it is a `K`.
    pub fn get<K: Resource>(&self, r: ObjRef) -> Option<&K> {
        (r.kind == K::KIND).then(|| self.all::<K>().get(r.index).map(|o| &**o)).flatten()
    }

    /// The `K` named `name` in `namespace`.
    pub fn named<K: Resource>(&self, namespace: &str, name: &str) -> Option<&K> {
        self.get(self.find(K::KIND, namespace, name)?)
    }

    /// Number of stored objects of `kind`.
    pub fn len_of(&self, kind: Kind) -> usize {
        self.lists.len(kind)
    }

    /// The metadata of a stored object. `None` only for a reference from another inventory.
    pub fn meta(&self, r: ObjRef) -> Option<&ObjectMeta> {
        self.lists.meta(r.kind, r.index)
    }

    fn all_refs(&self) -> impl Iterator<Item = ObjRef> + '_ {
        Kind::ALL.iter().copied().flat_map(|kind| (0..self.len_of(kind)).map(move |index| ObjRef { kind, index }))
    }

    fn reindex(&mut self) {
        let mut by_uid: HashMap<String, Vec<ObjRef>> = HashMap::new();
        let mut by_owner_uid: HashMap<String, Vec<ObjRef>> = HashMap::new();
        for r in self.all_refs() {
            let Some(meta) = self.meta(r) else { continue };
            if let Some(uid) = meta.uid.as_deref().filter(|u| !u.is_empty()) {
                by_uid.entry(uid.to_owned()).or_default().push(r);
            }
            for owner in meta.owner_references.iter().flatten() {
                by_owner_uid.entry(owner.uid.clone()).or_default().push(r);
            }
        }
        self.by_uid = by_uid;
        self.by_owner_uid = by_owner_uid;
    }

    /// Looks an object up by kind, namespace and name.
    pub fn find(&self, kind: Kind, namespace: &str, name: &str) -> Option<ObjRef> {
        let index = *self.by_name.get(&(kind, namespace.to_owned(), name.to_owned()))?;
        Some(ObjRef { kind, index })
    }

    /// Resolves an owner reference of an object in `namespace`. The uid decides (names are reused after a
    /// delete); among objects sharing a uid, the one with the referenced name wins; without a uid, the name.
    pub fn resolve_owner(&self, namespace: &str, owner: &OwnerReference) -> Option<ObjRef> {
        let kind = Kind::recognise(&owner.api_version, owner.kind.as_str())?;
        let same_kind = |r: &&ObjRef| r.kind == kind;
        if let Some(candidates) = self.by_uid.get(&owner.uid) {
            let mut matching = candidates.iter().filter(same_kind);
            let first = matching.clone().next().copied();
            let named = matching.find(|r| self.meta(**r).is_some_and(|m| m.name_str() == owner.name));
            return named.copied().or(first);
        }
        if owner.uid.is_empty() {
            return self.find(kind, namespace, &owner.name);
        }
        None
    }

    /// Objects whose owner references include `uid` (how the Argo CLI finds a Rollout's ReplicaSets).
    pub fn owned_by(&self, uid: &str, kind: Kind) -> impl Iterator<Item = ObjRef> + '_ {
        self.by_owner_uid.get(uid).into_iter().flatten().copied().filter(move |r| r.kind == kind)
    }

    /// Every namespace that has a Namespace object or any namespaced object, sorted.
    pub fn namespace_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            self.all::<Namespace>().iter().map(|n| n.metadata.name_str().to_owned()).collect();
        names.extend(self.by_name.keys().filter(|(k, _, _)| k.is_namespaced()).map(|(_, ns, _)| ns.clone()));
        names
    }

    /// Number of stored objects of every kind.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::KindName;
    use meshlens_k8s::object::{Decoded, decode};
    use serde_json::json;

    fn object(v: serde_json::Value) -> Object {
        match decode(v).unwrap() {
            Decoded::Object(o) => o,
            other => panic!("{other:?}"),
        }
    }

    fn sidecar_pod(name: &str, cluster_id: Option<&str>) -> Object {
        let env: Vec<serde_json::Value> =
            cluster_id.map(|id| json!({"name": "ISTIO_META_CLUSTER_ID", "value": id})).into_iter().collect();
        object(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy", "env": env}]}}))
    }

    #[test]
    fn the_cluster_is_the_sidecars_most_common_id_else_the_given_one() {
        let pods = || {
            [sidecar_pod("a", Some("east")), sidecar_pod("b", Some("east")), sidecar_pod("c", Some("old"))]
                .into_iter()
                .chain([sidecar_pod("d", None)])
        };
        let inv = Inventory::new(DEFAULT_CLUSTER, pods());
        assert_eq!(inv.cluster, "east");
        let notes = inv.cluster_notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("east (2 pods), old (1 pods); read as east"), "{notes:?}");
        let given = Inventory::new(DEFAULT_CLUSTER, pods()).with_given_cluster("west");
        assert_eq!((given.cluster.as_str(), given.cluster_notes().len()), ("east", 2), "the sidecars win, said");
        let silent = Inventory::new(DEFAULT_CLUSTER, [sidecar_pod("d", None)]);
        assert_eq!(silent.cluster, DEFAULT_CLUSTER);
        assert_eq!(silent.with_given_cluster("west").cluster, "west");
    }

    fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "argoproj.io/v1alpha1".into(),
            kind: KindName::from_name(kind),
            name: name.into(),
            uid: uid.into(),
            controller: Some(true),
        }
    }

    #[test]
    fn owner_references_resolve_by_uid_then_name() {
        let ro = |name: &str, uid: &str| {
            object(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": name, "namespace": "ns", "uid": uid}}))
        };
        let inv = Inventory::new("c", [ro("a", "u1"), ro("b", "u1"), ro("c", "u2")]);
        let r = inv.resolve_owner("ns", &owner("Rollout", "b", "u1")).unwrap();
        assert_eq!(inv.meta(r).unwrap().name_str(), "b");
        let r = inv.resolve_owner("ns", &owner("Rollout", "zzz", "u2")).unwrap();
        assert_eq!(inv.meta(r).unwrap().name_str(), "c", "uid wins over a stale name");
        assert!(inv.resolve_owner("ns", &owner("Rollout", "c", "gone")).is_none());
        assert!(inv.resolve_owner("ns", &owner("Rollout", "c", "")).is_some(), "no uid: by name");
    }

    #[test]
    fn later_objects_replace_earlier_ones_with_the_same_name() {
        let svc = |port: i32| {
            object(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"ports": [{"port": port}]}}))
        };
        let inv = Inventory::new("c", [svc(80), svc(8080)]);
        let services = inv.all::<meshlens_k8s::core::Service>();
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port, 8080);
    }
}
