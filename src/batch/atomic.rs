//! Output files written atomically: everything goes to a temporary file in
//! the target's directory, renamed over the target only when the run has
//! succeeded. An interrupted or failed run never leaves a half-written file
//! under the target name (the temporary file is removed when dropped).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A file being written under a temporary name next to its target.
pub struct AtomicFile {
    inner: BufWriter<NamedTempFile>,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts writing `target` (nothing appears under that name yet).
    pub fn create(target: &Path) -> io::Result<Self> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".crampcheck-")
            .suffix(".part")
            .tempfile_in(dir)?;
        Ok(AtomicFile {
            inner: BufWriter::with_capacity(1 << 16, tmp),
            target: target.to_path_buf(),
        })
    }

    /// The target path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the file onto its target.
    pub fn commit(self) -> io::Result<File> {
        let tmp = self
            .inner
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
