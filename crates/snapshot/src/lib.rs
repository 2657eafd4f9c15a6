//! A snapshot directory: `k8s/` manifests, `metrics/` OpenMetrics files (plain, or gzip-compressed as `.gz`: the
//! labels repeated on every sample line compress about twentyfold) and an optional `snapshot.yaml` with the moment
//! and cluster it shows. The offline source every command can read.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufWriter, Read};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use serde::Deserialize;
use serde_json::Value;

use meshlens_engine::inventory::{DEFAULT_CLUSTER, Inventory};
use meshlens_k8s::document::Format;
use meshlens_k8s::load::{LoadReport, Loader};

/// `snapshot.yaml`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotMeta {
    /// The moment the snapshot shows; the default evaluation time of its telemetry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<jiff::Timestamp>,
    /// The cluster name telemetry uses (`source_cluster` / `destination_cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// How much telemetry a capture holds before `time` (`10m`): longer windows asked of it are extrapolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

impl SnapshotMeta {
    pub fn cluster(&self) -> &str {
        self.cluster.as_deref().unwrap_or(DEFAULT_CLUSTER)
    }
}

/// A loaded snapshot directory.
#[derive(Debug)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub meta: SnapshotMeta,
    pub inventory: Inventory,
    pub report: LoadReport,
    /// OpenMetrics files under `metrics/`, sorted.
    pub metrics_files: Vec<PathBuf>,
}

/// Why a directory cannot be read as a snapshot at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot directory {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a directory (a snapshot is a directory with k8s/, metrics/ and snapshot.yaml)")]
    NotADirectory(PathBuf),
    #[error("cannot read {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    OverBudget(#[from] meshlens_k8s::load::OverBudget),
    #[error("{path} is {what}, not a regular file: a snapshot holds regular files only (copy the file in instead)")]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("cannot write {path}: {source}")]
    Unwritable { path: PathBuf, source: std::io::Error },
    #[error("cannot render {what}: {message}")]
    Render { what: String, message: String },
    #[error("{path}: {message} (expected `time: <RFC 3339>` and `cluster: <name>`)")]
    BadMeta { path: PathBuf, message: String },
}

/// Loads a snapshot directory. Manifests come from `DIR/k8s/` or, when there is none, from `DIR` itself (a
/// folder of `kubectl get -o yaml` output works as is). Broken documents are reported, not fatal.
pub fn load(dir: &Path) -> Result<Snapshot, SnapshotError> {
    match fs::metadata(dir) {
        Err(_) => return Err(SnapshotError::Missing(dir.to_owned())),
        Ok(m) if !m.is_dir() => return Err(SnapshotError::NotADirectory(dir.to_owned())),
        Ok(_) => {}
    }
    let meta = read_meta(&dir.join("snapshot.yaml"))?;
    let k8s_dir = dir.join("k8s");
    let manifest_root = if k8s_dir.is_dir() { k8s_dir } else { dir.to_owned() };
    let mut loader = Loader::new();
    for path in files_under(&manifest_root)? {
        let Some(format) = Format::from_path(&path) else {
            continue;
        };
        if path.file_name().is_some_and(|n| n == "snapshot.yaml") {
            continue;
        }
        let label = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
        match fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => loader.add_text(&label, &text, format)?,
                Err(_) => loader.add_problem(&label, "not UTF-8 text".into()),
            },
            Err(err) => loader.add_problem(&label, err.to_string()),
        }
    }
    let metrics_dir = dir.join("metrics");
    let metrics_files = if metrics_dir.is_dir() { files_under(&metrics_dir)? } else { Vec::new() };
    let (objects, report) = loader.finish();
    let inventory = Inventory::new(meta.cluster(), objects);
    Ok(Snapshot { dir: dir.to_owned(), meta, inventory, report, metrics_files })
}

fn read_meta(path: &Path) -> Result<SnapshotMeta, SnapshotError> {
    if let Ok(meta) = fs::symlink_metadata(path)
        && !meta.is_file()
    {
        return Err(SnapshotError::NotRegular { path: path.to_owned(), what: special_kind(&meta.file_type()) });
    }
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(SnapshotMeta::default());
        }
        Err(source) => {
            return Err(SnapshotError::Unreadable { path: path.to_owned(), source });
        }
    };
    if text.trim().is_empty() {
        return Ok(SnapshotMeta::default());
    }
    serde_saphyr::from_str(&text)
        .map_err(|err| SnapshotError::BadMeta { path: path.to_owned(), message: err.without_snippet().to_string() })
}

/// Manifests as snapshot files, the way `kubectl get -o yaml` prints them: one multi-document file per namespace
/// (`<namespace>.yaml`), cluster-scoped objects in `cluster.yaml`; or `kubectl get -o json` Lists
/// (`<namespace>.json`), which large worlds read faster.
pub fn manifest_files(
    objects: &[Value],
    format: Format,
) -> Result<BTreeMap<String, String>, serde_saphyr::SerializeError> {
    let extension = match format {
        Format::Json => "json",
        Format::Yaml => "yaml",
    };
    let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for object in objects {
        let group = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("cluster");
        groups.entry(format!("{group}.{extension}")).or_default().push(object);
    }
    let mut files = BTreeMap::new();
    for (file, objects) in groups {
        let text = match format {
            Format::Json => {
                let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
                serde_json::to_string(&list).unwrap_or_default()
            }
            Format::Yaml => {
                let mut text = String::new();
                for object in objects {
                    text.push_str("---\n");
                    text.push_str(&serde_saphyr::to_string(object)?);
                }
                text
            }
        };
        files.insert(file, text);
    }
    Ok(files)
}

