//! Builds the workloads of an inventory and the reverse index from telemetry names back to them, so that both
//! `reviews` and `reviews-6d4f9b7c8` resolve to Rollout `reviews` and nothing in telemetry is left unexplained.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::inventory::{Inventory, ObjRef};
use meshlens_k8s::Kind;
use meshlens_k8s::annotations;
use meshlens_k8s::apps::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use meshlens_k8s::argo::POD_TEMPLATE_HASH_LABEL;
use meshlens_k8s::argo::Rollout;
use meshlens_k8s::batch::{CronJob, Job};
use meshlens_k8s::core::{Namespace, Pod, PodTemplateSpec, ReplicationController};
use meshlens_k8s::core::{PROXY_CONTAINER, PROXY_WORKLOAD_NAME_ENV};
use meshlens_k8s::flagger::Canary;
use meshlens_k8s::gateway::{GATEWAY_NAME_LABEL, Gateway, WAYPOINT_CLASS};
use meshlens_k8s::status::{pod_ready, pod_status, replica_set_health};
use meshlens_telemetry::istio::pod_label;

use super::naming::{
    NamingGeneration, PodFacts, candidate_names, canonical_revision, canonical_service, telemetry_identity,
};
use super::owners::{Controller, Resolver};
use super::roles::{flagger_roles, rollout_roles};
use super::workload::{AmbientProxy, PodEntry, ReplicaSetEntry, Role, Workload, WorkloadId, ZTUNNEL_APP};

