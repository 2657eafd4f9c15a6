//! `rollout status` as the Argo CLI's `status` command decides it (`pkg/kubectl-argo-rollouts/cmd/status` and its
//! tests): the lines it prints and when a status is a failure, in its words. A pipeline that waits on the Argo CLI
//! can wait on meshlens instead and read the same lines; meshlens adds one failure of its own, the measured canary
//! share drifting from the weight the Rollout asks for.

use thiserror::Error;

use super::RolloutInfo;

/// The phases a watch ends on.
const HEALTHY: &str = "Healthy";
const DEGRADED: &str = "Degraded";

/// Whether a watch stops at this status.
pub fn is_final(info: &RolloutInfo) -> bool {
    info.phase == HEALTHY || info.phase == DEGRADED
}

/// The one line `--watch=false` prints: a final phase alone, any other with its message (`Paused - BlueGreenPause`;
/// the separator stays when the message is empty, as the Argo CLI writes it).
pub fn once_line(info: &RolloutInfo) -> String {
    if is_final(info) { info.phase.clone() } else { format!("{} - {}", info.phase, info.message) }
}

/// The line a watch prints whenever it changes: the phase, and the message when there is one
/// (`Degraded - RolloutAborted: ...`).
pub fn watch_line(info: &RolloutInfo) -> String {
    if info.message.is_empty() { info.phase.clone() } else { format!("{} - {}", info.phase, info.message) }
}

/// Why `rollout status` fails. The first three are the Argo CLI's errors, word for word.
#[derive(Debug, Error, PartialEq)]
pub enum StatusFailure {
    #[error("rollout.argoproj.io {0:?} not found")]
    NotFound(String),
    #[error("The rollout is in a degraded state with message: {0}")]
    Degraded(String),
    #[error("Rollout status watch exceeded timeout")]
    TimedOut,
    #[error(
        "the canary's measured share is {observed:.1}% for a weight of {intended:.1}%: {points:+.1} points, beyond --max-drift {max}"
    )]
    Drift { observed: f64, intended: f64, points: f64, max: f64 },
}

/// The verdict on the last status seen: Degraded fails; a watch that ended before Healthy timed out.
pub fn verdict(info: &RolloutInfo, watched: bool) -> Result<(), StatusFailure> {
    if info.phase == DEGRADED {
        return Err(StatusFailure::Degraded(info.message.clone()));
    }
    if watched && info.phase != HEALTHY {
        return Err(StatusFailure::TimedOut);
    }
    Ok(())
}

/// A canary's measured share beside its weight, in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanaryDrift {
    pub observed: f64,
    pub intended: f64,
}

impl CanaryDrift {
    /// Observed minus intended, in points of share.
    pub fn points(&self) -> f64 {
        self.observed - self.intended
    }

    /// The line `--max-drift` prints when it judges the split.
    pub fn line(&self) -> String {
        format!(
            "Drift - canary {:.1}% observed, {:.1}% intended ({:+.1} points)",
            self.observed,
            self.intended,
            self.points()
        )
    }

    /// Fails when the drift is beyond `max` points either way.
    pub fn judge(&self, max: f64) -> Result<(), StatusFailure> {
        if self.points().abs() <= max {
            return Ok(());
        }
        Err(StatusFailure::Drift { observed: self.observed, intended: self.intended, points: self.points(), max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlens_k8s::argo::Rollout;

    fn info(phase: &str, message: &str) -> RolloutInfo {
        let mut ro = Rollout::default();
        ro.status.phase = Some(phase.into());
        ro.status.message = Some(message.into());
        let inv = crate::inventory::Inventory::new("c", [meshlens_k8s::Object::Rollout(std::sync::Arc::new(ro))]);
        let object = inv.all::<Rollout>().first().cloned();
        let found = object
            .and_then(|r| inv.find(meshlens_k8s::Kind::Rollout, r.metadata.namespace_str(), r.metadata.name_str()));
        found.and_then(|r| super::super::rollout_info(&inv, r)).expect("a rollout")
    }

    #[test]
    fn lines_as_the_argo_cli_prints_them() {
        assert_eq!(once_line(&info("Paused", "BlueGreenPause")), "Paused - BlueGreenPause");
        assert_eq!(once_line(&info("Degraded", "RolloutAborted: x")), "Degraded");
        assert_eq!(once_line(&info("Healthy", "")), "Healthy");
        assert_eq!(once_line(&info("Progressing", "")), "Progressing - ");
        assert_eq!(watch_line(&info("Degraded", "RolloutAborted: x")), "Degraded - RolloutAborted: x");
        assert_eq!(watch_line(&info("Healthy", "")), "Healthy");
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&info("Healthy", ""), true), Ok(()));
        assert_eq!(verdict(&info("Paused", "BlueGreenPause"), false), Ok(()));
        assert_eq!(verdict(&info("Paused", "BlueGreenPause"), true), Err(StatusFailure::TimedOut));
        let degraded = verdict(&info("Degraded", "InvalidSpec: bad"), false).unwrap_err();
        assert_eq!(degraded.to_string(), "The rollout is in a degraded state with message: InvalidSpec: bad");
        assert_eq!(StatusFailure::NotFound("x".into()).to_string(), "rollout.argoproj.io \"x\" not found");
    }

    #[test]
    fn drift_beyond_the_limit_fails_either_way() {
        let drift = CanaryDrift { observed: 50.0, intended: 20.0 };
        assert_eq!(drift.line(), "Drift - canary 50.0% observed, 20.0% intended (+30.0 points)");
        assert!(drift.judge(30.0).is_ok());
        let failure = drift.judge(5.0).unwrap_err().to_string();
        assert_eq!(
            failure,
            "the canary's measured share is 50.0% for a weight of 20.0%: +30.0 points, beyond --max-drift 5"
        );
        assert!(CanaryDrift { observed: 10.0, intended: 20.0 }.judge(5.0).is_err());
    }
}
