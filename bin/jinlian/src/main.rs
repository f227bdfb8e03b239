//! `jinlian`: the command-line entry point of the Jinlian consortium blockchain.
//!
//! Subcommands: `keygen` (node and account keys for either crypto suite), `chain new` and
//! `chain add-node` (a chain's CAs, certificates, keys, genesis and configurations for real
//! hosts), `node` (run a node), `up` (a local chain), the client commands `tx`, `sys`,
//! `sealer`, `cns`, `proof` and the interactive `console`, and `sim` (the deterministic
//! consensus simulator).

#![allow(clippy::print_stdout)] // a command-line program prints its results

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair};
use std::io::Write;
use std::path::{Path, PathBuf};

mod bench;
mod chain_cmd;
mod client_cmd;
mod sim;
mod up;

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
    /// Generate and extend chains for real hosts (CAs, node certificates, keys, genesis,
    /// configuration).
    #[command(subcommand)]
    Chain(chain_cmd::ChainCommand),
    /// Start a local chain: sealers and observers on 127.0.0.1 as child processes, the first
    /// block committed, then the JSON-RPC, explorer and metrics addresses, chain id and funded
    /// dev keys printed.
    /// Ctrl-C stops the nodes cleanly; the same command later resumes the same chain (the
    /// other flags apply only when --dir is first generated; an existing chain keeps its
    /// nodes, suite, ports and block interval).
    Up {
        /// Directory of the chain (generated on first use, reused afterwards).
        #[arg(long, default_value = "jinlian-local")]
        dir: PathBuf,
        /// Sealers (4 tolerate one faulty).
        #[arg(long, default_value_t = 4)]
        sealers: usize,
        /// Observers (full data, no vote).
        #[arg(long, default_value_t = 1)]
        observers: usize,
        /// Use SM2/SM3 (国密).
        #[arg(long)]
        sm: bool,
        /// Least time between blocks, milliseconds.
        #[arg(long, default_value_t = 1000)]
        block_interval_ms: u64,
        /// First peer port (one per node, counting up).
        #[arg(long, default_value_t = 30300)]
        base_port: u16,
        /// First JSON-RPC port (one per node, counting up).
        #[arg(long, default_value_t = 8545)]
        rpc_port: u16,
    },
    /// Measure a running chain: deploy an ERC-20, pre-sign transfers from many senders,
    /// submit them over several connections and report committed TPS, latency (p50, p90,
    /// p99, submission to commit), failures and every node's CPU and memory; optionally
    /// against anvil in the same run (--baseline anvil) and against this machine's ceiling
    /// (--calibrate). Start a chain first, e.g. `jinlian up`.
    Bench(bench::Args),
    /// Run a node: its configuration (from `jinlian chain new`) names its keys, certificates,
    /// genesis, data directory, peers and RPC address. Stops cleanly on Ctrl-C or SIGTERM.
    /// Logs go to standard error; RUST_LOG overrides the configured level.
    Node {
        /// The node's config.toml.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Send transactions, call and deploy contracts, read receipts (over JSON-RPC).
    Tx {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::TxCommand,
    },
    /// Read or set the chain's system configuration.
    Sys {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::SysCommand,
    },
    /// List, add and remove sealers and observers.
    Sealer {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::SealerCommand,
    },
    /// A node's groups: list, create from a genesis, start, stop.
    Group {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::GroupCommand,
    },
    /// Contract names (CNS): register, resolve, route callers to versions.
    Cns {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::CnsCommand,
    },
    /// Fetch a transaction's inclusion proof, or verify one offline.
    Proof {
        #[command(flatten)]
        conn: client_cmd::Conn,
        #[command(subcommand)]
        cmd: client_cmd::ProofCommand,
    },
    /// An interactive console for the commands above (tx, sys, sealer, cns, proof, group), with
    /// history and Tab completion.
    Console {
        #[command(flatten)]
        conn: client_cmd::Conn,
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
        Command::Chain(c) => chain_cmd::run(c),
        Command::Node { config } => run_node(&config),
        Command::Up { dir, sealers, observers, sm, block_interval_ms, base_port, rpc_port } => {
            up::run(up::Args {
                dir,
                sealers,
                observers,
                sm,
                block_interval_ms,
                base_port,
                rpc_port,
            })
        }
        Command::Tx { conn, cmd } => client_cmd::run(conn, client_cmd::ClientCommand::Tx(cmd)),
        Command::Sys { conn, cmd } => client_cmd::run(conn, client_cmd::ClientCommand::Sys(cmd)),
        Command::Sealer { conn, cmd } => {
            client_cmd::run(conn, client_cmd::ClientCommand::Sealer(cmd))
        }
        Command::Cns { conn, cmd } => client_cmd::run(conn, client_cmd::ClientCommand::Cns(cmd)),
        Command::Group { conn, cmd } => {
            client_cmd::run(conn, client_cmd::ClientCommand::Group(cmd))
        }
        Command::Proof { conn, cmd } => {
            client_cmd::run(conn, client_cmd::ClientCommand::Proof(cmd))
        }
        Command::Bench(args) => bench::run(args),
        Command::Console { conn } => client_cmd::console(conn),
        Command::Sim { seeds, seed, sealers, byzantine, faults, txs, sm, trace } => {
            sim::run(sim::Args { seeds, seed, sealers, byzantine, faults, txs, sm, trace })
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run_node(config: &Path) -> Result<()> {
    let level = jinlian_node::config::NodeConfig::load(config)
        .map(|c| c.node.log_level)
        .unwrap_or_else(|_| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&level))
        .with_context(|| format!("bad log level {level:?}"))?;
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    jinlian_node::run::run(config)
}

fn keygen(sm: bool, out: &Path, json: bool) -> Result<()> {
    let suite = if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
    let key = KeyPair::generate(suite, &mut rand::rng());
    let contents = KeyFile::new(&key).to_json();
    let to_stdout = out.as_os_str() == "-";
    if to_stdout {
        std::io::stdout().lock().write_all(contents.as_bytes())?;
    } else {
        jinlian_node::files::write_private_file(out, contents.as_bytes()).map_err(|e| {
            // Point at the flag that chooses the path.
            if e.to_string().contains("refusing to overwrite") {
                anyhow::anyhow!("{e} (choose another path with --out)")
            } else {
                e
            }
        })?;
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