/// How a telemetry workload name maps back to workloads.
#[derive(Debug)]
pub enum Resolution<'a> {
    /// Exactly one workload carries this name.
    One(&'a Workload),
    /// Several workloads carry it (a `workloadRef` migration, a shared workload-name label).
    Ambiguous(Vec<&'a Workload>),
    /// No workload carries it, but it is `<workload>-<hash>` of a Rollout or Deployment whose ReplicaSet is gone
    /// (pods replaced during the window).
    ByHashSuffix(&'a Workload),
    /// Nothing explains the name.
    Unknown,
}

/// Every workload of an inventory, with lookups by id, telemetry name, pod and pod-template hash.
#[derive(Debug, Default)]
pub struct IdentityIndex {
    pub cluster: String,
    workloads: Vec<Workload>,
    by_id: HashMap<WorkloadId, usize>,
    by_name: HashMap<(String, String), Vec<usize>>,
    by_telemetry_name: HashMap<(String, String), Vec<usize>>,
    by_pod: HashMap<(String, String), usize>,
    by_hash: HashMap<(String, String), (usize, String)>,
    namespaces: BTreeSet<String>,
}

impl IdentityIndex {
    /// Builds every workload of `inv`: one per top-level controller, including controllers with no pods.
    pub fn build(inv: &Inventory) -> IdentityIndex {
        Builder::new(inv).build()
    }

    /// The index of an inventory from indexes of its parts, each built from some of its namespaces' objects: a
    /// live cluster re-derives the namespaces that changed and keeps the others' workloads.
    pub fn merge<'p>(inv: &Inventory, parts: impl IntoIterator<Item = &'p IdentityIndex>) -> IdentityIndex {
        let workloads = parts.into_iter().flat_map(|part| part.workloads.iter().cloned()).collect();
        IdentityIndex::of_workloads(inv, workloads)
    }

    /// The lookups of `workloads`, in the order of their ids.
    fn of_workloads(inv: &Inventory, mut workloads: Vec<Workload>) -> IdentityIndex {
        let mut index = IdentityIndex {
            cluster: inv.cluster.clone(),
            namespaces: inv.namespace_names(),
            ..IdentityIndex::default()
        };
        workloads.sort_by(|a, b| a.id.cmp(&b.id));
        for (i, w) in workloads.iter().enumerate() {
            index.by_id.insert(w.id.clone(), i);
            index.by_name.entry((w.id.namespace.clone(), w.id.name.clone())).or_default().push(i);
            for name in &w.telemetry_names {
                index.by_telemetry_name.entry((w.id.namespace.clone(), name.clone())).or_default().push(i);
            }
            for p in &w.pods {
                index.by_pod.insert((w.id.namespace.clone(), p.name.clone()), i);
            }
            for rs in &w.replica_sets {
                if let Some(hash) = &rs.hash {
                    index.by_hash.insert((w.id.namespace.clone(), hash.clone()), (i, rs.name.clone()));
                }
            }
        }
        index.workloads = workloads;
        index
    }

    /// Workloads sorted by namespace, name and kind.
    pub fn workloads(&self) -> &[Workload] {
        &self.workloads
    }

    pub fn get(&self, id: &WorkloadId) -> Option<&Workload> {
        self.by_id.get(id).and_then(|&i| self.workloads.get(i))
    }

    /// Workloads in `namespace` named `name` (several when kinds differ, e.g. Deployment and Rollout `X`).
    pub fn named(&self, namespace: &str, name: &str) -> impl Iterator<Item = &Workload> + use<'_> {
        let found = self.by_name.get(&(namespace.to_owned(), name.to_owned()));
        found.into_iter().flatten().filter_map(|&i| self.workloads.get(i))
    }

    /// Namespaces whose objects were loaded.
    pub fn namespaces(&self) -> &BTreeSet<String> {
        &self.namespaces
    }

    /// Maps a telemetry workload name (`destination_workload` in `destination_workload_namespace`) to workloads.
    pub fn resolve(&self, cluster: &str, namespace: &str, name: &str) -> Resolution<'_> {
        if cluster != self.cluster {
            return Resolution::Unknown;
        }
        if let Some(found) = self.by_telemetry_name.get(&(namespace.to_owned(), name.to_owned())) {
            let mut found: Vec<&Workload> = found.iter().filter_map(|&i| self.workloads.get(i)).collect();
            return match found.len() {
                0 => Resolution::Unknown,
                1 => found.pop().map_or(Resolution::Unknown, Resolution::One),
                _ => Resolution::Ambiguous(found),
            };
        }
        let Some((base, hash)) = name.rsplit_once('-') else {
            return Resolution::Unknown;
        };
        if !looks_like_hash(hash) {
            return Resolution::Unknown;
        }
        let revisioned = |w: &&Workload| matches!(w.id.kind.known(), Some(Kind::Rollout | Kind::Deployment));
        match self.named(namespace, base).filter(revisioned).collect::<Vec<_>>().as_slice() {
            [one] => Resolution::ByHashSuffix(one),
            _ => Resolution::Unknown,
        }
    }

    /// The workload and ReplicaSet of a pod, from the `pod` label telemetry carries.
    pub fn pod(&self, namespace: &str, pod: &str) -> Option<(&Workload, &PodEntry)> {
        let w = self.workloads.get(*self.by_pod.get(&(namespace.to_owned(), pod.to_owned()))?)?;
        Some((w, w.pods.iter().find(|p| p.name == pod)?))
    }

    /// The workload and ReplicaSet name of a pod-template hash (the `rollouts_pod_template_hash` label).
    pub fn hash(&self, namespace: &str, hash: &str) -> Option<(&Workload, &str)> {
        let (i, rs) = self.by_hash.get(&(namespace.to_owned(), hash.to_owned()))?;
        Some((self.workloads.get(*i)?, rs.as_str()))
    }
}

/// Kubernetes encodes pod-template hashes with this alphabet (no vowels, no look-alike digits).
const HASH_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

fn looks_like_hash(s: &str) -> bool {
    (5..=10).contains(&s.len()) && s.chars().all(|c| HASH_ALPHABET.contains(c))
}

/// A workload being assembled.
struct Draft {
    id: WorkloadId,
    api_version: String,
    inferred: bool,
    /// Pod template labels of the controller object, when it is stored.
    template_labels: Option<BTreeMap<String, String>>,
    template_from: Option<String>,
    telemetry_names: BTreeSet<String>,
    replica_sets: Vec<ReplicaSetEntry>,
    pods: Vec<PodEntry>,
    rollout: Option<ObjRef>,
    canary_primary: Option<String>,
}

struct Builder<'a> {
    inv: &'a Inventory,
    resolver: Resolver<'a>,
    drafts: Vec<Draft>,
    by_controller: HashMap<Controller, usize>,
    by_id: HashMap<WorkloadId, usize>,
    /// Namespaces labelled `istio.io/dataplane-mode: ambient`.
    ambient_namespaces: BTreeSet<&'a str>,
}