/// Writes a snapshot directory that [`load`] reads back.
pub struct Writer {
    dir: PathBuf,
}

impl Writer {
    /// Creates `dir` with its `k8s/` and `metrics/` folders.
    pub fn create(dir: &Path) -> Result<Writer, SnapshotError> {
        for sub in ["k8s", "metrics"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|source| SnapshotError::Unwritable { path, source })?;
        }
        Ok(Writer { dir: dir.to_owned() })
    }

    /// Writes manifest files (as [`manifest_files`] names them) under `k8s/`.
    pub fn manifests(&self, files: &BTreeMap<String, String>) -> Result<(), SnapshotError> {
        for (file, text) in files {
            self.write(&self.dir.join("k8s").join(file), text)?;
        }
        Ok(())
    }

    /// Opens `metrics/<name>` for an OpenMetrics stream.
    pub fn metrics_file(&self, name: &str) -> Result<(PathBuf, BufWriter<fs::File>), SnapshotError> {
        let path = self.dir.join("metrics").join(name);
        match fs::File::create(&path) {
            Ok(file) => Ok((path, BufWriter::new(file))),
            Err(source) => Err(SnapshotError::Unwritable { path, source }),
        }
    }

    /// Opens `metrics/<name>.gz` for an OpenMetrics stream compressed on the way (fast level: a capture is
    /// dominated by repeated labels, which compress well even so).
    pub fn compressed_metrics_file(
        &self,
        name: &str,
    ) -> Result<(PathBuf, GzEncoder<BufWriter<fs::File>>), SnapshotError> {
        let (path, file) = self.metrics_file(&format!("{name}.gz"))?;
        Ok((path, GzEncoder::new(file, flate2::Compression::fast())))
    }

    /// Writes `snapshot.yaml`.
    pub fn meta(&self, meta: &SnapshotMeta) -> Result<(), SnapshotError> {
        let path = self.dir.join("snapshot.yaml");
        let text = serde_saphyr::to_string(meta)
            .map_err(|e| SnapshotError::Render { what: path.display().to_string(), message: e.to_string() })?;
        self.write(&path, &text)
    }

    fn write(&self, path: &Path, text: &str) -> Result<(), SnapshotError> {
        fs::write(path, text).map_err(|source| SnapshotError::Unwritable { path: path.to_owned(), source })
    }
}

/// How many times its own size a `.gz` metrics file may inflate to. Metrics compress thirty to a hundredfold
/// (every sample line repeats its labels; captures, written fast, about thirtyfold; `gzip -9` of simulated
/// series a hundredfold); a compression bomb inflates several hundred to a thousandfold (deflate's limit).
pub const MAX_INFLATION: u64 = 200;

/// A `metrics/` file as a stream, decompressed when its name ends in `.gz` (every member of the file, as `pigz`
/// and concatenated files have several), failing once it inflates past [`MAX_INFLATION`] times its size.
pub fn open_metrics(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let file = fs::File::open(path)?;
    if path.extension().is_none_or(|e| e != "gz") {
        return Ok(Box::new(std::io::BufReader::new(file)));
    }
    let size = file.metadata()?.len();
    let cap = size.saturating_mul(MAX_INFLATION).max(1 << 20);
    let inflated = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
    Ok(Box::new(std::io::BufReader::new(Capped { inner: inflated, left: cap, cap })))
}

/// The text of a `metrics/` file, decompressed (see [`open_metrics`]).
pub fn read_metrics(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    open_metrics(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// A reader that fails after `cap` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            let message = format!("inflates to more than {} bytes ({MAX_INFLATION} times its size)", self.cap);
            std::io::Error::new(std::io::ErrorKind::InvalidData, message)
        })?;
        Ok(n)
    }
}

/// Every file below `root`, depth first, sorted by path so loading order (and duplicate resolution) is stable.
/// Only regular files are read: anything else (a symbolic link, which could lead to `/dev/zero`; a FIFO, which
/// blocks a reader forever; a device or socket) is not opened and refuses the snapshot, naming it.
fn files_under(root: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|source| SnapshotError::Unreadable { path: dir.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| SnapshotError::Unreadable { path: dir.clone(), source })?;
            let path = entry.path();
            let file_type =
                entry.file_type().map_err(|source| SnapshotError::Unreadable { path: path.clone(), source })?;
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file() {
                out.push(path);
            } else {
                return Err(SnapshotError::NotRegular { path, what: special_kind(&file_type) });
            }
        }
    }
    out.sort();
    Ok(out)
}

fn special_kind(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    match file_type {
        t if t.is_dir() => "a directory",
        t if t.is_symlink() => "a symbolic link",
        t if t.is_fifo() => "a FIFO",
        t if t.is_socket() => "a socket",
        t if t.is_block_device() || t.is_char_device() => "a device",
        _ => "a special file",
    }
}
