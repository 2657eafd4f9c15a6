//! The Gateway API as upstream projects write it: every manifest of the Argo Rollouts Gateway API plugin,
//! Flagger's Gateway API router and Istio's Gateway API and ambient samples loads, and the routed weight meshlens
//! shows for a Rollout or Canary is the one its route holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{meshlens_ok, upstream};
use meshlens::k8s::document::{Format, parse_documents};
use meshlens::k8s::load::Loader;
use serde_json::{Value, json};

const STABLE_HASH: &str = "6d4f9b7c8";
const CANARY_HASH: &str = "7c6b5d9f4";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The YAML manifests of a fixture folder: `.yaml`/`.yml` files (Istio's `.yaml.golden` status files too), the
/// `kubectl apply` heredocs of shell scripts and the YAML blocks of Markdown that are whole objects. The
/// plugin's Chainsaw `assertions/` are partial objects with JMESPath keys, `test/cluster-setup/` holds Helm
/// values and `kustomization.yaml` files configure kustomize: none are manifests, all are left out.
fn manifests(folder: &str) -> Vec<(String, String)> {
    let root = upstream().join(folder);
    let mut out = Vec::new();
    for path in files_under(&root) {
        let label = path.strip_prefix(&root).unwrap().display().to_string();
        let name = label.as_str();
        let not_manifest = name.contains("/assertions/")
            || name.starts_with("test/cluster-setup/")
            || name.ends_with("kustomization.yaml");
        if not_manifest {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".yaml.golden") {
            out.push((label, text));
        } else if name.ends_with(".sh") {
            out.extend(blocks(&text, |l| l.contains("<<EOF"), |l| l == "EOF").map(|b| (label.clone(), b)));
        } else if name.ends_with(".md") {
            let whole = |b: &String| b.lines().any(|l| l.starts_with("apiVersion:")) && b.contains("\nkind:");
            out.extend(blocks(&text, |l| l == "```yaml", |l| l == "```").filter(whole).map(|b| (label.clone(), b)));
        }
    }
    out
}

/// The text between each line `opens` and the next line `closes`.
fn blocks<'a>(
    text: &'a str,
    opens: impl Fn(&str) -> bool + 'a,
    closes: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = String> + 'a {
    let mut lines = text.lines();
    std::iter::from_fn(move || {
        lines.by_ref().find(|l| opens(l.trim_end()))?;
        Some(lines.by_ref().take_while(|l| !closes(l.trim_end())).map(|l| format!("{l}\n")).collect())
    })
}

#[test]
fn every_upstream_gateway_api_manifest_loads() {
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for folder in ["argo-rollouts-gatewayapi", "flagger-gatewayapi", "istio-ambient"] {
        let mut loader = Loader::new();
        let texts = manifests(folder);
        assert!(texts.len() > 5, "{folder}: {} manifests", texts.len());
        for (label, text) in &texts {
            loader.add_text(&format!("{folder}/{label}"), text, Format::Yaml).unwrap();
        }
        let (objects, report) = loader.finish();
        assert!(report.problems.is_empty(), "{folder}: {:#?}", report.problems);
        for o in &objects {
            *kinds.entry(o.kind().to_string()).or_default() += 1;
        }
    }
    for kind in ["Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "Rollout", "Canary", "Service"] {
        assert!(kinds.get(kind).is_some_and(|n| *n > 0), "no {kind} read: {kinds:?}");
    }
}

/// Every object of a folder, as JSON.
fn objects_of(dir: &Path) -> Vec<Value> {
    let texts = files_under(dir).into_iter().filter(|p| Format::from_path(p).is_some());
    let documents =
        texts.flat_map(|p| parse_documents(&std::fs::read_to_string(p).unwrap(), Format::Yaml).collect::<Vec<_>>());
    documents.map(|d| d.expect("a valid document").value).collect()
}