impl<'a> Builder<'a> {
    fn new(inv: &'a Inventory) -> Builder<'a> {
        let ambient_namespaces = (inv.all::<Namespace>().iter())
            .filter(|n| {
                n.metadata.labels().get(pod_label::DATAPLANE_MODE).is_some_and(|m| m == pod_label::DATAPLANE_AMBIENT)
            })
            .map(|n| n.metadata.name_str())
            .collect();
        Builder {
            inv,
            ambient_namespaces,
            resolver: Resolver::new(inv),
            drafts: Vec::new(),
            by_controller: HashMap::new(),
            by_id: HashMap::new(),
        }
    }

    fn build(mut self) -> IdentityIndex {
        let inv = self.inv;
        // Controllers first, so workloads without pods exist too.
        let controller_kinds = [
            Kind::Deployment,
            Kind::Rollout,
            Kind::Canary,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::CronJob,
            Kind::Job,
            Kind::ReplicationController,
            Kind::Experiment,
        ];
        for kind in controller_kinds {
            for index in 0..inv.len_of(kind) {
                let top = self.resolver.top_of(ObjRef { kind, index });
                self.draft(top);
            }
        }
        for (index, rs) in inv.all::<ReplicaSet>().iter().enumerate() {
            let top = self.resolver.top_of(ObjRef { kind: Kind::ReplicaSet, index });
            let d = self.draft(top);
            let Some(entry) = self.drafts.get(d).map(|draft| self.replica_set_entry(draft, rs)) else { continue };
            if let Some(draft) = self.drafts.get_mut(d) {
                draft.replica_sets.push(entry);
            }
        }
        for (index, pod) in inv.all::<Pod>().iter().enumerate() {
            let top = self.resolver.pod_controller(ObjRef { kind: Kind::Pod, index }, pod);
            let d = self.draft(top);
            let Some(entry) = self.drafts.get(d).map(|draft| self.pod_entry(draft, pod)) else { continue };
            let Some(draft) = self.drafts.get_mut(d) else { continue };
            draft.telemetry_names.extend(candidate_names(&pod_facts(pod)));
            if draft.template_labels.is_none() {
                draft.template_labels = Some(pod.metadata.labels().clone());
            }
            draft.pods.push(entry);
        }
        let workloads: Vec<Workload> = self.drafts.into_iter().map(|d| finish(inv, d)).collect();
        IdentityIndex::of_workloads(inv, workloads)
    }

    /// The draft of a controller's workload, created on first sight.
    fn draft(&mut self, controller: Controller) -> usize {
        if let Some(&d) = self.by_controller.get(&controller) {
            return d;
        }
        let draft = self.new_draft(&controller);
        // Two controllers can name the same workload id (an inferred one and a stored one); merge them.
        let d = match self.by_id.get(&draft.id) {
            Some(&d) => d,
            None => {
                self.by_id.insert(draft.id.clone(), self.drafts.len());
                self.drafts.push(draft);
                self.drafts.len() - 1
            }
        };
        self.by_controller.insert(controller, d);
        d
    }

    fn new_draft(&self, controller: &Controller) -> Draft {
        let inv = self.inv;
        let cluster = inv.cluster.clone();
        match controller {
            Controller::Inferred { namespace, kind, api_version, name } => Draft {
                id: WorkloadId { cluster, namespace: namespace.clone(), name: name.clone(), kind: kind.clone() },
                api_version: api_version.clone(),
                inferred: true,
                template_labels: None,
                template_from: None,
                telemetry_names: BTreeSet::from([name.clone()]),
                replica_sets: Vec::new(),
                pods: Vec::new(),
                rollout: None,
                canary_primary: None,
            },
            Controller::Object(r) => {
                let meta = inv.meta(*r).cloned().unwrap_or_default();
                let name = meta.name_str().to_owned();
                let mut draft = Draft {
                    id: WorkloadId {
                        cluster,
                        namespace: meta.namespace_str().to_owned(),
                        name: name.clone(),
                        kind: r.kind.into(),
                    },
                    api_version: r.kind.api_version().to_owned(),
                    inferred: false,
                    template_labels: None,
                    template_from: None,
                    telemetry_names: BTreeSet::new(),
                    replica_sets: Vec::new(),
                    pods: Vec::new(),
                    rollout: (r.kind == Kind::Rollout).then_some(*r),
                    canary_primary: None,
                };
                self.describe_controller(*r, &mut draft);
                if let Some(alias) = draft.template_labels.as_ref().and_then(|l| l.get(pod_label::WORKLOAD_NAME)) {
                    draft.telemetry_names.insert(alias.clone());
                }
                draft
            }
        }
    }

    /// Fills in what the controller object itself says: its pod template and its own telemetry names.
    fn describe_controller(&self, r: ObjRef, draft: &mut Draft) {
        let inv = self.inv;
        let name = draft.id.name.clone();
        let labels_of = |t: Option<&PodTemplateSpec>| t.and_then(|t| t.metadata.as_ref()).map(|m| m.labels().clone());
        let ns = draft.id.namespace.clone();
        let deployment_template =
            |dep_name: &str| labels_of(inv.named::<Deployment>(&ns, dep_name)?.spec.as_ref().map(|s| &s.template));
        match r.kind {
            Kind::Rollout => {
                let Some(ro) = inv.get::<Rollout>(r) else { return };
                draft.telemetry_names.insert(name);
                draft.template_labels = labels_of(ro.spec.template.as_ref());
                if let Some(wref) = &ro.spec.workload_ref {
                    draft.template_from = Some(format!("{}/{}", wref.kind, wref.name));
                    if wref.kind == Kind::Deployment {
                        draft.template_labels = deployment_template(&wref.name);
                    }
                }
            }
            Kind::Canary => {
                let Some(canary) = inv.get::<Canary>(r) else { return };
                let target = canary.spec.target_ref.name.clone();
                let primary = canary.primary_name();
                draft.template_labels = deployment_template(&target);
                draft.template_from = Some(format!("{}/{}", canary.spec.target_ref.kind, target));
                draft.telemetry_names.extend([target, primary.clone()]);
                draft.canary_primary = Some(primary);
            }
            Kind::Pod => {
                draft.template_labels = inv.get::<Pod>(r).map(|pod| pod.metadata.labels().clone());
                draft.telemetry_names.insert(name);
            }
            // An Experiment's pods report their ReplicaSets' names.
            Kind::Experiment => {}
            _ => {
                draft.telemetry_names.insert(name);
                draft.template_labels = labels_of(pod_template(inv, r));
            }
        }
    }

    fn replica_set_entry(&self, draft: &Draft, rs: &ReplicaSet) -> ReplicaSetEntry {
        let meta = &rs.metadata;
        let labels = meta.labels();
        let owner = meta.controller();
        let experiment = owner.filter(|o| o.kind == Kind::Experiment).map(|o| o.name.clone());
        let rollout_hash = labels.get(POD_TEMPLATE_HASH_LABEL).cloned();
        let hash = rollout_hash.clone().or_else(|| labels.get(meshlens_k8s::apps::POD_TEMPLATE_HASH_LABEL).cloned());
        let revision = meta
            .annotation(annotations::ROLLOUT_REVISION)
            .or_else(|| meta.annotation(annotations::DEPLOYMENT_REVISION))
            .and_then(|r| r.parse().ok());
        let roles = match (experiment.is_some(), &hash) {
            (false, Some(h)) => self.roles_for_hash(draft, h, owner.map(|o| o.name.as_str())),
            _ => Vec::new(),
        };
        // Before Istio 1.22 a Rollout's pods reported their ReplicaSet's name; experiment pods always do.
        let legacy_telemetry_name = (draft.id.kind == Kind::Rollout).then(|| meta.name_str().to_owned());
        let status = rs.status.as_ref();
        let template_labels =
            rs.spec.as_ref().and_then(|s| s.template.as_ref()).and_then(|t| t.metadata.as_ref()).map(|m| m.labels());
        let canonical_revision = template_labels.filter(|l| has_revision_label(l)).map(canonical_revision);
        ReplicaSetEntry {
            name: meta.name_str().to_owned(),
            hash,
            revision,
            roles,
            replicas: rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready_replicas: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available_replicas: status.and_then(|s| s.available_replicas).unwrap_or(0),
            status: replica_set_health(rs).to_owned(),
            canonical_revision,
            experiment,
            legacy_telemetry_name,
        }
    }

    /// Roles of a revision: from the Rollout's status by hash, or from the Flagger Deployment it belongs to.
    fn roles_for_hash(&self, draft: &Draft, hash: &str, deployment: Option<&str>) -> Vec<Role> {
        if let Some(ro) = draft.rollout.and_then(|r| self.inv.get::<Rollout>(r)) {
            return rollout_roles(ro, hash);
        }
        match (&draft.canary_primary, deployment) {
            (Some(primary), Some(dep)) => flagger_roles(primary, dep),
            _ => Vec::new(),
        }
    }

    /// Whether the ambient mesh redirects the pod's traffic through ztunnel: istio-cni marks the pods it
    /// redirects; a snapshot of manifests has no such mark, so the enrolment rules decide: the pod's own
    /// `istio.io/dataplane-mode` (`ambient`, or `none` to opt out), else its namespace's; a pod with a sidecar is
    /// never captured by ambient.
    fn in_ambient(&self, pod: &Pod) -> bool {
        if let Some(redirection) = pod.metadata.annotation(annotations::AMBIENT_REDIRECTION) {
            return redirection == "enabled";
        }
        match pod.metadata.labels().get(pod_label::DATAPLANE_MODE).map(String::as_str) {
            Some(mode) => mode == pod_label::DATAPLANE_AMBIENT,
            None => self.ambient_namespaces.contains(pod.metadata.namespace_str()) && !has_sidecar(pod),
        }
    }

    fn pod_entry(&self, draft: &Draft, pod: &Pod) -> PodEntry {
        let meta = &pod.metadata;
        let facts = pod_facts(pod);
        let owner = meta.controller();
        let replica_set = owner.filter(|o| o.kind == Kind::ReplicaSet).map(|o| o.name.clone());
        let labels = meta.labels();
        let proxy = ambient_proxy(self.inv, meta.namespace_str(), labels);
        let hash = labels
            .get(POD_TEMPLATE_HASH_LABEL)
            .or_else(|| labels.get(meshlens_k8s::apps::POD_TEMPLATE_HASH_LABEL))
            .cloned();
        let rs_entry = replica_set.as_ref().and_then(|n| draft.replica_sets.iter().find(|rs| &rs.name == n));
        let roles = match (rs_entry, &hash) {
            (Some(rs), _) => rs.roles.clone(),
            (None, Some(h)) => {
                let deployment = replica_set.as_deref().and_then(|rs| rs.strip_suffix(h.as_str())?.strip_suffix('-'));
                self.roles_for_hash(draft, h, deployment)
            }
            _ => Vec::new(),
        };
        let current = telemetry_identity(&facts, NamingGeneration::CURRENT);
        let (telemetry_name, telemetry_kind) = match pod.proxy_env(PROXY_WORKLOAD_NAME_ENV) {
            Some(injected) => {
                let generation =
                    NamingGeneration::ALL.into_iter().find(|g| telemetry_identity(&facts, *g).name == injected);
                let kind = generation.map(|g| telemetry_identity(&facts, g).kind).unwrap_or(current.kind);
                (injected.to_owned(), kind)
            }
            None => (current.name, current.kind),
        };
        let status = pod_status(pod);
        PodEntry {
            name: meta.name_str().to_owned(),
            telemetry_name,
            telemetry_kind,
            replica_set,
            hash,
            roles,
            phase: pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into()),
            status: status.reason,
            ready: pod_ready(pod),
            ready_containers: status.ready,
            restarts: status.restarts,
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            // Istio's ambient proxies run Envoy or ztunnel in a container named like a sidecar, but are the mesh.
            in_mesh: has_sidecar(pod) || self.in_ambient(pod) || proxy.is_some(),
            sidecar: has_sidecar(pod) && proxy.is_none(),
        }
    }
}

