//! One shared copy of each distinct string: telemetry repeats the same few label names and values thousands of
//! times, and shared copies save memory and keep the strings a graph reads close together.

use std::collections::HashSet;
use std::sync::Arc;

#[derive(Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
        shared
    }
}
