//! Building blocks the scenarios share: an Argo Rollout with its ReplicaSets and pods.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::cluster::{Cluster, ReplicaSetPlan, Template, object};

/// One revision of a Rollout: its ReplicaSet's hash and image, and when its pods were created.
pub struct Revision {
    pub number: u32,
    pub hash: String,
    pub image: String,
    pub pods: Vec<jiff::Timestamp>,
    /// How many of the pods (the first ones) are ready.
    pub ready: usize,
    pub created: jiff::Timestamp,
}

/// A Rollout to create: `spec` without template, selector or replicas; `status` as the controller wrote it.
pub struct RolloutPlan<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub template: &'a Template,
    pub replicas: usize,
    pub spec: Value,
    pub status: Value,
    /// One ReplicaSet each.
    pub revisions: &'a [Revision],
}

/// Creates the Rollout and one ReplicaSet per revision. Returns the pods of each revision, in the order given.
pub fn rollout(cluster: &mut Cluster, plan: RolloutPlan<'_>) -> Vec<Vec<usize>> {
    let RolloutPlan { namespace, name, template, replicas, mut spec, mut status, revisions } = plan;
    let created = cluster.ago(86_400 * 20);
    let (mut metadata, uid) = cluster.meta_json(Some(namespace), name, created, &BTreeMap::new(), None);
    let current = revisions.iter().map(|r| r.number).max().unwrap_or(1);
    metadata["annotations"] = json!({"rollout.argoproj.io/revision": current.to_string()});
    metadata["generation"] = json!(current + 2);
    spec["replicas"] = json!(replicas);
    spec["revisionHistoryLimit"] = json!(3);
    spec["selector"] = json!({"matchLabels": template.labels});
    let newest = revisions.iter().max_by_key(|r| r.number);
    let current_template =
        Template { image: newest.map_or_else(|| template.image.clone(), |r| r.image.clone()), ..template.clone() };
    spec["template"] = current_template.json();
    status["observedGeneration"] = json!((current + 2).to_string());
    cluster.push(object("argoproj.io/v1alpha1", "Rollout", metadata, spec, Some(status)));
    let owner = Cluster::owner("argoproj.io/v1alpha1", "Rollout", name, &uid);
    revisions
        .iter()
        .map(|rev| {
            let revision_template = Template { image: rev.image.clone(), ..template.clone() };
            let annotations = BTreeMap::from([
                ("rollout.argoproj.io/desired-replicas".to_string(), replicas.to_string()),
                ("rollout.argoproj.io/revision".to_string(), rev.number.to_string()),
            ]);
            cluster.replica_set(ReplicaSetPlan {
                namespace,
                name: format!("{name}-{}", rev.hash),
                template: &revision_template,
                hash_label: ("rollouts-pod-template-hash", &rev.hash),
                owner: Some(&owner),
                annotations,
                created: rev.created,
                pods: rev.pods.clone(),
                ready: rev.ready,
            })
        })
        .collect()
}

/// Rollout status conditions of a Rollout that is healthy apart from its pause.
pub fn conditions(now: jiff::Timestamp, paused: bool) -> Value {
    let t = now.to_string();
    let mut conds = vec![
        json!({"type": "Available", "status": "True", "reason": "AvailableReason",
               "message": "Rollout has minimum availability", "lastTransitionTime": t, "lastUpdateTime": t}),
        json!({"type": "Healthy", "status": if paused { "False" } else { "True" }, "reason": "RolloutHealthy",
               "message": "Rollout is healthy", "lastTransitionTime": t, "lastUpdateTime": t}),
    ];
    if paused {
        conds.push(json!({"type": "Paused", "status": "True", "reason": "RolloutPaused",
               "message": "Rollout is paused", "lastTransitionTime": t, "lastUpdateTime": t}));
    }
    Value::Array(conds)
}
