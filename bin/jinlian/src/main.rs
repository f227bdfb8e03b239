//! `jinlian`: the command-line entry point of the Jinlian consortium blockchain.
//!
//! Subcommands so far: `keygen` (node and account keys for either crypto suite) and `sim`
//! (the deterministic consensus simulator). Later issues add `up`, `node`, `chain new`,
//! `console`, `bench` and the rest.

#![allow(clippy::print_stdout)] // a command-line program prints its results

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair};
use std::io::Write;
use std::path::{Path, PathBuf};

mod sim;

/// Jinlian (金链): a consortium blockchain with BFT finality, EVM contracts and both
/// secp256k1 and SM2/SM3 (国密) crypto.
#[derive(Debug, Parser)]
#[command(name = "jinlian", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a key pair and write it to a key file readable only by its owner.
    ///
    /// The same key serves as an account key (its address signs transactions) and as a
    /// node key (its 64-byte public key is the node id). The file is JSON:
    /// {"suite", "secret_key", "address", "node_id"}. An existing file is never overwritten.
    Keygen {
        /// Generate an SM2 key (国密: SM2 signatures, SM3 addresses) instead of secp256k1.
        #[arg(long)]
        sm: bool,
        /// Where to write the key file (`-` prints it to standard output instead).
        #[arg(long, short, value_name = "FILE", default_value = "key.json")]
        out: PathBuf,
        /// Print the address and node id as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the deterministic consensus simulator over a range of seeds.
    ///
    /// Each run drives N replicas of the real PBFT code through a safety phase with the
    /// chosen faults and Byzantine replicas, then heals the network and requires every honest
    /// replica to commit every transaction. Checkers verify agreement, prefix order,
    /// certificates, validity and equal state roots. One summary line per run; a failing run
    /// prints its violations and `SIM_SEED=<n>`, and the command exits non-zero.
    Sim {
        /// Seeds to run: `A..B` (B excluded) or a single number.
        #[arg(long, value_name = "A..B", default_value = "0..100", conflicts_with = "seed")]
        seeds: String,
        /// Run one seed (same as `--seeds N`).
        #[arg(long)]
        seed: Option<u64>,
        /// Number of sealers.
        #[arg(long, default_value_t = 4)]
        sealers: usize,
        /// Byzantine sealers (default: f = (sealers - 1) / 3, the most PBFT tolerates).
        #[arg(long)]
        byzantine: Option<usize>,
        /// Faults in the safety phase: comma-separated drop, dup, reorder, partition, crash,
        /// skew, or all / none.
        #[arg(long, default_value = "all")]
        faults: String,
        /// Transactions submitted per run.
        #[arg(long, default_value_t = 40)]
        txs: usize,
        /// Use the SM2/SM3 suite.
        #[arg(long)]
        sm: bool,
        /// Print only each run's trace hash (the same seed always gives the same hash).
        #[arg(long)]
        trace: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { sm, out, json } => keygen(sm, &out, json),
        Command::Sim { seeds, seed, sealers, byzantine, faults, txs, sm, trace } => {
            sim::run(sim::Args { seeds, seed, sealers, byzantine, faults, txs, sm, trace })
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn keygen(sm: bool, out: &Path, json: bool) -> Result<()> {
    let suite = if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
    let key = KeyPair::generate(suite, &mut rand::rng());
    let contents = KeyFile::new(&key).to_json();
    let to_stdout = out.as_os_str() == "-";
    if to_stdout {
        std::io::stdout().lock().write_all(contents.as_bytes())?;
    } else {
        write_private_file(out, contents.as_bytes())?;
    }
    let shown = if to_stdout { "standard output".to_string() } else { out.display().to_string() };
    let report = if json {
        serde_json::json!({
            "file": if to_stdout { serde_json::Value::Null } else { shown.clone().into() },
            "suite": suite.name(),
            "address": key.address().to_checksum(None),
            "node_id": key.public().to_hex(),
        })
        .to_string()
            + "\n"
    } else {
        format!(
            "wrote {shown} ({suite} key{})\naddress: {}\nnode id: {}\n",
            if to_stdout { "" } else { ", readable only by you" },
            key.address().to_checksum(None),
            key.public(),
        )
    };
    // With `--out -` the key file itself goes to stdout, so the summary goes to stderr.
    let printed = if to_stdout {
        std::io::stderr().lock().write_all(report.as_bytes())
    } else {
        std::io::stdout().lock().write_all(report.as_bytes())
    };
    printed
        .with_context(|| format!("the key was saved to {shown}, but printing its summary failed"))
}

/// Writes `path` with mode 0600, atomically, refusing to replace anything that exists. The
/// contents go to a temporary file in the same directory first and are hard-linked into
/// place, so a failed write (disk full) never leaves a partial key file behind.
fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    if path.is_dir() {
        bail!("{} is a directory; give the path of the key file to create", path.display());
    }
    if path.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; refusing to overwrite a key file (choose another path with --out)",
            path.display()
        );
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!("directory {} does not exist; create it first", parent.display());
    }
    let name = path.file_name().context("the key file path has no file name")?;
    let tmp = parent.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = write_new_file(&tmp, contents).and_then(|()| {
        std::fs::hard_link(&tmp, path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} already exists; refusing to overwrite a key file (choose another path with --out)",
                    path.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
            }
        })
    });
    // The temporary name is ours alone (create_new); remove it whatever happened.
    let _ = std::fs::remove_file(&tmp);
    result
}

fn write_new_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file =
        options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot sync {}", path.display()))?;
    Ok(())
}
