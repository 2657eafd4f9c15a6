//! A simulated cluster under construction: scenarios add namespaces, Services and controllers with their pods;
//! the cluster keeps the objects (as the API shows them) and, per pod, what its sidecar reports in telemetry.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use meshlens_engine::identity::naming::{
    NamingGeneration, PodFacts, canonical_revision, canonical_service, telemetry_identity,
};

use meshlens_engine::inventory::Inventory;
use meshlens_engine::routing_model::{Endpoint, ServiceRef};
use meshlens_k8s::annotations::AMBIENT_REDIRECTION;
use meshlens_telemetry::istio::pod_label::{DATAPLANE_AMBIENT, DATAPLANE_MODE, USE_WAYPOINT};

use super::ids::Ids;
use super::objects::{self, AppContainer, Counts, Meta, OwnerRef, PodSpec, Sidecar};
use meshlens_k8s::KindName;
use meshlens_k8s::core::PROXY_CONTAINER;

/// Which Istio naming generation injected the simulated pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamingMode {
    /// Istio >= 1.22 everywhere: a Rollout's pods report the Rollout name.
    Rollout,
    /// Istio < 1.22 everywhere: a Rollout's pods report their ReplicaSet name.
    ReplicaSet,
    /// An upgrade happened: pods created before it report ReplicaSet names, later ones the Rollout name.
    Mixed,
}

/// How a pod's traffic is captured, which decides who reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataplane {
    /// An Envoy in the pod (an injected sidecar, or a gateway's own) reports its calls, L7.
    Sidecar,
    /// Ambient mode: the ztunnel on the pod's node reports its connections (L4), and a waypoint in front of its
    /// Service its requests (L7).
    Ambient,
    /// One of Istio's own ambient proxies (a ztunnel, a waypoint): it reports others' traffic, never its own.
    Proxy,
}

/// A pod as telemetry sees it: the labels its sidecar reports and the labels Prometheus adds when scraping it.
#[derive(Debug, Clone)]
pub struct SimPod {
    pub namespace: String,
    pub name: String,
    /// `*_workload`: the name the injected sidecar reports.
    pub workload: String,
    pub canonical_service: String,
    pub canonical_revision: String,
    /// `*_app` / `*_version`: the pod's `app` and `version` labels, `unknown` when absent.
    pub app: String,
    pub version: String,
    pub principal: String,
    /// Labels the `kubernetes-pods` scrape job puts on every series of this pod.
    pub scrape_labels: Vec<(String, String)>,
    /// The pod's own labels, which Services and DestinationRule subsets select by.
    pub labels: BTreeMap<String, String>,
    pub ready: bool,
    /// Unix seconds the pod was created; it is scraped from then on.
    pub created: i64,
    pub dataplane: Dataplane,
    pub node: &'static str,
    /// The cluster ID the pod's proxy was injected with (`*_cluster`).
    pub cluster: String,
}

impl SimPod {
    /// The peer of a call that reached no pod, as telemetry names it.
    pub fn nobody() -> SimPod {
        let unknown = || "unknown".to_string();
        SimPod {
            namespace: unknown(),
            name: unknown(),
            workload: unknown(),
            canonical_service: unknown(),
            canonical_revision: "latest".into(),
            app: unknown(),
            version: unknown(),
            principal: unknown(),
            scrape_labels: Vec::new(),
            labels: BTreeMap::new(),
            ready: false,
            created: i64::MIN,
            dataplane: Dataplane::Sidecar,
            node: "",
            cluster: unknown(),
        }
    }
}

/// A Service as telemetry names it.
#[derive(Debug, Clone)]
pub struct SimService {
    pub namespace: String,
    pub name: String,
    /// `destination_service`: the FQDN.
    pub host: String,
    pub selector: BTreeMap<String, String>,
    /// The pods of the ambient waypoint its `istio.io/use-waypoint` label names.
    pub waypoint: Vec<usize>,
}

