//! Output files written atomically: everything goes to a temporary file in
//! the target's directory, renamed over the target only when the run has
//! succeeded. An interrupted or failed run never leaves a half-written file
//! under the target name (the temporary file is removed when dropped).
//! A target that exists and is not a regular file (`/dev/null`, a FIFO, a
//! terminal) is written directly: renaming over it would replace the device
//! or pipe with a plain file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;

/// Every temporary file made by [`temp_beside`] in this process, so that an
/// interrupted run can remove them ([`remove_temporary_files`]): a signal
/// ends the process without running destructors.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary files of outputs not yet renamed onto their
/// targets (a file already renamed is no longer under its temporary name).
/// Called when the run is interrupted.
pub fn remove_temporary_files() {
    let paths = match TEMPORARY.lock() {
        Ok(paths) => paths.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

enum Sink {
    /// A temporary file renamed over the target on commit.
    Temp(BufWriter<NamedTempFile>),
    /// A device or pipe written in place.
    Direct(BufWriter<File>),
}

/// A file being written under a temporary name next to its target.
pub struct AtomicFile {
    sink: Sink,
    target: PathBuf,
}

/// Whether `target` exists and is neither a regular file nor a directory (a
/// device, a FIFO, a terminal): such a target is written in place.
pub fn is_special(target: &Path) -> bool {
    std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The file an output path names. A symbolic link is followed, so that the
/// file it points to is replaced rather than the link; a link to a device or
/// pipe (`/dev/stdout`) is kept, as such a target is written in place
/// through it. A link that leads nowhere is an error.
pub fn resolve_target(target: &Path) -> io::Result<PathBuf> {
    let is_link = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link || is_special(target) {
        return Ok(target.to_path_buf());
    }
    std::fs::canonicalize(target).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "{} is a symbolic link that leads nowhere ({e})",
                target.display()
            ),
        )
    })
}

/// The absolute path of the regular file `path` names or would name, to
/// tell whether two paths are the same file; `None` for a device or pipe,
/// which several outputs may share (`/dev/null`).
pub fn identity(path: &Path) -> Option<PathBuf> {
    if is_special(path) {
        return None;
    }
    std::fs::canonicalize(path).ok().or_else(|| {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
    })
}

/// Whether `path` is the file or pipe standard output writes to (not a
/// terminal or `/dev/null`, where outputs may meet): `/dev/stdout`, or the
/// file the shell redirected standard output to. An output there would be
/// mixed into, or replace, what goes to standard output.
#[cfg(unix)]
pub fn is_stdout(path: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(target) = std::fs::metadata(path) else {
        return false;
    };
    let Ok(stdout) = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
    else {
        return false;
    };
    !stdout.file_type().is_char_device()
        && (target.dev(), target.ino()) == (stdout.dev(), stdout.ino())
}

/// Whether `path` is the file or pipe standard output writes to; not
/// known on this platform.
#[cfg(not(unix))]
pub fn is_stdout(_path: &Path) -> bool {
    false
}

/// A new temporary file in `target`'s directory, named so it is plainly
/// not the finished output; it is removed when dropped unless persisted.
/// It gets the target's permissions when the target exists, otherwise those
/// of any new file (read-write for all, less the umask), so the finished
/// output is as readable as a file the shell would have written.
pub fn temp_beside(target: &Path) -> io::Result<NamedTempFile> {
    let dir = folder_of(target);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".crampcheck-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir)?;
    if let Ok(mut paths) = TEMPORARY.lock() {
        paths.push(file.path().to_path_buf());
    }
    if let Ok(existing) = std::fs::metadata(target) {
        file.as_file().set_permissions(existing.permissions())?;
    }
    Ok(file)
}

/// The folder `target` is or would be in.
pub fn folder_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Starts writing `target` (nothing appears under that name yet).
    pub fn create(target: &Path) -> io::Result<Self> {
        let sink = if is_special(target) {
            Sink::Direct(BufWriter::with_capacity(
                1 << 16,
                std::fs::OpenOptions::new().write(true).open(target)?,
            ))
        } else {
            Sink::Temp(BufWriter::with_capacity(1 << 16, temp_beside(target)?))
        };
        Ok(AtomicFile {
            sink,
            target: target.to_path_buf(),
        })
    }

    /// The target path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the file onto its target (or, for a device
    /// or pipe, just flushes it).
    pub fn commit(self) -> io::Result<()> {
        match self.sink {
            Sink::Temp(inner) => {
                let tmp = inner.into_inner().map_err(io::IntoInnerError::into_error)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&self.target).map_err(|e| e.error)?;
            }
            Sink::Direct(mut inner) => inner.flush()?,
        }
        Ok(())
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Temp(w) => w,
            Sink::Direct(w) => w,
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}
