//! The cluster's objects at one moment, indexed by kind/namespace/name, by uid and by owner, so that identity and
//! views can follow owner references both ways without scanning.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::k8s::argo::{AnalysisRun, Experiment, Rollout};
use crate::k8s::flagger::Canary;
use crate::k8s::istio::{DestinationRule, VirtualService};
use crate::k8s::{Kind, MetaExt, Object};

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
    pub cluster: String,
    pub namespaces: Vec<Namespace>,
    pub pods: Vec<Pod>,
    pub replica_sets: Vec<ReplicaSet>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub replication_controllers: Vec<ReplicationController>,
    pub services: Vec<Service>,
    pub rollouts: Vec<Rollout>,
    pub experiments: Vec<Experiment>,
    pub analysis_runs: Vec<AnalysisRun>,
    pub canaries: Vec<Canary>,
    pub virtual_services: Vec<VirtualService>,
    pub destination_rules: Vec<DestinationRule>,
    by_name: HashMap<(Kind, String, String), usize>,
    by_uid: HashMap<String, Vec<ObjRef>>,
    by_owner_uid: HashMap<String, Vec<ObjRef>>,
}

impl Inventory {
    /// Stores `objects`; a later object with the same kind, namespace and name replaces an earlier one.
    pub fn new(cluster: impl Into<String>, objects: impl IntoIterator<Item = Object>) -> Inventory {
        let mut inv = Inventory { cluster: cluster.into(), ..Inventory::default() };
        for object in objects {
            inv.insert(object);
        }
        inv.reindex();
        inv
    }

    fn insert(&mut self, object: Object) {
        let kind = object.kind();
        let key = (kind, object.metadata().namespace_str().to_owned(), object.metadata().name_str().to_owned());
        if let Some(&index) = self.by_name.get(&key) {
            self.replace(index, object);
            return;
        }
        let index = self.len_of(kind);
        self.push(object);
        self.by_name.insert(key, index);
    }

    fn push(&mut self, object: Object) {
        match object {
            Object::Namespace(o) => self.namespaces.push(o),
            Object::Pod(o) => self.pods.push(o),
            Object::ReplicaSet(o) => self.replica_sets.push(o),
            Object::Deployment(o) => self.deployments.push(o),
            Object::StatefulSet(o) => self.stateful_sets.push(o),
            Object::DaemonSet(o) => self.daemon_sets.push(o),
            Object::Job(o) => self.jobs.push(o),
            Object::CronJob(o) => self.cron_jobs.push(o),
            Object::ReplicationController(o) => self.replication_controllers.push(o),
            Object::Service(o) => self.services.push(o),
            Object::Rollout(o) => self.rollouts.push(o),
            Object::Experiment(o) => self.experiments.push(o),
            Object::AnalysisRun(o) => self.analysis_runs.push(o),
            Object::Canary(o) => self.canaries.push(o),
            Object::VirtualService(o) => self.virtual_services.push(o),
            Object::DestinationRule(o) => self.destination_rules.push(o),
        }
    }

    fn replace(&mut self, index: usize, object: Object) {
        match object {
            Object::Namespace(o) => self.namespaces[index] = o,
            Object::Pod(o) => self.pods[index] = o,
            Object::ReplicaSet(o) => self.replica_sets[index] = o,
            Object::Deployment(o) => self.deployments[index] = o,
            Object::StatefulSet(o) => self.stateful_sets[index] = o,
            Object::DaemonSet(o) => self.daemon_sets[index] = o,
            Object::Job(o) => self.jobs[index] = o,
            Object::CronJob(o) => self.cron_jobs[index] = o,
            Object::ReplicationController(o) => self.replication_controllers[index] = o,
            Object::Service(o) => self.services[index] = o,
            Object::Rollout(o) => self.rollouts[index] = o,
            Object::Experiment(o) => self.experiments[index] = o,
            Object::AnalysisRun(o) => self.analysis_runs[index] = o,
            Object::Canary(o) => self.canaries[index] = o,
            Object::VirtualService(o) => self.virtual_services[index] = o,
            Object::DestinationRule(o) => self.destination_rules[index] = o,
        }
    }