/// A Rollout's ReplicaSets at its first step: a stable and a canary revision.
fn revisions(rollout: &Value) -> Vec<Value> {
    let (name, namespace) = (rollout["metadata"]["name"].as_str().unwrap(), rollout["metadata"]["namespace"].clone());
    [(STABLE_HASH, 1), (CANARY_HASH, 2)]
        .iter()
        .map(|(hash, revision)| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": format!("{name}-{hash}"), "namespace": namespace,
                    "labels": {"rollouts-pod-template-hash": hash},
                    "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
                    "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name,
                                         "uid": "", "controller": true}]},
                "spec": {"replicas": 1}})
        })
        .collect()
}

/// Sets the weights of `route`'s backends as the plugin does at `weight`: the canary Service's to it, the stable
/// Service's to 100 minus it, the others unchanged.
fn set_weight(route: &mut Value, canary: &str, stable: &str, weight: i64) {
    for rule in route["spec"]["rules"].as_array_mut().unwrap() {
        for backend in rule["backendRefs"].as_array_mut().into_iter().flatten() {
            if backend["name"] == canary {
                backend["weight"] = json!(weight);
            } else if backend["name"] == stable {
                backend["weight"] = json!(100 - weight);
            }
        }
    }
}

/// The canary's share of the first rule that names the canary or stable Service: its weight over the rule's.
fn expected_canary_share(route: &Value, canary: &str, stable: &str) -> f64 {
    let rules = route["spec"]["rules"].as_array().unwrap();
    let names = |r: &&Value| {
        r["backendRefs"].as_array().is_some_and(|b| b.iter().any(|b| b["name"] == canary || b["name"] == stable))
    };
    let backends = rules.iter().find(names).unwrap()["backendRefs"].as_array().unwrap();
    let weight = |b: &Value| b["weight"].as_f64().unwrap_or(1.0);
    let total: f64 = backends.iter().map(weight).sum();
    backends.iter().filter(|b| b["name"] == canary).map(weight).sum::<f64>() / total
}

/// Writes `objects` as a snapshot and reads the revisions of the Rollout or Canary `name` from `graph -o json`:
/// (role, routedWeight) pairs; also the names of every node of its namespace.
fn graph_of(objects: &[Value], namespace: &str, name: &str) -> (Vec<(String, f64)>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("k8s")).unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(dir.path().join("k8s/objects.json"), list.to_string()).unwrap();
    let snapshot = dir.path().to_str().unwrap();
    let at = "2026-11-30T10:00:00Z";
    let graph: Value =
        serde_json::from_str(&meshlens_ok(&["graph", "--snapshot", snapshot, "-A", "--at", at, "-o", "json"])).unwrap();
    let nodes: Vec<&Value> =
        graph["nodes"].as_array().unwrap().iter().filter(|n| n["namespace"] == namespace).collect();
    let progressive = |n: &&&Value| n["workloadKind"] == "Rollout" || n["workloadKind"] == "Canary";
    let node = nodes.iter().filter(progressive).find(|n| n["name"] == name);
    let node = node.unwrap_or_else(|| panic!("no Rollout or Canary {namespace}/{name}: {graph}"));
    let revisions = node["revisions"].as_array().unwrap_or_else(|| panic!("no revisions: {node}"));
    let routed = |r: &Value| r["routedWeight"].as_f64().unwrap_or_else(|| panic!("{namespace}/{name}: {r}"));
    let names = nodes.iter().map(|n| n["name"].as_str().unwrap().to_owned()).collect();
    (revisions.iter().map(|r| (r["role"].as_str().unwrap().to_owned(), routed(r))).collect(), names)
}

/// The folders holding a plugin-routed Rollout with its route: the plugin's examples and its e2e resources.
fn plugin_folders() -> Vec<PathBuf> {
    let root = upstream().join("argo-rollouts-gatewayapi");
    let examples = std::fs::read_dir(root.join("examples")).unwrap().map(|e| e.unwrap().path());
    let e2e = std::fs::read_dir(root.join("test/e2e/chainsaw")).unwrap().map(|e| e.unwrap().path().join("resources"));
    let mut folders: Vec<PathBuf> = examples.chain(e2e).filter(|p| p.is_dir()).collect();
    folders.sort();
    folders
}

