//! `jinlian`: the command-line entry point of the Jinlian consortium blockchain.
//!
//! Subcommands so far: `keygen` (node and account keys for either crypto suite). Later
//! issues add `up`, `node`, `chain new`, `console`, `bench` and the rest.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair};
use std::io::Write;
use std::path::{Path, PathBuf};

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
        /// Where to write the key file.
        #[arg(long, short, value_name = "FILE", default_value = "key.json")]
        out: PathBuf,
        /// Print the address and node id as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen { sm, out, json } => keygen(sm, &out, json),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn keygen(sm: bool, out: &Path, json: bool) -> Result<()> {
    let suite = if sm {
        CryptoSuite::Sm
    } else {
        CryptoSuite::Ecdsa
    };
    let key = KeyPair::generate(suite, &mut rand::rng());
    write_private_file(out, KeyFile::new(&key).to_json().as_bytes())?;
    let mut stdout = std::io::stdout().lock();
    if json {
        let info = serde_json::json!({
            "file": out.display().to_string(),
            "suite": suite.name(),
            "address": key.address().to_checksum(None),
            "node_id": key.public().to_hex(),
        });
        writeln!(stdout, "{info}")?;
    } else {
        writeln!(
            stdout,
            "wrote {} ({} key, readable only by you)",
            out.display(),
            suite
        )?;
        writeln!(stdout, "address: {}", key.address().to_checksum(None))?;
        writeln!(stdout, "node id: {}", key.public())?;
    }
    Ok(())
}

/// Creates `path` with mode 0600, refusing to replace an existing file.
fn write_private_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists; refusing to overwrite a key file (choose another path with --out)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))?;
    Ok(())
}
