//! Deterministic names and ids shaped like the ones Kubernetes generates (pod-template hashes, pod suffixes, uids,
//! pod IPs), all drawn from one seeded generator so a seed always gives the same world.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Kubernetes' alphabet for generated name suffixes and pod-template hashes (no vowels, no look-alikes).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub struct Ids {
    rng: ChaCha8Rng,
    next_ip: u32,
}

impl Ids {
    pub fn new(seed: u64) -> Ids {
        Ids { rng: ChaCha8Rng::seed_from_u64(seed), next_ip: 0 }
    }

    fn safe_string(&mut self, len: usize) -> String {
        (0..len).map(|_| SAFE_ALPHABET[self.rng.random_range(0..SAFE_ALPHABET.len())] as char).collect()
    }

    /// A pod-template hash (9 or 10 characters, as Deployments and Rollouts produce).
    pub fn hash(&mut self) -> String {
        let len = self.rng.random_range(9..=10);
        self.safe_string(len)
    }

    /// The 5-character suffix of a generated pod name.
    pub fn pod_suffix(&mut self) -> String {
        self.safe_string(5)
    }

    /// A random (version 4) uid.
    pub fn uid(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
            (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
            u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
        )
    }

    /// The next pod IP of the cluster's pod range (10.16.0.0/12).
    pub fn pod_ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!("10.{}.{}.{}", 16 + (n >> 16) % 16, (n >> 8) & 0xff, n & 0xff)
    }

    /// A number in `range`, for choices scenarios make (which node, which callee).
    pub fn pick(&mut self, range: std::ops::Range<usize>) -> usize {
        self.rng.random_range(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let (mut a, mut b) = (Ids::new(7), Ids::new(7));
        assert_eq!((a.hash(), a.uid(), a.pod_suffix()), (b.hash(), b.uid(), b.pod_suffix()));
        let mut c = Ids::new(8);
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn ids_have_kubernetes_shapes() {
        let mut ids = Ids::new(1);
        let hash = ids.hash();
        assert!((9..=10).contains(&hash.len()) && hash.bytes().all(|c| SAFE_ALPHABET.contains(&c)));
        let uid = ids.uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(uid.get(14..15), Some("4"));
        assert_eq!(ids.pod_ip(), "10.16.0.1");
    }
}
