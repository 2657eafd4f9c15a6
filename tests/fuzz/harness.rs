//! One fuzzing campaign: replay the inputs that once failed, then mutate seeds until the time budget ends. An
//! input fails when its check panics, returns an error, runs past the hang limit or allocates past the memory
//! bound; it is saved under the test target directory and the test fails naming it. Campaigns run one at a time
//! so the allocation count is theirs alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::alloc;

/// Seconds each campaign mutates for, unless `MESHLENS_FUZZ_SECONDS` says otherwise.
const DEFAULT_SECONDS: u64 = 12;
/// An input still running after this is a hang: the watchdog saves it and aborts the test binary.
const HANG_LIMIT: Duration = Duration::from_secs(20);
/// Bytes one input may allocate above what was live before it. Inputs are at most
/// [`crate::mutate::MAX_INPUT`] bytes, and every loader's budget grows with its input's size.
const MEMORY_BOUND: usize = 256 << 20;
/// A campaign stops after this many failing inputs: enough to see a pattern, not a flood.
const MAX_FINDINGS: usize = 5;

/// What a check says about an input it did not like (a panic is caught separately).
pub type Verdict = Result<(), String>;

/// The mutation stream's seed: `MESHLENS_FUZZ_SEED`, or a fixed one so that CI runs the same inputs each time.
pub fn seed() -> u64 {
    std::env::var("MESHLENS_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x6d65_7368)
}

fn budget() -> Duration {
    let seconds = std::env::var("MESHLENS_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs(seconds)
}

/// Runs the campaign of `target`: the files in `tests/fuzz/regressions/<target>/` first, then `mutate`'s inputs.
pub fn fuzz(
    target: &'static str,
    mut mutate: impl FnMut(&mut ChaCha8Rng) -> Vec<u8>,
    mut check: impl FnMut(&[u8]) -> Verdict,
) {
    let _alone = one_at_a_time();
    start_watchdog();
    let started = Instant::now();
    let mut campaign = Campaign { target, findings: Vec::new(), runs: 0, peak_growth: 0 };
    let regressions = regression_inputs(target);
    for (path, input) in &regressions {
        campaign.attempt(input, &mut check, Some(path));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ fnv(target.as_bytes()));
    let deadline = started + budget();
    while Instant::now() < deadline && campaign.findings.len() < MAX_FINDINGS {
        let input = mutate(&mut rng);
        campaign.attempt(&input, &mut check, None);
    }
    println!(
        "fuzz {target}: {} runs ({} regression inputs) in {:.1} s, seed {}, largest allocation peak {:.1} MiB, {} findings",
        campaign.runs,
        regressions.len(),
        started.elapsed().as_secs_f64(),
        seed(),
        campaign.peak_growth as f64 / f64::from(1u32 << 20),
        campaign.findings.len()
    );
    assert!(campaign.findings.is_empty(), "fuzz {target} found:\n{}", campaign.findings.join("\n"));
}

struct Campaign {
    target: &'static str,
    findings: Vec<String>,
    runs: u64,
    peak_growth: usize,
}

impl Campaign {
    fn attempt(&mut self, input: &[u8], check: &mut impl FnMut(&[u8]) -> Verdict, regression: Option<&Path>) {
        self.runs += 1;
        watch(Some((self.target, input)));
        let before = alloc::reset_peak();
        let outcome = catch_unwind(AssertUnwindSafe(|| check(input)));
        let growth = alloc::peak().saturating_sub(before);
        watch(None);
        self.peak_growth = self.peak_growth.max(growth);
        let failure = match outcome {
            Err(payload) => Some(format!("panicked: {}", panic_message(&*payload))),
            Ok(Err(message)) => Some(message),
            Ok(Ok(())) if growth > MEMORY_BOUND => Some(format!("allocated {} MiB at once", growth >> 20)),
            Ok(Ok(())) => None,
        };
        if let Some(failure) = failure {
            let saved = match regression {
                Some(path) => path.to_owned(),
                None => save(self.target, input),
            };
            self.findings.push(format!("  {}: {failure}", saved.display()));
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn regression_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/regressions").join(target);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    let mut inputs: Vec<_> = entries
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

/// Writes a failing input where a developer finds it, named by its content.
fn save(target: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:016x}", fnv(input)));
    std::fs::write(&path, input).unwrap();
    path
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The input being checked and since when, for the watchdog.
struct Running {
    target: &'static str,
    input: Vec<u8>,
    since: Instant,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

fn watch(running: Option<(&'static str, &[u8])>) {
    let running = running.map(|(target, input)| Running { target, input: input.to_vec(), since: Instant::now() });
    *RUNNING.lock().unwrap_or_else(PoisonError::into_inner) = running;
}

/// A check that never returns cannot be caught in-process: the watchdog saves its input and ends the binary.
fn start_watchdog() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(r) = running.as_ref().filter(|r| r.since.elapsed() > HANG_LIMIT) {
                    let path = save(r.target, &r.input);
                    eprintln!("fuzz {}: an input ran past {HANG_LIMIT:?}, saved to {}", r.target, path.display());
                    std::process::abort();
                }
            }
        });
    });
}
