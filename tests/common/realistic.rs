//! A cluster the size and shape of a real one for load tests: Deployments with their ReplicaSets and pods as the
//! API serves them from a mesh with sidecar injection — the istio-proxy and istio-init containers with their
//! environment, probes and volumes, Istio's annotations, a full status and managedFields (about 9 KB of JSON a pod,
//! as `kubectl get pod -o json` shows of an injected pod), not the few fields the simulator writes.

use serde_json::{Value, json};

/// `namespaces` × `per_namespace` Deployments of one pod each, with their Namespace objects.
pub fn cluster(namespaces: usize, per_namespace: usize) -> Vec<Value> {
    let mut objects = Vec::with_capacity(namespaces * (1 + 3 * per_namespace));
    for n in 0..namespaces {
        let ns = namespace(n);
        objects.push(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": uid("ns", n, 0), "labels": {"istio-injection": "enabled",
                "kubernetes.io/metadata.name": ns}}}));
        for w in 0..per_namespace {
            objects.extend(workload(n, w));
        }
    }
    objects
}

/// Namespace `n`'s name: `load-007`.
pub fn namespace(n: usize) -> String {
    format!("load-{n:03}")
}

/// Workload `w`'s name in every namespace: `svc-042`.
pub fn app(w: usize) -> String {
    format!("svc-{w:03}")
}

/// The pod [`cluster`] gives workload `w` of namespace `n`.
pub fn cluster_pod(n: usize, w: usize) -> Value {
    let [_, _, pod] = workload(n, w);
    pod
}

/// Deployment `w` of namespace `n`, its ReplicaSet and its pod.
fn workload(n: usize, w: usize) -> [Value; 3] {
    let (ns, name) = (namespace(n), app(w));
    let (deployment_uid, rs_uid) = (uid("deploy", n, w), uid("rs", n, w));
    let hash = format!("{:x}", 0x5f00_0000_u32 + (n * 1000 + w) as u32);
    let rs = format!("{name}-{hash}");
    let labels = json!({"app": name, "version": "v1", "pod-template-hash": hash});
    [
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "uid": deployment_uid, "generation": 3,
                "labels": {"app": name}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name, "version": "v1"}},
                "template": {"metadata": {"labels": {"app": name, "version": "v1"}},
                    "spec": {"containers": [{"name": name, "image": "registry.example/app:1.4.2"}]}}},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
                "observedGeneration": 3}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs, "namespace": ns, "uid": rs_uid, "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": deployment_uid, "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}}),
        pod(&ns, &name, &rs, &rs_uid, &hash, &format!("{rs}-{}", suffix(n * 1000 + w))),
    ]
}

