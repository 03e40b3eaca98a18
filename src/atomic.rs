//! Files that appear whole or not at all: every output is written under a temporary name in the same
//! directory (`.partial-<name>`, keeping the extension so format-sniffing writers such as the PNG
//! encoder still work), synced, then renamed over the final name. A run killed mid-write leaves at
//! most a `.partial-*` file, never a truncated `metrics.json`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The temporary name [`commit`] renames from.
pub fn partial_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".partial-{name}"))
}

/// Syncs the temporary file of `dest` and renames it over `dest`.
pub fn commit(dest: &Path) -> anyhow::Result<()> {
    let tmp = partial_path(dest);
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", tmp.display()))?;
    fs::rename(&tmp, dest)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), dest.display()))
}

/// Publishes the temporary file of `dest` under `dest` only if nothing has that name yet: a hard link,
/// which fails with `AlreadyExists` if the name exists (so a file that appeared meanwhile is not
/// clobbered either). The temporary file is removed either way.
pub fn commit_new(dest: &Path) -> std::io::Result<()> {
    let tmp = partial_path(dest);
    let linked = fs::hard_link(&tmp, dest);
    let _ = fs::remove_file(&tmp);
    linked
}

/// Writes `bytes` to `dest` atomically.
pub fn write(dest: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = partial_path(dest);
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    commit(dest)
}

/// A buffered writer to `dest`'s temporary file; [`AtomicFile::commit`] publishes it.
pub struct AtomicFile {
    dest: PathBuf,
    out: BufWriter<fs::File>,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> anyhow::Result<AtomicFile> {
        let tmp = partial_path(dest);
        let file =
            fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            out: BufWriter::new(file),
        })
    }

    pub fn commit(mut self) -> anyhow::Result<PathBuf> {
        self.out
            .flush()
            .with_context(|| format!("cannot write {}", self.dest.display()))?;
        commit(&self.dest)?;
        Ok(self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_under_the_final_name_before_commit() {
        let dir = std::env::temp_dir().join(format!("gpulstm-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("metrics.json");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"{}").unwrap();
        assert!(!dest.exists() && partial_path(&dest).exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"{}");
        assert!(!partial_path(&dest).exists());
        write(&dest, b"[]").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"[]");
        fs::remove_dir_all(&dir).unwrap();
    }
}
