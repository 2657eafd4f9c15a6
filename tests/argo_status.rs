//! `rollout status` against the Argo CLI's own `status` tests (`pkg/kubectl-argo-rollouts/cmd/status/status_test.go`
//! upstream): the same stdout, the same `Error: ...` line and exit 1 on the upstream fixtures, from a snapshot and
//! from a live cluster (the fake API server), watching and not; and meshlens' `--max-drift` on the measured split.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::{fake_kube, meshlens, servers, simulate, stderr};
use meshlens::sim::Scenario;
use serde_json::Value;

const ABORTED_MESSAGE: &str = "RolloutAborted: metric \"web\" assessed Failed due to failed (1) > failureLimit (0)";
const INVALID_MESSAGE: &str = "InvalidSpec: The Rollout \"rollout-invalid\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"doesnt-match\"}: `selector` does not match template `labels`";

/// The objects of an upstream fixture folder, as the API server would serve them.
fn fixture_objects(folder: &str) -> Vec<Value> {
    let mut objects = Vec::new();
    for entry in std::fs::read_dir(common::argo_testdata(folder)).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        objects.push(serde_saphyr::from_str::<Value>(&text).unwrap());
    }
    objects
}

/// stdout, stderr and exit code, as the upstream tests compare them.
fn ended(out: &Output) -> (String, String, Option<i32>) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr(out), out.status.code())
}

fn status_of_snapshot(folder: &str, rollout: &str, extra: &[&str]) -> (String, String, Option<i32>) {
    let dir = common::argo_testdata(folder);
    let args = [&["rollout", "status", rollout, "--snapshot", dir.to_str().unwrap()], extra].concat();
    ended(&meshlens(&args))
}

fn degraded(message: &str) -> String {
    format!("Error: The rollout is in a degraded state with message: {message}\n")
}