/// The route a plugin configuration manages first: (kind, name).
fn managed_route(plugin: &Value) -> (&'static str, String) {
    for (key, kind) in [("http", "HTTPRoute"), ("grpc", "GRPCRoute"), ("tcp", "TCPRoute"), ("tls", "TLSRoute")] {
        let single = plugin[format!("{key}Route")].as_str();
        if let Some(name) = single.or(plugin[format!("{key}Routes")][0]["name"].as_str()) {
            return (kind, name.to_owned());
        }
    }
    panic!("no route in {plugin}")
}

#[test]
fn each_plugin_example_gives_the_routed_weight_its_route_holds() {
    let mut checked = Vec::new();
    for folder in plugin_folders() {
        let mut objects = objects_of(&folder);
        let Some(at) = objects.iter().position(|o| o["kind"] == "Rollout") else { continue };
        let rollout = &mut objects[at];
        let namespace = rollout["metadata"]["namespace"].as_str().unwrap_or("default").to_owned();
        rollout["metadata"]["namespace"] = json!(namespace);
        rollout["status"] = json!({"stableRS": STABLE_HASH, "currentPodHash": CANARY_HASH, "currentStepIndex": 0});
        let name = rollout["metadata"]["name"].as_str().unwrap().to_owned();
        let canary = &rollout["spec"]["strategy"]["canary"];
        let (canary_svc, stable_svc) = (
            canary["canaryService"].as_str().unwrap().to_owned(),
            canary["stableService"].as_str().unwrap().to_owned(),
        );
        let (kind, route_name) = managed_route(&canary["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"]);
        let extra = revisions(rollout);
        objects.extend(extra);
        let route_at = objects.iter().position(|o| o["kind"] == kind && o["metadata"]["name"] == route_name);
        let route_at = route_at.unwrap_or_else(|| panic!("{name}: no {kind} {route_name}"));
        // As written (before any step: unset weights weigh 1 each), then as the plugin leaves it at setWeight 30.
        for weight in [None, Some(30)] {
            let mut objects = objects.clone();
            if let Some(w) = weight {
                set_weight(&mut objects[route_at], &canary_svc, &stable_svc, w);
            }
            let expected = expected_canary_share(&objects[route_at], &canary_svc, &stable_svc);
            let (found, _) = graph_of(&objects, &namespace, &name);
            let canary_weight = found.iter().find(|(role, _)| role == "canary").map(|(_, w)| *w);
            assert_eq!(canary_weight, Some(expected), "{} {weight:?}: {found:?}", folder.display());
            checked.push((name.clone(), kind, weight, expected));
        }
    }
    assert!(checked.len() >= 50, "{checked:?}");
    for kind in ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"] {
        assert!(checked.iter().any(|c| c.1 == kind && c.2 == Some(30) && c.3 == 0.3), "{kind}: {checked:?}");
    }
    // The upstream routes without weights split evenly; google-cloud-experiment's starts all on stable.
    assert!(checked.contains(&("rollouts-demo".into(), "HTTPRoute", None, 0.5)), "{checked:?}");
    assert!(checked.contains(&("demo-app".into(), "HTTPRoute", None, 0.0)), "{checked:?}");
}

