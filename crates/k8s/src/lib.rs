//! Kubernetes objects as meshlens reads them: the table of kinds, their typed forms, and turning manifest files
//! into them.

/// `Display` and `Serialize` for a closed set written as words: its text is its `as_str()`. With `ordered`, it also
/// orders by that text, as listings sort kinds and codes.
#[macro_export]
macro_rules! written_as_text {
    ($ty:ty) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
    ($ty:ty, ordered) => {
        $crate::written_as_text!($ty);

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &$ty) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $ty {
            fn cmp(&self, other: &$ty) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }
    };
}

pub mod annotations;
pub mod apps;
pub mod argo;
pub mod batch;
pub mod core;
pub mod deadline;
pub mod document;
pub mod flagger;
pub mod gateway;
pub mod gateway_plugin;
pub mod istio;
pub mod kinds;
pub mod live;
pub mod load;
pub mod meta;
pub mod object;
pub mod status;
pub mod yaml_list;

use serde::Deserialize;

pub use kinds::{Kind, KindName, Object, Resource};
pub use meta::{ObjectMeta, OwnerReference};

/// Reads `null` (or an empty YAML value) as the field's default: manifests write `matches:` or `rules: null`
/// where they mean none.
pub(crate) fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// RFC 1123 label: what Kubernetes accepts as a namespace name.
pub fn is_namespace_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// What an object name, an app or a version can be: letters, digits, `-`, `_` and `.` (Kubernetes object names
/// and label values), at most 253 characters.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kubernetes_namespace_names_pass() {
        for ok in ["bookinfo", "a", "team-1", "x9"] {
            assert!(is_namespace_name(ok), "{ok}");
        }
        for bad in ["", "Book", "a\"b", "a}b", "a.*", "a|b", "-a", "a-", "a b", &"x".repeat(64)] {
            assert!(!is_namespace_name(bad), "{bad}");
        }
    }
}