/// Which of Istio's ambient proxies pods with `labels` are: Istio labels the waypoint pods it deploys for a Gateway
/// of class `istio-waypoint` with `gateway.istio.io/managed: istio.io-mesh-controller` and the Gateway's name.
fn ambient_proxy(inv: &Inventory, namespace: &str, labels: &BTreeMap<String, String>) -> Option<AmbientProxy> {
    let managed = labels.get(pod_label::WAYPOINT_MANAGED.0).is_some_and(|v| v == pod_label::WAYPOINT_MANAGED.1);
    let of_waypoint_gateway = labels.get(GATEWAY_NAME_LABEL).is_some_and(|name| {
        inv.find(Kind::Gateway, namespace, name)
            .and_then(|r| inv.get::<Gateway>(r))
            .is_some_and(|g| g.spec.gateway_class_name == WAYPOINT_CLASS)
    });
    if managed || of_waypoint_gateway {
        Some(AmbientProxy::Waypoint)
    } else if labels.get("app").is_some_and(|app| app == ZTUNNEL_APP) {
        Some(AmbientProxy::Ztunnel)
    } else {
        None
    }
}

/// Whether pod labels set a canonical revision explicitly (else every revision is `latest`).
fn has_revision_label(labels: &BTreeMap<String, String>) -> bool {
    pod_label::CANONICAL_REVISION_LABELS.iter().any(|k| labels.contains_key(*k))
}