#[test]
fn header_rules_the_plugin_adds_keep_their_own_weight_and_do_not_count() {
    let folder = upstream().join("argo-rollouts-gatewayapi/test/e2e/chainsaw/advanced-header-based-httproute");
    let mut objects = objects_of(&folder.join("resources"));
    let at = objects.iter().position(|o| o["kind"] == "Rollout").unwrap();
    objects[at]["status"] = json!({"stableRS": STABLE_HASH, "currentPodHash": CANARY_HASH, "currentStepIndex": 7});
    let name = objects[at]["metadata"]["name"].as_str().unwrap().to_owned();
    let extra = revisions(&objects[at]);
    objects.extend(extra);
    // The route as the plugin's e2e test asserts it after setWeight 90 (assertions/httproute-after-weight-90.yaml):
    // the weighted rule, then the two header rules named after the Rollout's managedRoutes, each to the canary
    // alone with weight 1. The header rules are put first here, to show that their order does not matter.
    let route = objects.iter_mut().find(|o| o["kind"] == "HTTPRoute").unwrap();
    let (stable, canary) =
        ("advanced-header-based-httproute-stable-service", "advanced-header-based-httproute-canary-service");
    set_weight(route, canary, stable, 90);
    let header_rule = |rule: &str, header: &str, value: &str| {
        json!({"name": rule, "matches": [{"headers": [{"name": header, "type": "Exact", "value": value}]}],
               "backendRefs": [{"name": canary, "port": 80, "weight": 1}]})
    };
    let weighted = route["spec"]["rules"][0].clone();
    route["spec"]["rules"] = json!([
        header_rule("canary-route1", "X-Test", "test"),
        header_rule("canary-route2", "X-Version", "v2"),
        weighted
    ]);
    let (found, _) = graph_of(&objects, "default", &name);
    assert_eq!(found, [("stable".to_owned(), 0.1), ("canary".to_owned(), 0.9)]);
}

#[test]
fn extra_backends_keep_their_weight_and_dilute_the_canary() {
    let folder = upstream().join("argo-rollouts-gatewayapi/test/e2e/chainsaw/httproute-extra-backends/resources");
    let mut objects = objects_of(&folder);
    let at = objects.iter().position(|o| o["kind"] == "Rollout").unwrap();
    objects[at]["status"] = json!({"stableRS": STABLE_HASH, "currentPodHash": CANARY_HASH, "currentStepIndex": 0});
    let name = objects[at]["metadata"]["name"].as_str().unwrap().to_owned();
    let extra = revisions(&objects[at]);
    objects.extend(extra);
    let route = objects.iter_mut().find(|o| o["kind"] == "HTTPRoute").unwrap();
    // What the plugin's e2e test asserts the route holds at setWeight 30: stable 70, canary 30, extra unset (1).
    set_weight(route, "httproute-extra-backends-canary-service", "httproute-extra-backends-stable-service", 30);
    let (found, _) = graph_of(&objects, "default", &name);
    let weight_of = |role: &str| found.iter().find(|(r, _)| r == role).map(|(_, w)| *w).unwrap();
    assert!((weight_of("canary") - 30.0 / 101.0).abs() < 1e-9, "{found:?}");
    assert!((weight_of("stable") - 70.0 / 101.0).abs() < 1e-9, "{found:?}");
}

