//! Mutations: byte-level (bit flips, interesting bytes and numbers, cut, copy, splice, repeat, dictionary
//! tokens) for any text, and tree-level (replace, drop, copy, nest, retype) for JSON-shaped documents, so inputs
//! get past the parsers into the code that uses what they decoded.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

/// The largest input a mutation makes: big enough to cross every line and document limit's neighbourhood, small
/// enough for thousands of runs a minute.
pub const MAX_INPUT: usize = 256 << 10;

/// Strings that have broken parsers and views elsewhere: control and bidi characters, numbers at their types'
/// edges, syntax of the formats read.
pub const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{1b}]0;pwned\u{7}\u{1b}[2J",
    "a\nb",
    "\r",
    "\u{202e}evil",
    "\u{2066}x\u{2069}",
    "\u{0}",
    "é",
    "😀",
    "-",
    "unknown",
    "0",
    "-1",
    "NaN",
    "+Inf",
    "-Inf",
    "1e309",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "200000000000d",
    "2026-11-25T10:00:00Z",
    "{",
    "}",
    "\"",
    "\\",
    ",",
    "=",
    "*",
    "&a",
    "*a",
    "---",
    "# EOF",
    "%",
    "%ff",
    "..",
    "../../etc/passwd",
];

pub struct Mutator<'s> {
    seeds: &'s [Vec<u8>],
    dictionary: Vec<&'s [u8]>,
}

