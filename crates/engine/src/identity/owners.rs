//! Finds the top-level controller of a pod or ReplicaSet by following controller owner references
//! (CronJob → Job → Pod, Rollout → ReplicaSet → Pod, Rollout → Experiment → ReplicaSet, Canary → Deployment, ...).
//! When an owner is not in the inventory, the owner reference (or, for a pod's own owner, Istio's naming rules)
//! still names it.

use std::collections::HashMap;

use crate::inventory::{Inventory, ObjRef};
use meshlens_k8s::core::Pod;
use meshlens_k8s::flagger::Canary;
use meshlens_k8s::{Kind, KindName};

use super::naming::{NamingGeneration, PodFacts, telemetry_identity};

/// Where an object belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Controller {
    /// A stored object is the top-level controller.
    Object(ObjRef),
    /// The controller is not stored; its kind and name come from an owner reference or Istio's naming rules.
    Inferred { namespace: String, kind: KindName, api_version: String, name: String },
}

/// Owner chains never legitimately get this deep; the bound stops cycles in hostile input.
const MAX_OWNER_DEPTH: usize = 8;

/// Resolves controllers over one inventory, remembering Flagger targets.
pub struct Resolver<'a> {
    inv: &'a Inventory,
    /// (namespace, Deployment name) → the Canary that targets it.
    flagger_targets: HashMap<(&'a str, &'a str), ObjRef>,
}

impl<'a> Resolver<'a> {
    pub fn new(inv: &'a Inventory) -> Resolver<'a> {
        let flagger_targets = inv
            .all::<Canary>()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.spec.target_ref.kind == Kind::Deployment)
            .map(|(index, c)| {
                let key = (c.metadata.namespace_str(), c.spec.target_ref.name.as_str());
                (key, ObjRef { kind: Kind::Canary, index })
            })
            .collect();
        Resolver { inv, flagger_targets }
    }

    /// The top-level controller of a pod. A pod without a controller is its own workload.
    pub fn pod_controller(&self, pod_ref: ObjRef, pod: &Pod) -> Controller {
        let meta = &pod.metadata;
        let Some(owner) = meta.controller() else {
            return Controller::Object(pod_ref);
        };
        match self.inv.resolve_owner(meta.namespace_str(), owner) {
            Some(parent) => self.top_of(parent),
            None => self.inferred_from_pod(pod),
        }
    }

    /// The top-level controller of a stored object (the object itself when nothing controls it).
    pub fn top_of(&self, start: ObjRef) -> Controller {
        let mut current = start;
        for _ in 0..MAX_OWNER_DEPTH {
            let Some(meta) = self.inv.meta(current) else {
                break;
            };
            let Some(owner) = meta.controller() else {
                break;
            };
            if !climbs_into(current.kind, &owner.kind) {
                break;
            }
            match self.inv.resolve_owner(meta.namespace_str(), owner) {
                Some(parent) if parent != current => current = parent,
                Some(_) => break,
                None => {
                    return Controller::Inferred {
                        namespace: meta.namespace_str().to_owned(),
                        kind: owner.kind.clone(),
                        api_version: owner.api_version.clone(),
                        name: owner.name.clone(),
                    };
                }
            }
        }
        if current.kind == Kind::Deployment
            && let Some(meta) = self.inv.meta(current)
            && let Some(canary) = self.flagger_targets.get(&(meta.namespace_str(), meta.name_str()))
        {
            return Controller::Object(*canary);
        }
        Controller::Object(current)
    }

    /// The pod's owner is gone: name its controller as Istio would from the pod alone.
    fn inferred_from_pod(&self, pod: &Pod) -> Controller {
        let meta = &pod.metadata;
        let owner = meta.controller();
        let facts = PodFacts {
            name: meta.name_str(),
            generate_name: meta.generate_name.as_deref(),
            labels: meta.labels(),
            controller: owner.map(|o| (&o.kind, o.name.as_str())),
        };
        // The workload-name override is a telemetry alias, not the controller's name.
        let id = telemetry_identity(&facts, NamingGeneration::Rollout);
        // A kind Istio's naming climbs to has its own apiVersion; otherwise the pod's owner's (or a pod's).
        let climbed = matches!(
            id.kind,
            KindName::Known(Kind::Deployment | Kind::Rollout | Kind::CronJob) | KindName::DeploymentConfig
        );
        let api_version = (id.kind.api_version().filter(|_| climbed).map(str::to_owned))
            .or_else(|| owner.map(|o| o.api_version.clone()))
            .unwrap_or_else(|| Kind::Pod.api_version().to_owned());
        Controller::Inferred { namespace: meta.namespace_str().to_owned(), kind: id.kind, api_version, name: id.name }
    }
}