/// The pod template of a controller that runs its pods from one.
fn pod_template(inv: &Inventory, r: ObjRef) -> Option<&PodTemplateSpec> {
    match r.kind {
        Kind::Deployment => inv.get::<Deployment>(r)?.spec.as_ref().map(|s| &s.template),
        Kind::StatefulSet => inv.get::<StatefulSet>(r)?.spec.as_ref().map(|s| &s.template),
        Kind::DaemonSet => inv.get::<DaemonSet>(r)?.spec.as_ref().map(|s| &s.template),
        Kind::Job => inv.get::<Job>(r)?.spec.as_ref().map(|s| &s.template),
        Kind::CronJob => inv.get::<CronJob>(r)?.spec.as_ref()?.job_template.spec.as_ref().map(|s| &s.template),
        Kind::ReplicaSet => inv.get::<ReplicaSet>(r)?.spec.as_ref()?.template.as_ref(),
        Kind::ReplicationController => inv.get::<ReplicationController>(r)?.spec.as_ref()?.template.as_ref(),
        _ => None,
    }
}

pub(crate) fn pod_facts(pod: &Pod) -> PodFacts<'_> {
    let meta = &pod.metadata;
    PodFacts {
        name: meta.name_str(),
        generate_name: meta.generate_name.as_deref(),
        labels: meta.labels(),
        controller: meta.controller().map(|o| (&o.kind, o.name.as_str())),
    }
}