/// A workload's pod template, shared by its controller, ReplicaSets and pods.
#[derive(Debug, Clone)]
pub struct Template {
    pub labels: BTreeMap<String, String>,
    pub image: String,
    pub port: u16,
    pub service_account: String,
    /// How the pods are captured; `None`: as their namespace says (ambient, or an injected sidecar).
    pub dataplane: Option<Dataplane>,
}

impl Template {
    /// `app` and (optionally) `version` labels, an image and port, and a service account named after the app.
    pub fn new(app: &str, version: Option<&str>, image: &str, port: u16) -> Template {
        let mut labels = BTreeMap::from([("app".to_string(), app.to_string())]);
        if let Some(v) = version {
            labels.insert("version".into(), v.into());
        }
        Template { labels, image: image.into(), port, service_account: app.to_string(), dataplane: None }
    }

    /// The template as a controller's `spec.template`.
    pub fn json(&self) -> Value {
        let app = AppContainer { name: container_name(self), image: &self.image, port: self.port };
        objects::pod_template(&self.labels, &app, &self.service_account)
    }
}

/// A ReplicaSet to create with its pods.
pub struct ReplicaSetPlan<'a> {
    pub namespace: &'a str,
    pub name: String,
    pub template: &'a Template,
    /// The hash label: `pod-template-hash` for Deployments, `rollouts-pod-template-hash` for Rollouts.
    pub hash_label: (&'a str, &'a str),
    pub owner: Option<&'a OwnerRef>,
    pub annotations: BTreeMap<String, String>,
    pub created: jiff::Timestamp,
    /// Creation time of each pod; the ReplicaSet wants this many.
    pub pods: Vec<jiff::Timestamp>,
    /// How many of the pods (the first ones) are ready.
    pub ready: usize,
}

/// A pod to create, with the template (labels included) it was made from.
struct PodPlan<'a> {
    namespace: &'a str,
    name: String,
    template: &'a Template,
    /// Its controller (a ReplicaSet, a Job).
    owner: &'a OwnerRef,
    /// `Kind/name` of the top-level controller, as the sidecar's `ISTIO_META_OWNER` names it.
    top_owner: &'a str,
    created: jiff::Timestamp,
    ready: bool,
    /// The node it runs on; `None`: the scheduler picks one.
    node: Option<&'static str>,
}

/// The cluster under construction.
pub struct Cluster {
    pub ids: Ids,
    /// The moment the snapshot shows.
    pub now: jiff::Timestamp,
    naming: NamingMode,
    /// Pods created before this were injected by an Istio that named Rollout pods after their ReplicaSet.
    upgrade_at: jiff::Timestamp,
    objects: Vec<Value>,
    pub pods: Vec<SimPod>,
    pub services: Vec<SimService>,
    resource_version: u64,
    next_service_ip: u32,
    /// Whether Prometheus' scrape job adds `pod`, `namespace` and the pod's labels to its series (older or
    /// hand-written scrape configurations do not).
    pub scrape_pod_labels: bool,
    /// Namespaces in ambient mode (`istio.io/dataplane-mode: ambient`).
    ambient: BTreeSet<String>,
    /// The cluster ID the mesh was installed with (`global.multiCluster.clusterName`): every proxy's.
    pub cluster_id: String,
}

const NODES: [&str; 3] = ["node-a", "node-b", "node-c"];

impl Cluster {
    pub fn new(seed: u64, now: jiff::Timestamp, naming: NamingMode) -> Cluster {
        Cluster {
            ids: Ids::new(seed),
            now,
            naming,
            upgrade_at: now - jiff::SignedDuration::from_hours(48),
            objects: Vec::new(),
            pods: Vec::new(),
            services: Vec::new(),
            resource_version: 1000,
            next_service_ip: 10,
            scrape_pod_labels: true,
            ambient: BTreeSet::new(),
            cluster_id: meshlens_engine::inventory::DEFAULT_CLUSTER.to_owned(),
        }
    }