    fn len_of(&self, kind: Kind) -> usize {
        match kind {
            Kind::Namespace => self.namespaces.len(),
            Kind::Pod => self.pods.len(),
            Kind::ReplicaSet => self.replica_sets.len(),
            Kind::Deployment => self.deployments.len(),
            Kind::StatefulSet => self.stateful_sets.len(),
            Kind::DaemonSet => self.daemon_sets.len(),
            Kind::Job => self.jobs.len(),
            Kind::CronJob => self.cron_jobs.len(),
            Kind::ReplicationController => self.replication_controllers.len(),
            Kind::Service => self.services.len(),
            Kind::Rollout => self.rollouts.len(),
            Kind::Experiment => self.experiments.len(),
            Kind::AnalysisRun => self.analysis_runs.len(),
            Kind::Canary => self.canaries.len(),
            Kind::VirtualService => self.virtual_services.len(),
            Kind::DestinationRule => self.destination_rules.len(),
        }
    }

    /// The metadata of a stored object. `None` only for a reference from another inventory.
    pub fn meta(&self, r: ObjRef) -> Option<&ObjectMeta> {
        let i = r.index;
        Some(match r.kind {
            Kind::Namespace => &self.namespaces.get(i)?.metadata,
            Kind::Pod => &self.pods.get(i)?.metadata,
            Kind::ReplicaSet => &self.replica_sets.get(i)?.metadata,
            Kind::Deployment => &self.deployments.get(i)?.metadata,
            Kind::StatefulSet => &self.stateful_sets.get(i)?.metadata,
            Kind::DaemonSet => &self.daemon_sets.get(i)?.metadata,
            Kind::Job => &self.jobs.get(i)?.metadata,
            Kind::CronJob => &self.cron_jobs.get(i)?.metadata,
            Kind::ReplicationController => &self.replication_controllers.get(i)?.metadata,
            Kind::Service => &self.services.get(i)?.metadata,
            Kind::Rollout => &self.rollouts.get(i)?.metadata,
            Kind::Experiment => &self.experiments.get(i)?.metadata,
            Kind::AnalysisRun => &self.analysis_runs.get(i)?.metadata,
            Kind::Canary => &self.canaries.get(i)?.metadata,
            Kind::VirtualService => &self.virtual_services.get(i)?.metadata,
            Kind::DestinationRule => &self.destination_rules.get(i)?.metadata,
        })
    }

    fn all_refs(&self) -> impl Iterator<Item = ObjRef> + '_ {
        Kind::ALL.into_iter().flat_map(|kind| (0..self.len_of(kind)).map(move |index| ObjRef { kind, index }))
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
        let kind = Kind::recognise(&owner.api_version, &owner.kind)?;
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
        let mut names: BTreeSet<String> = self.namespaces.iter().map(|n| n.metadata.name_str().to_owned()).collect();
        names.extend(self.by_name.keys().filter(|(k, _, _)| k.is_namespaced()).map(|(_, ns, _)| ns.clone()));
        names
    }

    pub fn replica_set(&self, r: ObjRef) -> Option<&ReplicaSet> {
        (r.kind == Kind::ReplicaSet).then(|| self.replica_sets.get(r.index)).flatten()
    }

    pub fn pod(&self, r: ObjRef) -> Option<&Pod> {
        (r.kind == Kind::Pod).then(|| self.pods.get(r.index)).flatten()
    }

    pub fn deployment(&self, r: ObjRef) -> Option<&Deployment> {
        (r.kind == Kind::Deployment).then(|| self.deployments.get(r.index)).flatten()
    }

    pub fn rollout(&self, r: ObjRef) -> Option<&Rollout> {
        (r.kind == Kind::Rollout).then(|| self.rollouts.get(r.index)).flatten()
    }

    pub fn experiment(&self, r: ObjRef) -> Option<&Experiment> {
        (r.kind == Kind::Experiment).then(|| self.experiments.get(r.index)).flatten()
    }

    pub fn analysis_run(&self, r: ObjRef) -> Option<&AnalysisRun> {
        (r.kind == Kind::AnalysisRun).then(|| self.analysis_runs.get(r.index)).flatten()
    }

    pub fn canary(&self, r: ObjRef) -> Option<&Canary> {
        (r.kind == Kind::Canary).then(|| self.canaries.get(r.index)).flatten()
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
    use crate::k8s::object::{Decoded, decode};
    use serde_json::json;

    fn object(v: serde_json::Value) -> Object {
        match decode(v).unwrap() {
            Decoded::Object(o) => o,
            other => panic!("{other:?}"),
        }
    }

    fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "argoproj.io/v1alpha1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: uid.into(),
            controller: Some(true),
            ..Default::default()
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
        assert_eq!(inv.services.len(), 1);
        assert_eq!(inv.services[0].spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port, 8080);
    }
}
