//! Writing generated files safely: never over an existing file, atomically, and private keys
//! readable only by their owner.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `path` with mode 0600, atomically, refusing to replace anything that exists. The
/// contents go to a temporary file in the same directory first and are hard-linked into
/// place, so a failed write (disk full) never leaves a partial file behind.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    write_file(path, contents, 0o600)
}

/// As [`write_private_file`], readable by everyone (certificates, genesis, configuration).
pub fn write_public_file(path: &Path, contents: &[u8]) -> Result<()> {
    write_file(path, contents, 0o644)
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    if path.is_dir() {
        bail!("{} is a directory; give the path of the file to create", path.display());
    }
    if path.symlink_metadata().is_ok() {
        bail!("{} already exists; refusing to overwrite it", path.display());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!("directory {} does not exist; create it first", parent.display());
    }
    let name = path.file_name().context("the path has no file name")?;
    let tmp = parent.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = write_new_file(&tmp, contents, mode).and_then(|()| {
        std::fs::hard_link(&tmp, path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!("{} already exists; refusing to overwrite it", path.display())
            } else {
                anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
            }
        })
    });
    // The temporary name is ours alone (create_new); remove it whatever happened.
    let _ = std::fs::remove_file(&tmp);
    result
}

fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file =
        options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    Ok(())
}