    /// The pods `service` selects, as the routing model sees them.
    pub fn endpoints(&self, service: &ServiceRef) -> Option<Vec<Endpoint<'_, usize>>> {
        let svc = self.services.iter().find(|s| s.namespace == service.namespace && s.name == service.name)?;
        let selects = |p: &SimPod| svc.selector.iter().all(|(k, v)| p.labels.get(k) == Some(v));
        let pods = (self.pods.iter().enumerate())
            .filter(|(_, p)| p.namespace == svc.namespace && selects(p))
            .map(|(i, p)| Endpoint { pod: i, labels: &p.labels, ready: p.ready });
        Some(pods.collect())
    }

    /// Drops the objects `gone` picks, as if deleted; their pods' traffic (already planned) goes on.
    pub fn delete_objects(&mut self, gone: impl Fn(&Value) -> bool) {
        self.objects.retain(|o| !gone(o));
    }

    /// `now` minus a duration in seconds.
    pub fn ago(&self, seconds: i64) -> jiff::Timestamp {
        self.now - jiff::SignedDuration::from_secs(seconds)
    }

    fn next_rv(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Adds an object built elsewhere (a Rollout, VirtualService, ...).
    pub fn push(&mut self, object: Value) {
        self.objects.push(object);
    }

    /// A metadata block for a new object.
    pub fn meta_json(
        &mut self,
        namespace: Option<&str>,
        name: &str,
        created: jiff::Timestamp,
        labels: &BTreeMap<String, String>,
        owner: Option<&OwnerRef>,
    ) -> (Value, String) {
        let uid = self.ids.uid();
        let meta = Meta { owner, generation: Some(1), ..Meta::new(name, namespace, &uid, created, labels) };
        let rv = self.next_rv();
        (meta.to_json(rv), uid)
    }

    pub fn namespace(&mut self, name: &str, injected: bool) {
        let uid = self.ids.uid();
        let (created, rv) = (self.ago(86_400 * 30), self.next_rv());
        self.objects.push(objects::namespace(name, &uid, created, injected, rv));
    }

    /// A namespace in ambient mode: its pods get no sidecar; ztunnel and waypoints report their traffic.
    pub fn ambient_namespace(&mut self, name: &str) {
        self.namespace(name, false);
        self.label_object("Namespace", None, name, DATAPLANE_MODE, DATAPLANE_AMBIENT);
        self.ambient.insert(name.to_owned());
    }

    /// A ClusterIP Service; returns its index for traffic routes.
    pub fn service(
        &mut self,
        namespace: &str,
        name: &str,
        selector: &[(&str, &str)],
        port: u16,
        port_name: &str,
    ) -> usize {
        let uid = self.ids.uid();
        let selector: BTreeMap<String, String> = selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.next_service_ip += 1;
        let ip = format!("10.96.{}.{}", self.next_service_ip / 250, self.next_service_ip % 250);
        let (created, rv) = (self.ago(86_400 * 10), self.next_rv());
        let labels = BTreeMap::from([("app".to_string(), name.to_string()), ("service".to_string(), name.to_string())]);
        let meta = Meta::new(name, Some(namespace), &uid, created, &labels);
        self.objects.push(objects::service(&meta, &selector, (port, port_name), &ip, rv));
        self.services.push(SimService {
            namespace: namespace.into(),
            name: name.into(),
            host: format!("{name}.{namespace}.svc.cluster.local"),
            selector,
            waypoint: Vec::new(),
        });
        self.services.len() - 1
    }

    /// A Deployment with one current ReplicaSet of `replicas` ready pods. Returns the pods' indexes.
    pub fn deployment(&mut self, namespace: &str, name: &str, template: &Template, replicas: usize) -> Vec<usize> {
        self.deployment_owned(namespace, name, template, replicas, None)
    }

    /// A Deployment, optionally controlled by another object (Flagger's Canary owns the `-primary` copy).
    pub fn deployment_owned(
        &mut self,
        namespace: &str,
        name: &str,
        template: &Template,
        replicas: usize,
        owner: Option<&OwnerRef>,
    ) -> Vec<usize> {
        let created = self.ago(86_400 * 7);
        let uid = self.ids.uid();
        let counts = Counts { desired: replicas as i32, current: replicas as i32, ready: replicas as i32 };
        let meta =
            Meta { owner, generation: Some(1), ..Meta::new(name, Some(namespace), &uid, created, &template.labels) };
        let rv = self.next_rv();
        self.objects.push(objects::deployment(&meta, &template.labels, template.json(), counts, rv));
        let hash = self.ids.hash();
        let deployment_owner =
            OwnerRef { api_version: "apps/v1".into(), kind: "Deployment".into(), name: name.into(), uid };
        let pods = (0..replicas).map(|i| self.ago(86_400 * 2 - 3_600 * i as i64)).collect();
        let annotations = BTreeMap::from([
            ("deployment.kubernetes.io/desired-replicas".to_string(), replicas.to_string()),
            ("deployment.kubernetes.io/revision".to_string(), "1".to_string()),
        ]);
        self.replica_set(ReplicaSetPlan {
            namespace,
            name: format!("{name}-{hash}"),
            template,
            hash_label: ("pod-template-hash", &hash),
            owner: Some(&deployment_owner),
            annotations,
            created,
            pods,
            ready: replicas,
        })
    }

    /// A ReplicaSet and its pods. Returns the pods' indexes.
    pub fn replica_set(&mut self, plan: ReplicaSetPlan<'_>) -> Vec<usize> {
        let uid = self.ids.uid();
        let mut labels = plan.template.labels.clone();
        labels.insert(plan.hash_label.0.into(), plan.hash_label.1.into());
        let wanted = plan.pods.len() as i32;
        let counts = Counts { desired: wanted, current: wanted, ready: plan.ready.min(plan.pods.len()) as i32 };
        let mut template = plan.template.json();
        template["metadata"]["labels"] = objects::labels_json(&labels);
        let meta = Meta {
            annotations: plan.annotations.clone(),
            owner: plan.owner,
            generation: Some(1),
            ..Meta::new(&plan.name, Some(plan.namespace), &uid, plan.created, &labels)
        };
        let rv = self.next_rv();
        self.objects.push(objects::replica_set(&meta, &labels, template, counts, rv));
        let rs_owner =
            OwnerRef { api_version: "apps/v1".into(), kind: "ReplicaSet".into(), name: plan.name.clone(), uid };
        let owner_kind_name = plan.owner.map(|o| format!("{}/{}", o.kind, o.name)).unwrap_or_default();
        let pod_template = Template { labels: labels.clone(), ..plan.template.clone() };
        plan.pods
            .iter()
            .enumerate()
            .map(|(i, created)| {
                let name = format!("{}-{}", plan.name, self.ids.pod_suffix());
                self.pod(PodPlan {
                    namespace: plan.namespace,
                    name,
                    template: &pod_template,
                    owner: &rs_owner,
                    top_owner: &owner_kind_name,
                    created: *created,
                    ready: i < plan.ready,
                    node: None,
                })
            })
            .collect()
    }

    /// Pods a controller owns directly (a Job's, a StatefulSet's), named `<owner>-<suffix>`, all ready.
    pub fn owned_pods(
        &mut self,
        namespace: &str,
        owner: &OwnerRef,
        template: &Template,
        created: &[jiff::Timestamp],
    ) -> Vec<usize> {
        let owner_text = format!("{}/{}", owner.kind, owner.name);
        created
            .iter()
            .map(|c| {
                let name = format!("{}-{}", owner.name, self.ids.pod_suffix());
                let plan = PodPlan {
                    namespace,
                    name,
                    template,
                    owner,
                    top_owner: &owner_text,
                    created: *c,
                    ready: true,
                    node: None,
                };
                self.pod(plan)
            })
            .collect()
    }

    /// A DaemonSet with one ready pod on every node. Returns the pods' indexes.
    pub fn daemon_set(&mut self, namespace: &str, name: &str, template: &Template) -> Vec<usize> {
        let created = self.ago(86_400 * 30);
        let (meta, uid) = self.meta_json(Some(namespace), name, created, &template.labels, None);
        let nodes = NODES.len();
        let spec = json!({"selector": {"matchLabels": objects::labels_json(&template.labels)},
            "template": template.json(), "updateStrategy": {"type": "RollingUpdate"}});
        let status = json!({"currentNumberScheduled": nodes, "desiredNumberScheduled": nodes,
            "numberAvailable": nodes, "numberReady": nodes, "updatedNumberScheduled": nodes, "observedGeneration": 1});
        self.push(object("apps/v1", "DaemonSet", meta, spec, Some(status)));
        let owner = Cluster::owner("apps/v1", "DaemonSet", name, &uid);
        let top_owner = format!("DaemonSet/{name}");
        NODES
            .iter()
            .map(|node| {
                let name = format!("{name}-{}", self.ids.pod_suffix());
                let (owner, top_owner) = (&owner, top_owner.as_str());
                self.pod(PodPlan {
                    namespace,
                    name,
                    template,
                    owner,
                    top_owner,
                    created,
                    ready: true,
                    node: Some(node),
                })
            })
            .collect()
    }

    fn pod(&mut self, plan: PodPlan<'_>) -> usize {
        let PodPlan { namespace, name, template, owner, top_owner: owner_text, created, ready, node } = plan;
        let dataplane = template.dataplane.unwrap_or(if self.ambient.contains(namespace) {
            Dataplane::Ambient
        } else {
            Dataplane::Sidecar
        });
        let (name, template_labels) = (name.as_str(), &template.labels);
        let generation = match self.naming {
            NamingMode::Rollout => NamingGeneration::CURRENT,
            NamingMode::ReplicaSet => NamingGeneration::ReplicaSet,
            NamingMode::Mixed if created < self.upgrade_at => NamingGeneration::ReplicaSet,
            NamingMode::Mixed => NamingGeneration::CURRENT,
        };
        let proxy_version = if generation == NamingGeneration::ReplicaSet { "1.21.6" } else { "1.25.2" };
        let generate_name = format!("{}-", owner.name);
        let owner_kind = KindName::from_name(&owner.kind);
        let facts = PodFacts {
            name,
            generate_name: Some(&generate_name),
            labels: template_labels,
            controller: Some((&owner_kind, owner.name.as_str())),
        };
        let workload = telemetry_identity(&facts, generation).name;
        let canonical_service = canonical_service(template_labels, &workload);
        let canonical_revision = canonical_revision(template_labels);
        let mut labels = template_labels.clone();
        let mut annotations = BTreeMap::new();
        let scraped = [
            ("prometheus.io/path", "/stats/prometheus"),
            ("prometheus.io/port", "15020"),
            ("prometheus.io/scrape", "true"),
        ];
        match dataplane {
            Dataplane::Sidecar => {
                labels.insert("security.istio.io/tlsMode".into(), "istio".into());
                labels.insert("service.istio.io/canonical-name".into(), canonical_service.clone());
                labels.insert("service.istio.io/canonical-revision".into(), canonical_revision.clone());
                annotations.extend(scraped.iter().chain(&[
                    ("istio.io/rev", "default"),
                    ("kubectl.kubernetes.io/default-container", container_name(template)),
                    (
                        "sidecar.istio.io/status",
                        r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"revision":"default"}"#,
                    ),
                ]).map(|(k, v)| (k.to_string(), v.to_string())));
            }
            // istio-cni marks the pods whose traffic it redirects to the node's ztunnel.
            Dataplane::Ambient => {
                annotations.insert(AMBIENT_REDIRECTION.into(), "enabled".into());
            }
            Dataplane::Proxy => annotations.extend(scraped.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
        }
        let uid = self.ids.uid();
        let ip = self.ids.pod_ip();
        let node = node.unwrap_or_else(|| NODES[self.ids.pick(0..NODES.len())]);
        let meta = Meta { annotations, owner: Some(owner), ..Meta::new(name, Some(namespace), &uid, created, &labels) };
        let cluster_id = self.cluster_id.clone();
        let spec = PodSpec {
            meta,
            app: AppContainer { name: container_name(template), image: &template.image, port: template.port },
            sidecar: (dataplane == Dataplane::Sidecar).then_some(Sidecar {
                proxy_version,
                workload_name: &workload,
                owner: owner_text,
                cluster_id: &cluster_id,
            }),
            service_account: &template.service_account,
            node,
            ip: &ip,
            ready,
        };
        let rv = self.next_rv();
        self.objects.push(objects::pod(&spec, rv));
        let mut scrape_labels: Vec<(String, String)> =
            vec![("instance".to_string(), format!("{ip}:15020")), ("job".to_string(), "kubernetes-pods".to_string())];
        if self.scrape_pod_labels {
            scrape_labels.extend(labels.iter().map(|(k, v)| (sanitize_label_name(k), v.clone())));
            scrape_labels.extend([
                ("namespace".to_string(), namespace.to_string()),
                ("node".to_string(), node.to_string()),
                ("pod".to_string(), name.to_string()),
            ]);
        }
        scrape_labels.sort();
        self.pods.push(SimPod {
            namespace: namespace.into(),
            name: name.into(),
            workload,
            canonical_service,
            canonical_revision,
            app: template_labels.get("app").cloned().unwrap_or_else(|| "unknown".into()),
            version: template_labels.get("version").cloned().unwrap_or_else(|| "unknown".into()),
            principal: format!("spiffe://cluster.local/ns/{namespace}/sa/{}", template.service_account),
            scrape_labels,
            labels: labels.clone(),
            ready,
            created: created.as_second(),
            dataplane,
            node,
            cluster: self.cluster_id.clone(),
        });
        self.pods.len() - 1
    }

    /// An owner reference to an object pushed with [`Cluster::meta_json`].
    pub fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerRef {
        OwnerRef { api_version: api_version.into(), kind: kind.into(), name: name.into(), uid: uid.into() }
    }

    /// Adds a label to the Namespace `name`.
    pub fn label_namespace(&mut self, name: &str, key: &str, value: &str) {
        self.label_object("Namespace", None, name, key, value);
    }

    /// Adds a label to an object already pushed.
    fn label_object(&mut self, kind: &str, namespace: Option<&str>, name: &str, key: &str, value: &str) {
        let found = self.objects.iter_mut().find(|o| {
            o["kind"] == kind && o["metadata"]["name"] == name && o["metadata"]["namespace"].as_str() == namespace
        });
        if let Some(object) = found {
            object["metadata"]["labels"][key] = json!(value);
        }
    }

    /// Sends the calls addressed to Service `service` through the ambient waypoint `waypoint` (its Deployment's
    /// pods), labelling the Service with `istio.io/use-waypoint`.
    pub fn use_waypoint(&mut self, service: usize, waypoint: &str, pods: &[usize]) {
        let (namespace, name) = (self.services[service].namespace.clone(), self.services[service].name.clone());
        self.label_object("Service", Some(&namespace), &name, USE_WAYPOINT, waypoint);
        self.services[service].waypoint = pods.to_vec();
    }

    /// The objects so far, read back by the parsers snapshots go through (routing is decided from them).
    pub fn read_back(&self) -> Inventory {
        Inventory::of_values(meshlens_engine::inventory::DEFAULT_CLUSTER, self.objects.clone())
    }

    /// The objects, in creation order.
    pub fn into_objects(self) -> Vec<Value> {
        self.objects
    }
}

/// The application container is named after the pod's `app` label; an Istio proxy's is `istio-proxy`.
fn container_name(template: &Template) -> &str {
    let fallback = if template.dataplane == Some(Dataplane::Proxy) { PROXY_CONTAINER } else { "app" };
    template.labels.get("app").map_or(fallback, String::as_str)
}

/// Prometheus' label-name sanitising of Kubernetes label keys (`rollouts-pod-template-hash` → `rollouts_pod_template_hash`).
pub fn sanitize_label_name(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// An object's spec and status under fresh metadata, for kinds without a dedicated builder.
pub fn object(api_version: &str, kind: &str, metadata: Value, spec: Value, status: Option<Value>) -> Value {
    let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec});
    if let Some(status) = status {
        o["status"] = status;
    }
    o
}
