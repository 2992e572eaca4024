//! Local-directory adapter: the embedded default for local runs, with the same conditional
//! semantics as S3 across threads and processes.
//!
//! Create-once: the content is written to a temporary file and hard-linked into place, which
//! fails atomically when the name exists. Compare-and-swap: under an exclusive lock on a
//! per-key lock file, the current content's tag is compared, then a temporary file is renamed
//! over the object (atomic on POSIX file systems). Readers never see a partial object.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::memory::etag_of;
use crate::{Condition, Etag, Object, ObjectStore, StoreError, check_key};

/// Objects as files under a root directory (`<root>/<key>`); bookkeeping lives in
/// `<root>/.mc-tmp` and `<root>/.mc-locks`.
#[derive(Debug, Clone)]
pub struct DirObjectStore {
    root: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl DirObjectStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirObjectStore { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn temp(&self) -> Result<PathBuf, StoreError> {
        let dir = self.root.join(".mc-tmp");
        fs::create_dir_all(&dir).map_err(StoreError::backend)?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("{}-{n}", std::process::id())))
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let tmp = self.temp()?;
        let mut f = File::create(&tmp).map_err(StoreError::backend)?;
        f.write_all(bytes).map_err(StoreError::backend)?;
        f.sync_all().map_err(StoreError::backend)?;
        Ok(tmp)
    }

    fn lock(&self, key: &str) -> Result<File, StoreError> {
        let path = self.root.join(".mc-locks").join(format!("{key}.lock"));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(StoreError::backend)?;
        }
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::backend)?;
        f.lock().map_err(StoreError::backend)?;
        Ok(f)
    }

    fn get_blocking(&self, key: &str) -> Result<Option<Object>, StoreError> {
        match fs::read(self.path(key)?) {
            Ok(bytes) => {
                let etag = etag_of(&bytes);
                Ok(Some(Object { bytes, etag }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::backend(e)),
        }
    }

    fn put_new_blocking(&self, key: &str, bytes: &[u8]) -> Result<Etag, StoreError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(StoreError::backend)?;
        }
        let tmp = self.write_temp(bytes)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(etag_of(bytes)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                Err(StoreError::Conflict { key: key.into() })
            }
            Err(e) => Err(StoreError::backend(e)),
        }
    }

    fn put_if_match_blocking(
        &self,
        key: &str,
        bytes: &[u8],
        etag: &Etag,
    ) -> Result<Etag, StoreError> {
        let path = self.path(key)?;
        let _lock = self.lock(key)?;
        let current = match fs::read(&path) {
            Ok(b) => etag_of(&b),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StoreError::Conflict { key: key.into() });
            }
            Err(e) => return Err(StoreError::backend(e)),
        };
        if &current != etag {
            return Err(StoreError::Conflict { key: key.into() });
        }
        let tmp = self.write_temp(bytes)?;
        fs::rename(&tmp, &path).map_err(StoreError::backend)?;
        Ok(etag_of(bytes))
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out)?;
        out.retain(|k| k.starts_with(prefix));
        out.sort();
        Ok(out)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::backend(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::backend)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(".mc-") {
            continue;
        }
        if entry.file_type().map_err(StoreError::backend)?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(StoreError::backend)?
}

impl ObjectStore for DirObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let (s, k) = (self.clone(), key.to_string());
        blocking(move || s.get_blocking(&k)).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
        condition: Condition<'_>,
    ) -> Result<Etag, StoreError> {
        let (s, k) = (self.clone(), key.to_string());
        match condition {
            Condition::Absent => blocking(move || s.put_new_blocking(&k, &bytes)).await,
            Condition::Matches(etag) => {
                let e = etag.clone();
                blocking(move || s.put_if_match_blocking(&k, &bytes, &e)).await
            }
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let (s, p) = (self.clone(), prefix.to_string());
        blocking(move || s.list_blocking(&p)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::backend(e)),
        })
        .await
    }
}
