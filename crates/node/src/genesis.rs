//! The genesis of a group: who seals, who observes, what the system configuration starts as,
//! which accounts hold funds — and the block 0 and state every node derives from it.
//!
//! `genesis.json` is the same file on every node of the group; its canonical JSON is the
//! `extra` of block 0, so nodes with different genesis files have different genesis hashes
//! and never agree on anything.

use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use anyhow::{Context, Result, bail, ensure};
use jinlian_crypto::{CryptoSuite, PublicKey};
use jinlian_executor::MemState;
use jinlian_executor::system::{NodeRole, check_config};
use jinlian_primitives::{
    Block, Certificate, GroupId, Header, Height, View, merkle_root, sealer_set_hash,
};
use jinlian_storage::StateWrite;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The crypto suite, as written in `genesis.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// secp256k1 and Keccak-256 (Ethereum compatible).
    Ecdsa,
    /// SM2 and SM3 (国密).
    Sm,
}

impl From<Suite> for CryptoSuite {
    fn from(s: Suite) -> Self {
        match s {
            Suite::Ecdsa => CryptoSuite::Ecdsa,
            Suite::Sm => CryptoSuite::Sm,
        }
    }
}

impl From<CryptoSuite> for Suite {
    fn from(s: CryptoSuite) -> Self {
        match s {
            CryptoSuite::Ecdsa => Suite::Ecdsa,
            CryptoSuite::Sm => Suite::Sm,
        }
    }
}

/// An account funded at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funded {
    /// Its address.
    pub address: Address,
    /// Its balance in wei (decimal or 0x-hex string).
    pub balance: U256,
}

/// The system configuration a group starts with (changed later by transactions to 0x1000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Most transactions in one block.
    pub tx_count_limit: u64,
    /// Most gas one transaction may use.
    pub tx_gas_limit: u64,
    /// Seconds without a commit before a view change (FISCO's `consensus_timeout`, ≥ 3).
    pub consensus_timeout: u64,
    /// Least time between two blocks, milliseconds.
    pub block_interval_ms: u64,
}

impl Default for GenesisConfig {
    fn default() -> Self {
        Self {
            tx_count_limit: 10_000,
            tx_gas_limit: 300_000_000,
            consensus_timeout: 3,
            block_interval_ms: 1_000,
        }
    }
}

/// A group's genesis (`genesis.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Human name of the chain.
    pub chain_name: String,
    /// Crypto suite of the chain (never changes).
    pub suite: Suite,
    /// Chain id (`block.chainid`, EIP-155).
    pub chain_id: u64,
    /// Group id.
    pub group_id: u32,
    /// Time of block 0, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Gas limit of every block.
    pub block_gas_limit: u64,
    /// Node ids of the sealers (128 hex characters each).
    pub sealers: Vec<PublicKey>,
    /// Node ids of the observers.
    #[serde(default)]
    pub observers: Vec<PublicKey>,
    /// Accounts funded at genesis.
    #[serde(default)]
    pub accounts: Vec<Funded>,
    /// ChainGovernance committee at genesis (weight 1 each); empty: none yet.
    #[serde(default)]
    pub committee: Vec<Address>,
    /// Starting system configuration.
    #[serde(default)]
    pub config: GenesisConfig,
}

impl Genesis {
    /// Parses and checks a genesis file's text.
    pub fn from_json(text: &str) -> Result<Self> {
        let g: Genesis = serde_json::from_str(text).context("genesis.json is not valid")?;
        g.validate()?;
        Ok(g)
    }

    /// The canonical JSON (what `chain new` writes and block 0 carries).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The crypto suite.
    pub fn crypto_suite(&self) -> CryptoSuite {
        self.suite.into()
    }