impl<'s> Mutator<'s> {
    /// Mutates `seeds`, splicing between them and inserting `tokens` and [`HOSTILE_STRINGS`].
    pub fn new(seeds: &'s [Vec<u8>], tokens: &'s [&'s str]) -> Mutator<'s> {
        assert!(!seeds.is_empty(), "a campaign needs seeds");
        let dictionary = tokens.iter().chain(HOSTILE_STRINGS).map(|t| t.as_bytes()).collect();
        Mutator { seeds, dictionary }
    }

    pub fn seed(&self, rng: &mut ChaCha8Rng) -> &'s [u8] {
        &self.seeds[rng.random_range(0..self.seeds.len())]
    }

    /// A seed with one to eight byte-level mutations stacked.
    pub fn bytes(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let mut data = self.seed(rng).to_vec();
        self.stack(rng, &mut data);
        data
    }

    /// One to eight byte-level mutations of `data`.
    pub fn stack(&self, rng: &mut ChaCha8Rng, data: &mut Vec<u8>) {
        for _ in 0..rng.random_range(1..=8) {
            self.once(rng, data);
        }
        data.truncate(MAX_INPUT);
    }

    fn once(&self, rng: &mut ChaCha8Rng, data: &mut Vec<u8>) {
        let at = |rng: &mut ChaCha8Rng, data: &Vec<u8>| rng.random_range(0..=data.len());
        match rng.random_range(0..9) {
            0 if !data.is_empty() => {
                let i = rng.random_range(0..data.len());
                data[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !data.is_empty() => {
                const INTERESTING: &[u8] = b"\0\x1b\x7f\xff\n\r\t \"'\\{}[]:,=#&*-!|>%";
                let i = rng.random_range(0..data.len());
                data[i] = INTERESTING[rng.random_range(0..INTERESTING.len())];
            }
            2 => {
                let (start, end) = range(rng, data.len(), 64);
                data.drain(start..end);
            }
            3 => {
                let (start, end) = range(rng, data.len(), 256);
                let copy = data[start..end].to_vec();
                let to = at(rng, data);
                data.splice(to..to, copy);
            }
            4 => {
                let token = self.dictionary[rng.random_range(0..self.dictionary.len())];
                let to = at(rng, data);
                data.splice(to..to, token.iter().copied());
            }
            5 => {
                let other = self.seed(rng);
                let (start, end) = range(rng, other.len(), 4096);
                let (cut_start, cut_end) = range(rng, data.len(), 4096);
                data.splice(cut_start..cut_end, other[start..end].iter().copied());
            }
            6 => {
                let (start, end) = range(rng, data.len(), 64);
                let piece = data[start..end].to_vec();
                let times = rng.random_range(2..=512);
                let repeated = piece.repeat(times);
                data.splice(end..end, repeated);
            }
            7 => replace_number(rng, data),
            _ => {
                let to = at(rng, data);
                data.truncate(to);
            }
        }
    }
}

/// A random range of at most `longest` bytes within `len`.
fn range(rng: &mut ChaCha8Rng, len: usize, longest: usize) -> (usize, usize) {
    let start = rng.random_range(0..=len);
    let end = start + rng.random_range(0..=longest.min(len - start));
    (start, end)
}

/// Replaces a run of digits with a number at some type's edge.
fn replace_number(rng: &mut ChaCha8Rng, data: &mut Vec<u8>) {
    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "-1",
        "1e309",
        "-1e309",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "0.000000001",
        "NaN",
        "Inf",
        "99999999999999999999999999",
    ];
    let digits: Vec<usize> = data.iter().enumerate().filter(|(_, b)| b.is_ascii_digit()).map(|(i, _)| i).collect();
    let Some(&start) = digits.get(rng.random_range(0..digits.len().max(1))) else { return };
    let end = data[start..].iter().position(|b| !b.is_ascii_digit()).map_or(data.len(), |n| start + n);
    let number = NUMBERS[rng.random_range(0..NUMBERS.len())];
    data.splice(start..end, number.bytes());
}

/// Applies one to six tree mutations to `doc`, taking replacement subtrees from `donors` and kind names from
/// `kinds` (`(apiVersion, kind)`).
pub fn tree(rng: &mut ChaCha8Rng, doc: &mut Value, donors: &[Value], kinds: &[(&str, &str)]) {
    for _ in 0..rng.random_range(1..=6) {
        let paths = paths_of(doc);
        let path = &paths[rng.random_range(0..paths.len())];
        let Some(node) = doc.pointer_mut(path) else { continue };
        match rng.random_range(0..10) {
            0..=2 => *node = hostile_scalar(rng),
            3 => *node = if rng.random_bool(0.5) { Value::Array(Vec::new()) } else { Value::Object(Map::new()) },
            4 => {
                if let Value::Object(map) = node
                    && !map.is_empty()
                {
                    let key = map.keys().nth(rng.random_range(0..map.len())).cloned().unwrap_or_default();
                    map.remove(&key);
                }
            }
            5 => {
                let donor = &donors[rng.random_range(0..donors.len())];
                let donor_paths = paths_of(donor);
                if let Some(subtree) = donor.pointer(&donor_paths[rng.random_range(0..donor_paths.len())]) {
                    *node = subtree.clone();
                }
            }
            6 => {
                for _ in 0..rng.random_range(1..=100) {
                    *node = Value::Array(vec![node.take()]);
                }
            }
            7 => {
                if let Value::Array(items) = node
                    && let Some(first) = items.first().cloned()
                {
                    items.extend(std::iter::repeat_n(first, rng.random_range(1..=50)));
                }
            }
            8 => {
                let (api_version, kind) = kinds[rng.random_range(0..kinds.len())];
                if let Value::Object(map) = doc {
                    map.insert("apiVersion".into(), api_version.into());
                    map.insert("kind".into(), kind.into());
                }
            }
            _ => {
                if let Value::Object(map) = node {
                    let key = HOSTILE_STRINGS[rng.random_range(0..HOSTILE_STRINGS.len())];
                    map.insert(key.into(), hostile_scalar(rng));
                }
            }
        }
    }
}

fn hostile_scalar(rng: &mut ChaCha8Rng) -> Value {
    const EDGES: &[i64] = &[
        -1,
        0,
        1,
        2,
        99,
        100,
        101,
        65_536,
        i32::MAX as i64,
        i32::MIN as i64,
        i32::MAX as i64 + 1,
        u32::MAX as i64,
        i64::MAX,
        i64::MIN,
    ];
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => Value::Bool(rng.random_bool(0.5)),
        2 => Value::from(rng.random::<i64>()),
        10 | 11 => Value::from(EDGES[rng.random_range(0..EDGES.len())]),
        3 => serde_json::Number::from_f64(rng.random::<f64>() * 1e12).map_or(Value::Null, Value::Number),
        4 => Value::from("x".repeat(rng.random_range(0..70_000))),
        _ => Value::from(HOSTILE_STRINGS[rng.random_range(0..HOSTILE_STRINGS.len())]),
    }
}

/// JSON pointers of every node of `doc`, the root included.
fn paths_of(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), doc)];
    while let Some((path, node)) = stack.pop() {
        match node {
            Value::Object(map) => {
                for (k, v) in map {
                    stack.push((format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")), v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{path}/{i}"), v));
                }
            }
            _ => {}
        }
        out.push(path);
    }
    out
}
