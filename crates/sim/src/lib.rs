//! Deterministic simulation of a group of PBFT replicas.
//!
//! One thread runs `n` replicas of the real consensus code ([`jinlian_consensus::Replica`])
//! against simulated hosts, a virtual clock and a network whose behaviour is drawn from one
//! seeded PRNG: latency, drops, duplicates, reordering, partitions (including isolating the
//! primary), crashes that lose WAL writes not yet synced, and clock skew. Up to `f` replicas
//! can be Byzantine ([`Byzantine`]). A run has a **safety phase** with the faults on, then
//! heals everything and requires **liveness**: every honest replica commits every submitted
//! transaction within a bound.
//!
//! Checkers ([`check`]) restate the properties on their own, from what the honest hosts
//! stored, without calling the consensus code's predicates: agreement, prefix order and
//! parent links, certificates signed by a quorum of sealers, validity (only submitted
//! transactions, each once), equal state roots per height, and liveness.
//!
//! The same seed always produces the same run: [`SimReport::trace_hash`] folds every event.
//!
//! Until the executor exists, the replicated state machine is a stand-in: a block's state
//! root is `H(parent state root ‖ its transactions)`, and transactions are 8-byte ids.
//!
//! ```
//! let report = jinlian_sim::run(&jinlian_sim::SimConfig { seed: 7, ..Default::default() });
//! assert!(report.violations.is_empty(), "{:?}", report.violations);
//! ```

pub mod check;
mod world;

use jinlian_crypto::CryptoSuite;
use std::fmt;
use std::str::FromStr;

pub use world::run;

/// Faults switched on during the safety phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Drop messages (5 %).
    pub drop: bool,
    /// Deliver some messages twice (5 %).
    pub duplicate: bool,
    /// Add up to 300 ms of jitter, so messages overtake each other, and hold 2 % of messages
    /// for 0.5–5 s, so they arrive views later.
    pub reorder: bool,
    /// Cut the network in two for a while (half the time isolating exactly the primary).
    pub partition: bool,
    /// Crash honest replicas (losing unsynced WAL writes) and restart them.
    pub crash: bool,
    /// Give every replica's clock an offset of up to ±800 ms.
    pub skew: bool,
}

impl Faults {
    /// Every fault.
    pub const ALL: Faults = Faults {
        drop: true,
        duplicate: true,
        reorder: true,
        partition: true,
        crash: true,
        skew: true,
    };
}

impl FromStr for Faults {
    type Err = String;
    /// A comma-separated list of `drop, dup, reorder, partition, crash, skew`, or `all`, or
    /// `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut f = Faults::default();
        for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "all" => f = Faults::ALL,
                "none" => f = Faults::default(),
                "drop" => f.drop = true,
                "dup" | "duplicate" => f.duplicate = true,
                "reorder" => f.reorder = true,
                "partition" => f.partition = true,
                "crash" => f.crash = true,
                "skew" => f.skew = true,
                other => {
                    return Err(format!(
                        "unknown fault {other:?} (use drop, dup, reorder, partition, crash, skew, all, none)"
                    ));
                }
            }
        }
        Ok(f)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.drop, "drop"),
            (self.duplicate, "dup"),
            (self.reorder, "reorder"),
            (self.partition, "partition"),
            (self.crash, "crash"),
            (self.skew, "skew"),
        ];
        let on: Vec<&str> = names.iter().filter(|(b, _)| *b).map(|(_, n)| *n).collect();
        if on.is_empty() { f.write_str("none") } else { f.write_str(&on.join(",")) }
    }
}

/// What a Byzantine replica does. It runs the real replica code and corrupts what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Byzantine {
    /// As primary, sends one proposal to half the group and another to the rest.
    Equivocate,
    /// Sends every prepare and commit twice: once for a random hash.
    DoubleVote,
    /// Sends nothing.
    Silent,
    /// Sends old messages again, mixed with its new ones.
    Replay,
    /// Corrupts the signature of everything it sends.
    BadSignature,
    /// Sends view changes carrying forged prepared certificates.
    ForgeViewChange,
    /// Follows the protocol but sends each message to a random half of the group, so honest
    /// replicas see different votes.
    Selective,
}

impl Byzantine {
    /// Every strategy, in the order replicas are assigned them.
    pub const ALL: [Byzantine; 7] = [
        Byzantine::Equivocate,
        Byzantine::DoubleVote,
        Byzantine::Silent,
        Byzantine::Replay,
        Byzantine::BadSignature,
        Byzantine::ForgeViewChange,
        Byzantine::Selective,
    ];
}

/// A deliberately broken replica rule, to prove the checkers bite (feature `defects`).
#[cfg(feature = "defects")]
pub use jinlian_consensus::Defects;

/// One simulation run's settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of sealers.
    pub sealers: usize,
    /// How many of them are Byzantine (at most f for the run to be expected to pass).
    pub byzantine: usize,
    /// Faults during the safety phase.
    pub faults: Faults,
    /// Crypto suite of the chain.
    pub suite: CryptoSuite,
    /// Transactions the client submits during the safety phase.
    pub txs: usize,
    /// Length of the safety phase (virtual ms).
    pub safety_ms: u64,
    /// After healing, every honest replica must commit every transaction within this.
    pub liveness_ms: u64,
    /// Broken rules given to every honest replica (tests of the checkers only).
    #[cfg(feature = "defects")]
    pub defects: Defects,
    /// A broken host that restarts replicas without their WAL (tests of the checkers only).
    #[cfg(feature = "defects")]
    pub lose_wal_on_restart: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            sealers: 4,
            byzantine: 0,
            faults: Faults::ALL,
            suite: CryptoSuite::Ecdsa,
            txs: 40,
            safety_ms: 20_000,
            liveness_ms: 120_000,
            #[cfg(feature = "defects")]
            defects: Defects::default(),
            #[cfg(feature = "defects")]
            lose_wal_on_restart: false,
        }
    }
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimReport {
    /// The seed.
    pub seed: u64,
    /// Lowest committed height among honest replicas at the end.
    pub min_height: u64,
    /// Highest committed height among honest replicas at the end.
    pub max_height: u64,
    /// Blocks committed, summed over honest replicas.
    pub commits: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Faults the honest replicas reported.
    pub faults_reported: u64,
    /// View changes started by honest replicas.
    pub view_changes: u64,
    /// Virtual time at the end (ms).
    pub end_ms: u64,
    /// Virtual time when the last honest replica had committed every transaction.
    pub all_committed_ms: Option<u64>,
    /// Hash of the whole event trace.
    pub trace_hash: String,
    /// Property violations found by the checkers (empty = pass).
    pub violations: Vec<String>,
}

impl SimReport {
    /// Whether every checker passed.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}