/// Whether the pod carries an Istio sidecar (a native sidecar is an init container).
fn has_sidecar(pod: &Pod) -> bool {
    let has_proxy = pod.spec.as_ref().is_some_and(|s| {
        s.containers.iter().chain(s.init_containers.iter().flatten()).any(|c| c.name == PROXY_CONTAINER)
    });
    has_proxy || pod.metadata.annotation(annotations::SIDECAR_STATUS).is_some()
}

fn finish(inv: &Inventory, draft: Draft) -> Workload {
    let Draft {
        id,
        api_version,
        inferred,
        template_labels,
        template_from,
        mut telemetry_names,
        mut replica_sets,
        mut pods,
        ..
    } = draft;
    for rs in &replica_sets {
        if let Some(legacy) = &rs.legacy_telemetry_name {
            telemetry_names.insert(legacy.clone());
        }
    }
    let labels = template_labels.unwrap_or_default();
    let ambient_proxy = ambient_proxy(inv, &id.namespace, &labels);
    let app = canonical_service(&labels, &id.name);
    let version = canonical_revision(&labels);
    replica_sets.sort_by(|a, b| b.revision.cmp(&a.revision).then_with(|| a.name.cmp(&b.name)));
    pods.sort_by(|a, b| a.replica_set.cmp(&b.replica_set).then_with(|| a.name.cmp(&b.name)));
    Workload {
        id,
        api_version,
        app,
        version,
        telemetry_names,
        inferred,
        template_from,
        replica_sets,
        pods,
        ambient_proxy,
    }
}
