//! Who may use a server, and what it remembers of them: the token and host names it answers, signed-in browsers and
//! recent failed sign-ins (throttled per client, never another client's: see [`Failures`]). The guard and the
//! sign-in pages that use them are in [`super::auth`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::TryRng;

/// How long a browser stays signed in.
pub(super) const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 1024;
/// Failed sign-ins (or wrong bearer tokens) a client may make per [`FAILURE_WINDOW`]: enough for a person who
/// mistypes, far too few to guess a token of 16 characters or more.
const MAX_FAILURES: usize = 5;
/// Failures from all clients per [`FAILURE_WINDOW`] past which a client that has itself failed is throttled too:
/// a guesser spread over many addresses gets this many guesses a minute in all, and a client that has not failed
/// is never refused.
const MAX_FAILURES_IN_ALL: usize = 100;
pub(super) const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Who may use a server.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The token every request but the probe and the sign-in must carry.
    pub token: Option<String>,
    /// Host names (lower case, no port) requests may name besides loopback names and IP literals.
    pub hosts: Vec<String>,
    /// Served over TLS: the session cookie is `Secure`.
    pub tls: bool,
}

/// Signed-in browsers and recent failed sign-ins.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Instant>>,
    failures: Mutex<Failures>,
}

/// Recent failures by client. Holds at most [`MAX_FAILURES_IN_ALL`] (and a client's last) of the window, so its
/// size is bounded whoever fails.
#[derive(Default)]
pub(super) struct Failures {
    by_client: HashMap<IpAddr, VecDeque<Instant>>,
    total: usize,
}

impl Failures {
    fn forget_old(&mut self, now: Instant) {
        for times in self.by_client.values_mut() {
            while times.front().is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW) {
                times.pop_front();
            }
        }
        self.by_client.retain(|_, times| !times.is_empty());
        self.total = self.by_client.values().map(VecDeque::len).sum();
    }

    /// Whether `client` may try now: under its own limit, and, once everyone together is past theirs, only if it
    /// has not failed itself.
    fn allows(&mut self, client: IpAddr) -> bool {
        self.forget_old(Instant::now());
        let own = self.by_client.get(&client).map_or(0, VecDeque::len);
        own < MAX_FAILURES && (own == 0 || self.total < MAX_FAILURES_IN_ALL)
    }

    fn failed(&mut self, client: IpAddr) {
        if self.total < MAX_FAILURES_IN_ALL || self.by_client.contains_key(&client) {
            self.by_client.entry(client).or_default().push_back(Instant::now());
            self.total = self.total.saturating_add(1);
        }
    }
}

impl Sessions {
    /// A new session's id: 32 bytes from the operating system's generator.
    pub(super) fn start(&self) -> Result<String, rand::rngs::SysError> {
        let mut bytes = [0u8; 32];
        rand::rngs::SysRng.try_fill_bytes(&mut bytes)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut by_id = self.by_id.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        by_id.retain(|_, expires| *expires > now);
        if by_id.len() >= MAX_SESSIONS
            && let Some(oldest) = by_id.iter().min_by_key(|(_, expires)| **expires).map(|(id, _)| id.clone())
        {
            by_id.remove(&oldest);
        }
        by_id.insert(id.clone(), now + SESSION_LIFETIME);
        Ok(id)
    }

    pub(super) fn is_valid(&self, id: &str) -> bool {
        let by_id = self.by_id.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        by_id.get(id).is_some_and(|expires| *expires > Instant::now())
    }

    /// Whether `client` may try a token now (see [`Failures::allows`]).
    pub(super) fn allows(&self, client: IpAddr) -> bool {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).allows(client)
    }

    pub(super) fn failed(&self, client: IpAddr) {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).failed(client);
    }
}

/// Whether a path is served to anyone at any time: the probes, the sign-in and static files (no token asked, no
/// world needed).
pub fn is_open(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/login") || path.starts_with("/static/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_per_client_and_a_client_that_never_failed_is_never_refused() {
        let mut failures = Failures::default();
        let (guesser, other) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert!(failures.allows(guesser));
            failures.failed(guesser);
        }
        assert!(!failures.allows(guesser) && failures.allows(other));
        // Guessers spread over many addresses: past the ceiling in all, those that failed wait, the others do not.
        for n in 0..MAX_FAILURES_IN_ALL {
            failures.failed(IpAddr::V6(std::net::Ipv6Addr::from_bits(n as u128 + 1)));
        }
        assert!(failures.total <= MAX_FAILURES_IN_ALL, "bounded: {}", failures.total);
        assert!(!failures.allows(IpAddr::V6(std::net::Ipv6Addr::from_bits(1))));
        assert!(failures.allows(other), "never failed, never refused");
    }
}