/// Whether an object of kind `child` is part of its controller's workload (as opposed to a workload of its own
/// that merely has an owner, like an AnalysisRun's Job).
fn climbs_into(child: Kind, owner_kind: &KindName) -> bool {
    use KindName::Known;
    matches!(
        (child, owner_kind),
        (Kind::ReplicaSet, Known(Kind::Deployment | Kind::Rollout | Kind::Experiment))
            | (Kind::Experiment, Known(Kind::Rollout))
            | (Kind::Job, Known(Kind::CronJob))
            | (Kind::Deployment, Known(Kind::Canary))
            | (Kind::ReplicationController, KindName::DeploymentConfig)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn inventory(values: Vec<Value>) -> Inventory {
        Inventory::of_values("Kubernetes", values)
    }

    fn meta(name: &str, uid: &str, owner: Option<(&str, &str, &str, &str)>) -> Value {
        let mut m = json!({"name": name, "namespace": "ns", "uid": uid});
        if let Some((api, kind, oname, ouid)) = owner {
            m["ownerReferences"] =
                json!([{"apiVersion": api, "kind": kind, "name": oname, "uid": ouid, "controller": true}]);
        }
        m
    }

    fn controller_name(inv: &Inventory, c: &Controller) -> (String, String) {
        match c {
            Controller::Object(r) => (r.kind.to_string(), inv.meta(*r).unwrap().name_str().to_owned()),
            Controller::Inferred { kind, name, .. } => (format!("{kind}?"), name.clone()),
        }
    }

    fn pod_top(inv: &Inventory, name: &str) -> (String, String) {
        let r = inv.find(Kind::Pod, "ns", name).unwrap();
        let c = Resolver::new(inv).pod_controller(r, inv.get::<Pod>(r).unwrap());
        controller_name(inv, &c)
    }

    #[test]
    fn cron_job_job_pod_chain_reaches_the_cron_job() {
        let inv = inventory(vec![
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("backup", "cj", None)}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("backup-28391520", "j", Some(("batch/v1", "CronJob", "backup", "cj")))}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("backup-28391520-x", "p", Some(("batch/v1", "Job", "backup-28391520", "j")))}),
        ]);
        assert_eq!(pod_top(&inv, "backup-28391520-x"), ("CronJob".into(), "backup".into()));
    }

    #[test]
    fn experiment_replica_sets_belong_to_the_rollout_but_analysis_jobs_do_not() {
        let inv = inventory(vec![
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": meta("ro", "r", None)}),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": meta("ro-exp", "e", Some(("argoproj.io/v1alpha1", "Experiment", "x", "x")))}),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": meta("ro-exp2", "e2", Some(("argoproj.io/v1alpha1", "Rollout", "ro", "r")))}),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("ro-exp2-base", "rs", Some(("argoproj.io/v1alpha1", "Experiment", "ro-exp2", "e2")))}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("ro-exp2-base-x", "p", Some(("apps/v1", "ReplicaSet", "ro-exp2-base", "rs")))}),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": meta("ar", "ar", Some(("argoproj.io/v1alpha1", "Rollout", "ro", "r")))}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("ar-job", "j", Some(("argoproj.io/v1alpha1", "AnalysisRun", "ar", "ar")))}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("ar-job-x", "p2", Some(("batch/v1", "Job", "ar-job", "j")))}),
        ]);
        assert_eq!(pod_top(&inv, "ro-exp2-base-x"), ("Rollout".into(), "ro".into()));
        assert_eq!(pod_top(&inv, "ar-job-x"), ("Job".into(), "ar-job".into()));
    }

    #[test]
    fn missing_owners_are_named_by_reference_or_by_istio_rules() {
        let mut pod_missing_rs = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": meta("web-7c9f8-abcde", "p1", Some(("apps/v1", "ReplicaSet", "web-7c9f8", "gone")))});
        pod_missing_rs["metadata"]["generateName"] = json!("web-7c9f8-");
        pod_missing_rs["metadata"]["labels"] = json!({"pod-template-hash": "7c9f8"});
        let inv = inventory(vec![
            pod_missing_rs,
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("api-5d6f7", "rs", Some(("argoproj.io/v1alpha1", "Rollout", "api", "gone")))}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta("api-5d6f7-x", "p2", Some(("apps/v1", "ReplicaSet", "api-5d6f7", "rs")))}),
        ]);
        assert_eq!(pod_top(&inv, "web-7c9f8-abcde"), ("Deployment?".into(), "web".into()));
        assert_eq!(pod_top(&inv, "api-5d6f7-x"), ("Rollout?".into(), "api".into()));
    }

    #[test]
    fn flagger_target_and_primary_group_under_their_canary() {
        let inv = inventory(vec![
            json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": meta("podinfo", "c", None),
                "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("podinfo", "d1", None)}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("podinfo-primary", "d2", Some(("flagger.app/v1beta1", "Canary", "podinfo", "c")))}),
        ]);
        let resolver = Resolver::new(&inv);
        for name in ["podinfo", "podinfo-primary"] {
            let top = resolver.top_of(inv.find(Kind::Deployment, "ns", name).unwrap());
            assert_eq!(controller_name(&inv, &top), ("Canary".into(), "podinfo".into()));
        }
    }

    #[test]
    fn owner_cycles_stop() {
        let inv = inventory(vec![
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": meta("e", "e", Some(("argoproj.io/v1alpha1", "Rollout", "r", "r")))}),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": meta("r", "r", Some(("argoproj.io/v1alpha1", "Experiment", "e", "e")))}),
        ]);
        let top = Resolver::new(&inv).top_of(inv.find(Kind::Experiment, "ns", "e").unwrap());
        assert_eq!(controller_name(&inv, &top), ("Rollout".into(), "r".into()));
    }
}