/// A pod of ReplicaSet `rs` (of Deployment `app`) named `name`, as the API serves an injected pod.
pub fn pod(ns: &str, app: &str, rs: &str, rs_uid: &str, hash: &str, name: &str) -> Value {
    let env = |pairs: &[(&str, &str)]| -> Value { pairs.iter().map(|(k, v)| json!({"name": k, "value": v})).collect() };
    let proxy_env = env(&[
        ("PILOT_CERT_PROVIDER", "istiod"),
        ("CA_ADDR", "istiod.istio-system.svc:15012"),
        ("ISTIO_CPU_LIMIT", "2"),
        ("PROXY_CONFIG", "{}"),
        ("ISTIO_META_POD_PORTS", "[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]"),
        ("ISTIO_META_APP_CONTAINERS", app),
        ("GOMEMLIMIT", "1073741824"),
        ("GOMAXPROCS", "2"),
        ("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        ("ISTIO_META_NODE_NAME", "node-7"),
        ("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"),
        ("ISTIO_META_WORKLOAD_NAME", app),
        ("ISTIO_META_OWNER", &format!("kubernetes://apis/apps/v1/namespaces/{ns}/deployments/{app}")),
        ("ISTIO_META_MESH_ID", "cluster.local"),
        ("TRUST_DOMAIN", "cluster.local"),
    ]);
    let probe = |path: &str, port: u16| {
        json!({"httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "periodSeconds": 15, "timeoutSeconds": 3, "failureThreshold": 4, "successThreshold": 1})
    };
    let conditions: Vec<Value> =
        ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
            .iter()
            .map(|kind| {
                json!({"type": kind, "status": "True", "lastProbeTime": null,
            "lastTransitionTime": "2026-11-20T08:14:03Z"})
            })
            .collect();
    let proxy_mounts: Vec<Value> = [
        "workload-socket",
        "credential-socket",
        "workload-certs",
        "istiod-ca-cert",
        "istio-data",
        "istio-envoy",
        "istio-token",
        "istio-podinfo",
        "kube-api-access",
    ]
    .iter()
    .map(|v| json!({"name": v, "mountPath": format!("/var/run/{v}")}))
    .collect();
    let container_statuses: Vec<Value> = [app, "istio-proxy"]
        .iter()
        .map(|c| {
            json!({"name": c, "ready": true, "restartCount": 0, "started": true,
            "image": "registry.example/app:1.4.2", "imageID": "registry.example/app@sha256:7f3a9b",
            "containerID": "containerd://b81e44", "state": {"running": {"startedAt": "2026-11-20T08:13:58Z"}}})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("{rs_uid}-{name}"),
            "generateName": format!("{rs}-"), "creationTimestamp": "2026-11-20T08:13:55Z",
            "labels": {"app": app, "version": "v1", "pod-template-hash": hash,
                "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": app,
                "service.istio.io/canonical-revision": "v1"},
            "annotations": {"istio.io/rev": "default", "kubectl.kubernetes.io/default-container": app,
                "kubectl.kubernetes.io/default-logs-container": app, "prometheus.io/path": "/stats/prometheus",
                "prometheus.io/port": "15020", "prometheus.io/scrape": "true",
                "sidecar.istio.io/status": "{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"credential-socket\",\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"default\"}"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rs_uid,
                "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                    "time": "2026-11-20T08:13:55Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {
                        "f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {},
                        "f:version": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"x\"}": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {},
                        "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:resources": {}}},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-20T08:14:03Z",
                    "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": {"f:status": {
                        "f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {},
                        "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}}, "f:containerStatuses": {},
                        "f:hostIP": {}, "f:initContainerStatuses": {}, "f:phase": {}, "f:podIP": {},
                        "f:podIPs": {".": {}, "k:{\"ip\":\"10.4.7.12\"}": {".": {}, "f:ip": {}}},
                        "f:startTime": {}}}}]},
        "spec": {
            "initContainers": [{"name": "istio-init", "image": "docker.io/istio/proxyv2:1.28.1",
                "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
                    "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
                "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": false,
                    "runAsGroup": 0, "runAsNonRoot": false, "runAsUser": 0,
                    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}}}],
            "containers": [
                {"name": app, "image": "registry.example/app:1.4.2", "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": env(&[("LOG_LEVEL", "info"), ("PORT", "8080"), ("OTEL_SERVICE_NAME", app)]),
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
                    "readinessProbe": probe("/app-health/app/readyz", 15020),
                    "livenessProbe": probe("/app-health/app/livez", 15020),
                    "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]},
                {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.28.1",
                    "args": ["proxy", "sidecar", "--domain", format!("{ns}.svc.cluster.local"), "--proxyLogLevel=warning",
                        "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
                    "ports": [{"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"}],
                    "env": proxy_env,
                    "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                    "readinessProbe": probe("/healthz/ready", 15021),
                    "startupProbe": probe("/healthz/ready", 15021),
                    "volumeMounts": proxy_mounts,
                    "securityContext": {"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
                        "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [
                {"name": "workload-socket", "emptyDir": {}}, {"name": "credential-socket", "emptyDir": {}},
                {"name": "workload-certs", "emptyDir": {}}, {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
                {"name": "istio-data", "emptyDir": {}},
                {"name": "istio-podinfo", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
                {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken":
                    {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
                {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}},
                {"name": "kube-api-access", "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}],
            "serviceAccountName": "default", "nodeName": "node-7", "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "priority": 0,
            "terminationGracePeriodSeconds": 30, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
        "status": {"phase": "Running", "hostIP": "10.0.3.7", "podIP": "10.4.7.12",
            "podIPs": [{"ip": "10.4.7.12"}], "qosClass": "Burstable", "startTime": "2026-11-20T08:13:55Z",
            "conditions": conditions,
            "initContainerStatuses": [{"name": "istio-init", "ready": true, "restartCount": 0,
                "image": "docker.io/istio/proxyv2:1.28.1", "imageID": "docker.io/istio/proxyv2@sha256:9c1e0d6f",
                "containerID": "containerd://4a7d1f", "started": false,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                    "startedAt": "2026-11-20T08:13:57Z", "finishedAt": "2026-11-20T08:13:57Z"}}}],
            "containerStatuses": container_statuses}})
}

fn uid(what: &str, n: usize, w: usize) -> String {
    format!("{what:0>6}-{n:04}-{w:04}-8c1e-4f2a9b7d3e10")
}

/// A pod name's random-looking five characters.
fn suffix(i: usize) -> String {
    const LETTERS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = i.wrapping_mul(2_654_435_761) % 14_348_907;
    (0..5)
        .map(|_| {
            let c = LETTERS[x % LETTERS.len()] as char;
            x /= LETTERS.len();
            c
        })
        .collect()
}
