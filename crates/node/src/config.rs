//! A node's `config.toml`. Relative paths are relative to the file's directory, so a node's
//! directory can be copied anywhere as a whole.

use anyhow::{Context, Result, ensure};
use jinlian_crypto::PublicKey;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Largest frame a peer may send, unless the configuration says otherwise (16 MiB: a block
/// of 10,000 transactions of ~1 KiB fits).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Identity and files of the node.
    pub node: NodeSection,
    /// Peer-to-peer network.
    pub network: NetworkSection,
    /// TLS files.
    pub tls: TlsSection,
    /// JSON-RPC.
    pub rpc: RpcSection,
    /// Ledger storage (`[storage]`; every field has a default).
    #[serde(default)]
    pub storage: StorageSection,
    /// Transaction pool limits (`[txpool]`; every field has a default).
    #[serde(default)]
    pub txpool: TxPoolSection,
}

/// `[txpool]`: what the pool holds at most, per group. A full pool answers clients "busy"
/// (JSON-RPC error -32005) until blocks make room, so a flood costs queueing time, not memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxPoolSection {
    /// Most transactions waiting.
    #[serde(default = "default_pool_txs")]
    pub max_txs: usize,
    /// Most bytes of transactions waiting, MiB.
    #[serde(default = "default_pool_mib")]
    pub max_mib: usize,
}

impl Default for TxPoolSection {
    fn default() -> Self {
        Self { max_txs: default_pool_txs(), max_mib: default_pool_mib() }
    }
}

fn default_pool_txs() -> usize {
    100_000
}

fn default_pool_mib() -> usize {
    128
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// How many recent blocks' state stays readable (`eth_call`, `eth_getBalance` … at a past
    /// block, `debug_traceTransaction`); 0 keeps only the head's state.
    #[serde(default = "default_history")]
    pub state_history_blocks: u64,
    /// The ledger's page cache per group, MiB (the storage engine's cache; the node's memory
    /// grows to about this much besides its pool on a large ledger).
    #[serde(default = "default_cache_mib")]
    pub cache_mib: usize,
}

impl Default for StorageSection {
    fn default() -> Self {
        Self { state_history_blocks: default_history(), cache_mib: default_cache_mib() }
    }
}

fn default_cache_mib() -> usize {
    jinlian_storage::DEFAULT_CACHE_BYTES / (1024 * 1024)
}

fn default_history() -> u64 {
    jinlian_storage::DEFAULT_STATE_HISTORY
}

/// `[node]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// A name for logs.
    pub name: String,
    /// The node's consensus key (a `jinlian keygen` key file; its public key is the node id).
    pub key: PathBuf,
    /// The group's `genesis.json`.
    pub genesis: PathBuf,
    /// Where the ledger lives.
    pub data_dir: PathBuf,
    /// Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing filter).
    #[serde(default = "default_log")]
    pub log_level: String,
    /// Where the genesis files of further groups live (`<dir>/<id>/genesis.json`); the node
    /// runs every group it finds there, besides the group of `genesis`.
    #[serde(default = "default_groups_dir")]
    pub groups_dir: PathBuf,
    /// Check the signature of every transaction in blocks this node did not vote on (synced
    /// blocks; all blocks on an observer) instead of trusting the senders the commit
    /// certificate fixes through the transaction root. Costs one signature check per
    /// transaction (on all cores); for operators who trust no quorum.
    #[serde(default)]
    pub strict_senders: bool,
}

fn default_groups_dir() -> PathBuf {
    PathBuf::from("groups")
}

fn default_log() -> String {
    "info".to_string()
}

/// `[network]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// Address to listen on for peers.
    pub listen: SocketAddr,
    /// Peers to dial (`host:port`).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Node ids never admitted (FISCO's certificate blacklist).
    #[serde(default)]
    pub blacklist: Vec<PublicKey>,
    /// If not empty, only these node ids are admitted.
    #[serde(default)]
    pub whitelist: Vec<PublicKey>,
    /// Largest frame accepted from a peer, bytes.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// Seconds of silence after which a peer is dropped (at least 3; peers send a status
    /// every 2 s).
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: u64,
}

fn default_idle() -> u64 {
    30
}

fn default_max_frame() -> usize {
    DEFAULT_MAX_FRAME
}

/// `[tls]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The chain CA certificate.
    pub ca: PathBuf,
    /// The agency CA certificate.
    pub agency: PathBuf,
    /// This node's certificate.
    pub cert: PathBuf,
    /// This node's TLS private key.
    pub key: PathBuf,
}

/// `[rpc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcSection {
    /// Address of the JSON-RPC server (HTTP and WebSocket).
    pub listen: SocketAddr,
    /// Limits (`[rpc.limits]`; every field has a default).
    #[serde(default)]
    pub limits: jinlian_rpc::RpcConfig,
    /// Whether clients may create, start and stop groups (`generateGroup`, `startGroup`,
    /// `stopGroup`). Unset: allowed when `listen` is a loopback address, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
}

impl RpcSection {
    /// Whether group management is allowed through this RPC.
    pub fn admin_enabled(&self) -> bool {
        self.admin.unwrap_or_else(|| self.listen.ip().is_loopback())
    }
}

impl NodeConfig {
    /// Reads `config.toml`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the node configuration {}", path.display()))?;
        let mut cfg: NodeConfig = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid node configuration", path.display()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for p in [
            &mut cfg.node.key,
            &mut cfg.node.genesis,
            &mut cfg.node.data_dir,
            &mut cfg.node.groups_dir,
            &mut cfg.tls.ca,
            &mut cfg.tls.agency,
            &mut cfg.tls.cert,
            &mut cfg.tls.key,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        ensure!(
            (1024..=256 * 1024 * 1024).contains(&cfg.network.max_frame_bytes),
            "network.max_frame_bytes must be between 1 KiB and 256 MiB"
        );
        let levels = ["error", "warn", "info", "debug", "trace", "off"];
        ensure!(
            cfg.node.log_level.split(',').all(|d| levels.contains(&d.trim()) || d.contains('=')),
            "node.log_level {:?}: use error, warn, info, debug or trace (or a filter such as \"info,jinlian_node=debug\")",
            cfg.node.log_level
        );
        ensure!(
            (3..=3600).contains(&cfg.network.idle_timeout_secs),
            "network.idle_timeout_secs must be between 3 and 3600"
        );
        ensure!(
            (16..=1_048_576).contains(&cfg.storage.cache_mib),
            "storage.cache_mib must be between 16 and 1,048,576"
        );
        ensure!(
            (1..=10_000_000).contains(&cfg.txpool.max_txs),
            "txpool.max_txs must be between 1 and 10,000,000"
        );
        ensure!(
            (1..=65_536).contains(&cfg.txpool.max_mib),
            "txpool.max_mib must be between 1 and 65,536"
        );
        cfg.rpc.limits.check()?;
        Ok(cfg)
    }

    /// The TOML text of this configuration.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}