#[test]
fn a_snapshot_is_answered_once_as_the_argo_cli_answers_with_watch_false() {
    // TestStatusBlueGreenRollout, TestStatusInvalidRollout, TestStatusAbortedRollout, TestStatusRolloutNotFound.
    let paused = ("Paused - BlueGreenPause\n".to_owned(), String::new(), Some(0));
    assert_eq!(status_of_snapshot("blue-green", "bluegreen-demo", &[]), paused);
    assert_eq!(status_of_snapshot("blue-green", "bluegreen-demo", &["--watch=false"]), paused);
    assert_eq!(
        status_of_snapshot("rollout-invalid", "rollout-invalid", &[]),
        ("Degraded\n".to_owned(), degraded(INVALID_MESSAGE), Some(1))
    );
    assert_eq!(
        status_of_snapshot("rollout-aborted", "rollout-background-analysis", &[]),
        ("Degraded\n".to_owned(), degraded(ABORTED_MESSAGE), Some(1))
    );
    assert_eq!(
        status_of_snapshot("blue-green", "does-not-exist", &[]),
        (String::new(), "Error: rollout.argoproj.io \"does-not-exist\" not found\n".to_owned(), Some(1))
    );
    // A snapshot never changes: an explicit watch is refused as bad input, before anything is read.
    let (out, err, code) = status_of_snapshot("blue-green", "bluegreen-demo", &["--watch"]);
    assert_eq!((out.as_str(), code), ("", Some(2)));
    assert!(err.contains("--watch needs --kube"), "{err}");
    let (_, err, code) = status_of_snapshot("blue-green", "bluegreen-demo", &["--timeout", "soon"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a duration like 30s"), "{err}");
}

#[test]
fn max_drift_fails_on_a_canary_the_mesh_does_not_follow() {
    let status = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        simulate("bookinfo-canary", dir.path(), extra);
        let snapshot = dir.path().to_str().unwrap().to_owned();
        ended(&meshlens(&["rollout", "status", "reviews", "--snapshot", &snapshot, "--max-drift", "5"]))
    };
    let (out, err, code) = status(&[]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Paused - CanaryPauseStep");
    assert!(lines[1].starts_with("Drift - canary ") && lines[1].contains("% observed, 20.0% intended"), "{out}");
    // Someone edited the route to 50/50 while the Rollout is at 20: the spec alone says nothing is wrong.
    let (out, err, code) = status(&["--fault", "weights-disagree"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("% observed, 20.0% intended (+2"), "{out}");
    assert!(err.starts_with("Error: the canary's measured share is "), "{err}");
    assert!(err.contains("beyond --max-drift 5"), "{err}");
    // Blue-green asks for no live weight: nothing to judge, and a note says so.
    let dir = tempfile::tempdir().unwrap();
    simulate("bluegreen", dir.path(), &[]);
    let out =
        meshlens(&["rollout", "status", "--snapshot", dir.path().to_str().unwrap(), "--max-drift", "5", "checkout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("no canary share was measured"), "{}", stderr(&out));
}

/// `meshlens rollout status` against `fake`, as a child process whose output is read while it runs.
struct Watch {
    child: std::process::Child,
    started: Instant,
    stdout: std::sync::mpsc::Receiver<String>,
}

impl Watch {
    fn start(fake: &fake_kube::FakeKube, work: &std::path::Path, args: &[&str]) -> Watch {
        let kubeconfig = fake.kubeconfig(work);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_meshlens"))
            .args(["rollout", "status"])
            .args(args)
            .args(["--kube", "--kubeconfig", kubeconfig.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (send, stdout) = std::sync::mpsc::channel();
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { return };
                let _ = send.send(line);
            }
        });
        Watch { child, started: Instant::now(), stdout }
    }

    fn next_line(&self) -> String {
        self.stdout.recv_timeout(Duration::from_secs(60)).expect("a status line within 60 s")
    }

    /// The lines not yet read, stderr and the exit code, once the command ends (within 120 s).
    fn end(mut self) -> (Vec<String>, String, Option<i32>, Duration) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("rollout status did not end within 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = self.started.elapsed();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut err).unwrap();
        let rest = self.stdout.iter().collect();
        (rest, err, status.code(), took)
    }
}

#[test]
fn a_watch_ends_as_the_argo_cli_s_on_a_live_cluster() {
    let work = tempfile::tempdir().unwrap();
    let bluegreen = fake_kube::start(&fixture_objects("blue-green"));
    // TestWatchTimeoutRollout: a paused rollout watched with --timeout=1s.
    let watch = Watch::start(&bluegreen, work.path(), &["bluegreen-demo", "--timeout=1s"]);
    assert_eq!(watch.next_line(), "Paused - BlueGreenPause");
    let (rest, err, code, took) = watch.end();
    assert_eq!((rest, err.as_str(), code), (vec![], "Error: Rollout status watch exceeded timeout\n", Some(1)));
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(20), "{took:?}");

    // TestWatchAbortedRollout: a watch shows the message of a degraded rollout, and fails with it.
    let aborted = fake_kube::start(&fixture_objects("rollout-aborted"));
    let (rest, err, code, _) = Watch::start(&aborted, work.path(), &["rollout-background-analysis"]).end();
    assert_eq!(rest, vec![format!("Degraded - {ABORTED_MESSAGE}")]);
    assert_eq!((err, code), (degraded(ABORTED_MESSAGE), Some(1)));

    // TestWatchStatusRolloutNotFound, and TestStatusRolloutNotFound with --watch=false.
    for extra in [None, Some("--watch=false")] {
        let args: Vec<&str> = ["does-not-exist"].into_iter().chain(extra).collect();
        let (rest, err, code, _) = Watch::start(&bluegreen, work.path(), &args).end();
        assert_eq!(
            (rest, err.as_str(), code),
            (vec![], "Error: rollout.argoproj.io \"does-not-exist\" not found\n", Some(1))
        );
    }

    // TestStatusBlueGreenRollout on a live cluster: --watch=false answers at once.
    let (rest, err, code, _) = Watch::start(&bluegreen, work.path(), &["bluegreen-demo", "--watch=false"]).end();
    assert_eq!((rest, err.as_str(), code), (vec!["Paused - BlueGreenPause".to_owned()], "", Some(0)));
}

#[test]
fn a_watch_follows_the_rollout_until_it_is_healthy() {
    let work = tempfile::tempdir().unwrap();
    let objects = fixture_objects("blue-green");
    let fake = fake_kube::start(&objects);
    let watch = Watch::start(&fake, work.path(), &["bluegreen-demo", "-n", "jesse-test"]);
    assert_eq!(watch.next_line(), "Paused - BlueGreenPause");
    let mut rollout = objects.iter().find(|o| o["kind"] == "Rollout").unwrap().clone();
    // Promoted: the controller lifts the pause, then the active service cuts over.
    rollout["status"]["pauseConditions"] = Value::Null;
    rollout["status"]["controllerPause"] = Value::Bool(false);
    rollout["status"]["phase"] = "Progressing".into();
    rollout["status"]["message"] = "active service cutover pending".into();
    fake.apply(rollout.clone());
    assert_eq!(watch.next_line(), "Progressing - active service cutover pending");
    rollout["status"]["phase"] = "Healthy".into();
    rollout["status"]["message"] = "".into();
    fake.apply(rollout);
    let (rest, err, code, _) = watch.end();
    assert_eq!((rest, err.as_str(), code), (vec!["Healthy".to_owned()], "", Some(0)));
}

#[test]
fn a_watch_with_max_drift_fails_once_a_weight_held_for_the_window_is_not_followed() {
    let sim = servers::simulated_scenario(Scenario::BookinfoCanary);
    let prometheus = servers::prometheus();
    let world = meshlens::sim::build(&sim.options);
    let at = sim.time.to_string();
    let work = tempfile::tempdir().unwrap();
    let common = ["reviews", "-n", "bookinfo", "--prometheus", prometheus, "--at", &at, "--max-drift", "5"];

    // The canary takes the 20% it is asked for.
    let fake = fake_kube::start(&world.objects);
    let args = [&common[..], &["--watch=false"]].concat();
    let (rest, err, code, _) = Watch::start(&fake, work.path(), &args).end();
    assert_eq!(code, Some(0), "{rest:?} {err}");
    assert_eq!(rest[0], "Paused - CanaryPauseStep");
    assert!(rest[1].starts_with("Drift - canary ") && rest[1].contains("20.0% intended"), "{rest:?}");

    // The Rollout asks for 40% (step 3) but the mesh still sends 20%.
    let mut objects = world.objects.clone();
    let rollout = objects.iter_mut().find(|o| o["kind"] == "Rollout").unwrap();
    rollout["status"]["currentStepIndex"] = 3.into();
    if rollout["status"]["canary"]["weights"]["canary"]["weight"].is_number() {
        rollout["status"]["canary"]["weights"]["canary"]["weight"] = 40.into();
        rollout["status"]["canary"]["weights"]["stable"]["weight"] = 60.into();
    }
    let fake = fake_kube::start(&objects);
    let args = [&common[..], &["--duration", "30s"]].concat();
    let watch = Watch::start(&fake, work.path(), &args);
    assert!(watch.next_line().starts_with("Paused - "));
    let (rest, err, code, took) = watch.end();
    assert_eq!(code, Some(1), "{rest:?} {err}");
    assert!(rest[0].starts_with("Drift - canary ") && rest[0].contains("40.0% intended"), "{rest:?}");
    assert!(err.starts_with("Error: Rollout \"reviews\" at step 3: the canary's measured share is"), "{err}");
    // Judged only once the weight held for the whole window.
    assert!(took >= Duration::from_secs(30), "judged after {took:?}");
    println!("--max-drift watch judged after {:.1} s", took.as_secs_f64());
}