#[test]
fn a_flagger_gateway_api_canary_is_one_workload_with_the_routed_weight_of_its_httproute() {
    let flagger = upstream().join("flagger-gatewayapi");
    let script = std::fs::read_to_string(flagger.join("test/gatewayapi/test-canary.sh")).unwrap();
    let heredoc = blocks(&script, |l| l.contains("<<EOF"), |l| l == "EOF").next().unwrap();
    let canary_doc = parse_documents(&heredoc, Format::Yaml).next().unwrap().unwrap().value;
    assert!(canary_doc["spec"]["service"]["gatewayRefs"].is_array(), "routed by the Gateway API router");
    let mut canary = canary_doc;
    canary["metadata"]["uid"] = json!("canary-uid");
    canary["status"] = json!({"phase": "Progressing", "canaryWeight": 10});
    let mut target =
        objects_of(&flagger.join("test/workloads")).into_iter().find(|o| o["kind"] == "Deployment").unwrap();
    target["metadata"]["namespace"] = json!("test");
    let mut primary = target.clone();
    primary["metadata"]["name"] = json!("podinfo-primary");
    primary["metadata"]["ownerReferences"] = json!([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "name": "podinfo", "uid": "canary-uid", "controller": true}]);
    let replica_set = |deployment: &str, hash: &str| {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{deployment}-{hash}"), "namespace": "test",
                "labels": {"pod-template-hash": hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": "",
                                     "controller": true}]},
            "spec": {"replicas": 1}})
    };
    // The HTTPRoute Flagger generates at 10% (pkg/router/gateway_api.go: named after the apex Service, owned by
    // the Canary, parents from gatewayRefs, one PathPrefix / rule to the primary and canary Services).
    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "podinfo", "namespace": "test", "ownerReferences": [{"apiVersion": "flagger.app/v1beta1",
            "kind": "Canary", "name": "podinfo", "uid": "canary-uid", "controller": true}]},
        "spec": {"parentRefs": canary["spec"]["service"]["gatewayRefs"], "hostnames": canary["spec"]["service"]["hosts"],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [
                {"group": "", "kind": "Service", "name": "podinfo-primary", "port": 9898, "weight": 90},
                {"group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898, "weight": 10}]}]}});
    let objects = vec![
        canary,
        target,
        primary,
        replica_set("podinfo", "5d8f9c7b6"),
        replica_set("podinfo-primary", "7b6c5d8f9"),
        route,
    ];
    let (found, nodes) = graph_of(&objects, "test", "podinfo");
    assert_eq!(found, [("stable".to_owned(), 0.9), ("canary".to_owned(), 0.1)]);
    assert_eq!(nodes, ["podinfo"], "the primary and the target are one workload");
}

#[test]
fn the_gatewayapi_world_splits_as_its_route_says_on_both_engines() {
    let sim = common::servers::simulated_scenario(meshlens::sim::Scenario::Gatewayapi);
    let snapshot = sim.dir.to_str().unwrap();
    for engine in [vec![], vec!["--prometheus", common::servers::prometheus()]] {
        let args = [&["graph", "--snapshot", snapshot, "-n", "bookinfo", "-o", "json"][..], &engine].concat();
        let graph: Value = serde_json::from_str(&meshlens_ok(&args)).unwrap();
        let reviews = graph["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "reviews").unwrap();
        assert_eq!(
            reviews["split"]["routes"],
            json!([{"kind": "HTTPRoute", "namespace": "bookinfo", "name": "reviews"}])
        );
        for (role, weight) in [("canary", 0.2), ("stable", 0.8)] {
            let revision = reviews["revisions"].as_array().unwrap().iter().find(|r| r["role"] == role).unwrap();
            assert_eq!(revision["intendedWeight"].as_f64(), Some(weight), "{engine:?} {revision}");
            assert_eq!(revision["routedWeight"].as_f64(), Some(weight), "{engine:?} {revision}");
            let observed = revision["observedShare"].as_f64().unwrap();
            assert!((observed - weight).abs() < 0.02, "{engine:?}: observed {observed} for {weight}");
        }
    }
}

#[test]
fn rollout_get_keeps_the_argo_clis_actual_weight_and_adds_what_the_route_carries() {
    let dir = tempfile::tempdir().unwrap();
    common::simulate("gatewayapi", dir.path(), &["--fault", "weights-disagree"]);
    let snapshot = dir.path().to_str().unwrap();
    let json: Value = serde_json::from_str(&meshlens_ok(&[
        "rollout",
        "get",
        "reviews",
        "-n",
        "bookinfo",
        "--snapshot",
        snapshot,
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!((json["setWeight"].as_i64(), json["actualWeight"].as_i64()), (Some(20), Some(20)), "from the status");
    assert_eq!(json["routedWeight"].as_f64(), Some(0.5), "from the HTTPRoute someone edited");
    assert_eq!(json["routes"], json!([{"kind": "HTTPRoute", "namespace": "bookinfo", "name": "reviews"}]));
    let text = meshlens_ok(&["rollout", "get", "reviews", "-n", "bookinfo", "--snapshot", snapshot]);
    assert!(text.contains("ActualWeight:  20"), "{text}");
}
