//! A Rollout as users know it from `kubectl argo rollouts get rollout`: header fields and the tree of revisions,
//! ReplicaSets, pods, Experiments and AnalysisRuns. Children are found by owner uid, as the Argo CLI does.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::identity::Role;
use crate::identity::roles::rollout_roles;
use crate::inventory::{Inventory, ObjRef};
use meshlens_k8s::annotations;
use meshlens_k8s::apps::ReplicaSet;
use meshlens_k8s::argo::{AnalysisRun, Experiment};
use meshlens_k8s::argo::{POD_TEMPLATE_HASH_LABEL, Rollout};
use meshlens_k8s::core::Pod;
use meshlens_k8s::status::{pod_status, replica_set_health};
use meshlens_k8s::{Kind, ObjectMeta};

use super::routes::{RouteObject, rollout_routes};
use super::{phase, weights};

/// How a Rollout moves to a new revision, as the Argo CLI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Canary,
    BlueGreen,
    /// A Rollout without a strategy, which its controller rejects.
    None,
}

impl Strategy {
    /// The Argo CLI's word; empty for none.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Canary => "Canary",
            Strategy::BlueGreen => "BlueGreen",
            Strategy::None => "",
        }
    }
}

meshlens_k8s::written_as_text!(Strategy);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutInfo {
    pub name: String,
    pub namespace: String,
    pub phase: String,
    pub message: String,
    pub strategy: Strategy,
    /// Index of the current canary step, when the Rollout has steps.
    pub step: Option<i32>,
    /// Number of canary steps.
    pub steps: Option<usize>,
    pub set_weight: Option<i32>,
    pub actual_weight: Option<i32>,
    /// The scale SetWeight and ActualWeight are on (`maxTrafficWeight`, default 100).
    pub max_weight: i32,
    /// The canary's share (0..1) of what its routes carry now, read from the routes themselves (ActualWeight is
    /// what the controller says it wrote); `None` without a route to read.
    pub routed_weight: Option<f64>,
    /// The routing objects `routedWeight` is read from.
    pub routes: Vec<RouteObject>,
    pub images: Vec<ImageInfo>,
    pub replicas: Replicas,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
    pub revisions: Vec<RevisionInfo>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImageInfo {
    pub image: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replicas {
    pub desired: i32,
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionInfo {
    pub revision: i64,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub experiments: Vec<ExperimentInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetInfo {
    pub name: String,
    pub hash: Option<String>,
    pub revision: i64,
    pub roles: Vec<Role>,
    pub status: String,
    /// Pods the ReplicaSet has now (`status.replicas`).
    pub replicas: i32,
    pub available: i32,
    /// The Experiment template this ReplicaSet runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down_deadline: Option<String>,
    #[serde(skip)]
    pub images: Vec<String>,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
    pub pods: Vec<PodInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodInfo {
    pub name: String,
    pub status: String,
    pub ready: String,
    pub restarts: i32,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentInfo {
    pub name: String,
    pub status: String,
    pub message: String,
    #[serde(skip)]
    pub revision: i64,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalysisRunInfo {
    pub name: String,
    pub status: String,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    pub jobs: Vec<JobInfo>,
    #[serde(skip)]
    pub revision: i64,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobInfo {
    pub name: String,
    pub status: String,
    #[serde(skip)]
    pub created: Option<jiff::Timestamp>,
}

/// Builds the Argo CLI view of the Rollout `r`.
pub fn rollout_info(inv: &Inventory, r: ObjRef) -> Option<RolloutInfo> {
    let ro = inv.get::<Rollout>(r)?;
    let uid = ro.metadata.uid.clone().unwrap_or_default();
    let replica_sets = replica_sets_of(inv, &uid, Some(ro));
    let experiments = experiments_of(inv, &uid);
    let analysis_runs = analysis_runs_of(inv, &uid);
    let canary_available = replica_sets.iter().find(|rs| rs.roles.contains(&Role::Canary)).map(|rs| rs.available);
    let (phase, message) = phase::phase(ro, ro.metadata.generation);
    let (strategy, step, steps, set_weight, actual_weight) = match &ro.spec.strategy.canary {
        Some(canary) => {
            let has_steps = !canary.steps.is_empty();
            let step = ro.status.current_step_index.filter(|_| has_steps);
            let steps = has_steps.then_some(canary.steps.len());
            let actual = weights::actual_weight(ro, canary_available);
            (Strategy::Canary, step, steps, Some(weights::set_weight(ro)), Some(actual))
        }
        None if ro.spec.strategy.blue_green.is_some() => (Strategy::BlueGreen, None, None, None, None),
        None => (Strategy::None, None, None, None, None),
    };
    let images = images(&replica_sets, &experiments);
    let routed = rollout_routes(inv, ro);
    let revisions = group_by_revision(replica_sets, experiments, analysis_runs);
    let status = &ro.status;
    Some(RolloutInfo {
        name: ro.metadata.name_str().to_owned(),
        namespace: ro.metadata.namespace_str().to_owned(),
        phase,
        message,
        strategy,
        step,
        steps,
        set_weight,
        actual_weight,
        max_weight: ro.max_traffic_weight(),
        routed_weight: routed.as_ref().map(|r| r.canary),
        routes: routed.map(|r| r.routes).unwrap_or_default(),
        images,
        replicas: Replicas {
            desired: ro.spec.replicas.unwrap_or(1),
            current: status.replicas,
            updated: status.updated_replicas,
            ready: status.ready_replicas,
            available: status.available_replicas,
        },
        created: created(&ro.metadata),
        revisions,
    })
}

fn created(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.creation_timestamp
}

fn revision_of(meta: &ObjectMeta) -> i64 {
    meta.annotation(annotations::ROLLOUT_REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// ReplicaSets owned by `owner_uid`, newest revision first, each with its pods oldest first.
fn replica_sets_of(inv: &Inventory, owner_uid: &str, rollout: Option<&Rollout>) -> Vec<ReplicaSetInfo> {
    let mut out: Vec<ReplicaSetInfo> = inv
        .owned_by(owner_uid, Kind::ReplicaSet)
        .filter_map(|r| inv.get::<ReplicaSet>(r))
        .map(|rs| replica_set_info(inv, rs, rollout))
        .collect();
    out.sort_by(|a, b| b.revision.cmp(&a.revision).then_with(|| a.name.cmp(&b.name)));
    out
}

fn replica_set_info(inv: &Inventory, rs: &ReplicaSet, rollout: Option<&Rollout>) -> ReplicaSetInfo {
    let meta = &rs.metadata;
    let hash = meta.labels().get(POD_TEMPLATE_HASH_LABEL).cloned();
    let roles = match (rollout, &hash) {
        (Some(ro), Some(h)) => rollout_roles(ro, h),
        _ => Vec::new(),
    };
    let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
    let images = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
        .unwrap_or_default();
    let mut pods: Vec<PodInfo> = inv
        .owned_by(meta.uid.as_deref().unwrap_or_default(), Kind::Pod)
        .filter_map(|p| inv.get::<Pod>(p))
        .map(|pod| {
            let status = pod_status(pod);
            PodInfo {
                name: pod.metadata.name_str().to_owned(),
                status: status.reason,
                ready: status.ready,
                restarts: status.restarts,
                created: created(&pod.metadata),
            }
        })
        .collect();
    pods.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
    let status = rs.status.as_ref();
    ReplicaSetInfo {
        name: meta.name_str().to_owned(),
        hash,
        revision: revision_of(meta),
        roles,
        status: replica_set_health(rs).to_owned(),
        replicas: status.map_or(0, |s| s.replicas),
        available: status.and_then(|s| s.available_replicas).unwrap_or(0),
        template: meta.annotation(annotations::EXPERIMENT_TEMPLATE).map(str::to_owned),
        scale_down_deadline: meta.annotation(annotations::SCALE_DOWN_DEADLINE).map(str::to_owned),
        images,
        created: created(meta),
        pods,
    }
}

fn experiments_of(inv: &Inventory, owner_uid: &str) -> Vec<ExperimentInfo> {
    let mut out: Vec<ExperimentInfo> = inv
        .owned_by(owner_uid, Kind::Experiment)
        .filter_map(|r| inv.get::<Experiment>(r))
        .map(|exp| experiment_info(inv, exp))
        .collect();
    out.sort_by(|a, b| b.revision.cmp(&a.revision).then_with(|| a.created.cmp(&b.created)));
    out
}

/// The Argo CLI view of an Experiment: its templates' ReplicaSets and their pods, and the AnalysisRuns it owns,
/// each matched by owner UID as the Argo CLI matches them (names can be reused; UIDs cannot).
pub fn experiment_info(inv: &Inventory, exp: &Experiment) -> ExperimentInfo {
    let uid = exp.metadata.uid.clone().unwrap_or_default();
    ExperimentInfo {
        name: exp.metadata.name_str().to_owned(),
        status: exp.status.phase.clone().unwrap_or_default(),
        message: exp.status.message.clone().unwrap_or_default(),
        revision: revision_of(&exp.metadata),
        replica_sets: replica_sets_of(inv, &uid, None),
        analysis_runs: analysis_runs_of(inv, &uid),
        created: created(&exp.metadata),
    }
}

fn analysis_runs_of(inv: &Inventory, owner_uid: &str) -> Vec<AnalysisRunInfo> {
    let mut out: Vec<AnalysisRunInfo> = inv
        .owned_by(owner_uid, Kind::AnalysisRun)
        .filter_map(|r| inv.get::<AnalysisRun>(r))
        .map(|run| {
            let results = &run.status.metric_results;
            let sum = |f: fn(&meshlens_k8s::argo::MetricResult) -> i32| results.iter().map(f).sum();
            let jobs = run
                .jobs()
                .map(|(name, phase, started)| JobInfo {
                    name: name.to_owned(),
                    status: phase.unwrap_or_default().to_owned(),
                    created: started.and_then(|s| s.parse().ok()),
                })
                .collect();
            AnalysisRunInfo {
                name: run.metadata.name_str().to_owned(),
                status: run.status.phase.clone().unwrap_or_default(),
                successful: sum(|m| m.successful),
                failed: sum(|m| m.failed),
                inconclusive: sum(|m| m.inconclusive),
                error: sum(|m| m.error),
                jobs,
                revision: revision_of(&run.metadata),
                created: created(&run.metadata),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.revision.cmp(&a.revision).then_with(|| a.created.cmp(&b.created)).then_with(|| b.name.cmp(&a.name))
    });
    out
}

/// Running images with the roles (and experiment templates) that run them, sorted by image.
fn images(replica_sets: &[ReplicaSetInfo], experiments: &[ExperimentInfo]) -> Vec<ImageInfo> {
    // Tag order as the Argo CLI prints a single ReplicaSet's image.
    let order = [Role::Canary, Role::Stable, Role::Active, Role::Preview, Role::Ping, Role::Pong];
    let by_role = replica_sets.iter().filter(|rs| rs.replicas > 0).flat_map(|rs| {
        let tags: Vec<String> = order.iter().filter(|r| rs.roles.contains(r)).map(|r| r.as_str().to_owned()).collect();
        rs.images.iter().map(move |image| (image.as_str(), tags.clone()))
    });
    let mut images = merged_images(by_role.chain(experiments.iter().flat_map(template_images)));
    images.sort_by(|a, b| a.image.cmp(&b.image));
    images
}

/// The images an Experiment runs, tagged with their templates, in the order of its ReplicaSets (the Argo CLI does
/// not sort an Experiment's images).
pub fn experiment_images(exp: &ExperimentInfo) -> Vec<ImageInfo> {
    merged_images(template_images(exp))
}

/// Each image of an Experiment's running ReplicaSets, tagged `Σ:template`.
fn template_images(exp: &ExperimentInfo) -> impl Iterator<Item = (&str, Vec<String>)> {
    exp.replica_sets.iter().filter(|rs| rs.replicas > 0).flat_map(|rs| {
        let tags: Vec<String> = rs.template.iter().map(|t| format!("Σ:{t}")).collect();
        rs.images.iter().map(move |image| (image.as_str(), tags.clone()))
    })
}

/// One entry per image, in the order first seen, with the tags of every ReplicaSet running it.
fn merged_images<'a>(tagged: impl Iterator<Item = (&'a str, Vec<String>)>) -> Vec<ImageInfo> {
    let mut images: Vec<ImageInfo> = Vec::new();
    for (image, tags) in tagged {
        match images.iter_mut().find(|i| i.image == image) {
            Some(existing) => {
                let merged: BTreeSet<String> = existing.tags.drain(..).chain(tags).collect();
                existing.tags = merged.into_iter().collect();
            }
            None => images.push(ImageInfo { image: image.to_owned(), tags }),
        }
    }
    images
}

fn group_by_revision(
    replica_sets: Vec<ReplicaSetInfo>,
    experiments: Vec<ExperimentInfo>,
    analysis_runs: Vec<AnalysisRunInfo>,
) -> Vec<RevisionInfo> {
    let mut by_revision: BTreeMap<i64, RevisionInfo> = BTreeMap::new();
    fn entry(map: &mut BTreeMap<i64, RevisionInfo>, revision: i64) -> &mut RevisionInfo {
        map.entry(revision).or_insert_with(|| RevisionInfo {
            revision,
            replica_sets: Vec::new(),
            experiments: Vec::new(),
            analysis_runs: Vec::new(),
        })
    }
    for rs in replica_sets {
        entry(&mut by_revision, rs.revision).replica_sets.push(rs);
    }
    for exp in experiments {
        entry(&mut by_revision, exp.revision).experiments.push(exp);
    }
    for run in analysis_runs {
        entry(&mut by_revision, run.revision).analysis_runs.push(run);
    }
    by_revision.into_values().rev().collect()
}