    /// Checks the rules a genesis must follow.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.sealers.is_empty(), "genesis: at least one sealer is needed");
        ensure!(self.chain_id > 0, "genesis: chain_id must be positive");
        let suite = self.crypto_suite();
        let mut seen = BTreeSet::new();
        for (role, id) in self
            .sealers
            .iter()
            .map(|s| ("sealer", s))
            .chain(self.observers.iter().map(|o| ("observer", o)))
        {
            suite.validate_public_key(id).map_err(|e| {
                anyhow::anyhow!("genesis: {role} {id} is not a valid {suite} node id: {e}")
            })?;
            ensure!(seen.insert(id.0), "genesis: node {id} is listed twice");
        }
        let c = &self.config;
        for (key, value) in [
            ("tx_count_limit", c.tx_count_limit),
            ("tx_gas_limit", c.tx_gas_limit),
            ("consensus_timeout", c.consensus_timeout),
            ("block_interval_ms", c.block_interval_ms),
        ] {
            ensure!(
                check_config(key, &value.to_string()),
                "genesis: config {key} = {value} is out of range"
            );
        }
        ensure!(
            self.block_gas_limit >= c.tx_gas_limit,
            "genesis: block_gas_limit {} is below tx_gas_limit {}",
            self.block_gas_limit,
            c.tx_gas_limit
        );
        let mut funded = BTreeSet::new();
        for a in &self.accounts {
            ensure!(funded.insert(a.address), "genesis: account {} is funded twice", a.address);
        }
        Ok(())
    }

    /// The sealers sorted by node id (the order consensus uses).
    pub fn sorted_sealers(&self) -> Vec<PublicKey> {
        let mut s = self.sealers.clone();
        s.sort_by_key(|k| k.0);
        s
    }

    /// The state at genesis: system contracts with the configuration, the node list and the
    /// committee, and the funded accounts.
    pub fn state(&self) -> MemState {
        let mut state = MemState::new();
        let c = &self.config;
        let values = [
            ("tx_count_limit", c.tx_count_limit.to_string()),
            ("tx_gas_limit", c.tx_gas_limit.to_string()),
            ("consensus_timeout", c.consensus_timeout.to_string()),
            ("block_interval_ms", c.block_interval_ms.to_string()),
        ];
        let config: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let nodes: Vec<([u8; 64], NodeRole)> = self
            .sorted_sealers()
            .iter()
            .map(|s| (s.0, NodeRole::Sealer))
            .chain(self.observers.iter().map(|o| (o.0, NodeRole::Observer)))
            .collect();
        jinlian_executor::system::install_genesis_nodes(&mut state, &config, &nodes);
        jinlian_executor::system::governance::install_genesis_committee(
            &mut state,
            &self.committee,
        );
        for a in &self.accounts {
            state.set_account(a.address, 0, a.balance);
        }
        state
    }

    /// Block 0 and the state writes that go with it.
    pub fn block(&self) -> (Block, Vec<StateWrite>) {
        let suite = self.crypto_suite();
        let writes: Vec<StateWrite> =
            self.state().entries.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let header = Header {
            parent_hash: B256::ZERO,
            height: Height(0),
            timestamp_ms: self.timestamp_ms,
            group_id: GroupId(self.group_id),
            chain_id: self.chain_id,
            proposer: 0,
            sealer_set_hash: sealer_set_hash(suite, &self.sorted_sealers()),
            tx_root: merkle_root(suite, &[]),
            receipt_root: merkle_root(suite, &[]),
            state_root: jinlian_executor::state_root(suite, B256::ZERO, &writes),
            gas_used: 0,
            gas_limit: self.block_gas_limit,
            logs_bloom: Bloom::ZERO,
            extra: Bytes::from(self.to_json().into_bytes()),
        };
        let block = Block {
            header,
            txs: Vec::new(),
            certificate: Certificate { view: View(0), signatures: Vec::new() },
        };
        (block, writes)
    }

    /// The genesis block's hash (what identifies the group's ledger).
    pub fn hash(&self) -> B256 {
        self.block().0.hash(self.crypto_suite())
    }
}

/// Reads and checks `genesis.json`.
pub fn load(path: &std::path::Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    Genesis::from_json(&text).with_context(|| format!("in {}", path.display()))
}

/// Refuses a genesis whose block does not match the one a ledger already holds.
pub fn check_matches(genesis: &Genesis, stored: B256) -> Result<()> {
    let expected = genesis.hash();
    if expected != stored {
        bail!(
            "the ledger was created from another genesis (ledger {stored}, genesis.json {expected}); \
             use the genesis.json this node was created with, or a fresh data directory"
        );
    }
    Ok(())
}
