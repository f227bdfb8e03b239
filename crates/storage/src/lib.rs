//! Jinlian storage: the [`KvStore`] trait, a redb engine and an in-memory one, and the
//! ledger schema on top.
//!
//! The engine interface is deliberately small (snapshots, and atomic durable batches over a
//! fixed set of [`Table`]s) so that another engine — a distributed KV such as TiKV, or an
//! archive for old blocks — can be added without touching its callers.
//!
//! [`Ledger`] is one group's chain: [`Ledger::commit_block`] writes the block header and
//! certificate, every transaction (keyed by height and index) with its sender, every
//! receipt, the state writes, the hash indexes and the head pointer in **one** durable
//! transaction. A crash at any moment leaves either the whole block or none of it.
//! [`LedgerView`] reads from a consistent snapshot that later commits do not disturb.
//! Opening a file that is not a Jinlian ledger, or a ledger of the other crypto suite, is
//! an error, and so is corrupt data met while reading; nothing here panics on bad bytes.
//!
//! ```
//! use jinlian_storage::{Ledger, MemStore};
//! use jinlian_crypto::CryptoSuite;
//! let ledger = Ledger::new(MemStore::new(), CryptoSuite::Ecdsa).unwrap();
//! assert!(ledger.head().unwrap().is_none());
//! ```

mod kv;
mod ledger;
mod mem_store;
mod redb_store;

pub use kv::{Entry, KvRead, KvStore, Table, WriteBatch, WriteOp};
pub use ledger::{
    ChainHead, DEFAULT_STATE_HISTORY, LEDGER_FORMAT, Ledger, LedgerView, StateWrite, Totals,
    TxLocation,
};
pub use mem_store::{MemSnapshot, MemStore};
pub use redb_store::{DEFAULT_CACHE_BYTES, RedbSnapshot, RedbStore};

use alloy_primitives::B256;
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::Height;

/// Storage failures. Callers treat all of them as fatal for the ledger concerned: stop with
/// the message rather than limp on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the file.
    #[error("the ledger {0} is in use by another process: is this node already running?")]
    InUse(String),
    /// The file cannot be opened as a database.
    #[error("cannot open ledger {path}: {reason} (is it a Jinlian ledger file, and not damaged?)")]
    Open {
        /// The file.
        path: String,
        /// The engine's reason.
        reason: String,
    },
    /// An engine error while reading or writing.
    #[error("storage engine error: {0}")]
    Engine(String),
    /// The database is not a Jinlian ledger.
    #[error("not a Jinlian ledger: {0}")]
    NotALedger(String),
    /// The ledger belongs to a chain of the other suite.
    #[error("ledger was created for crypto suite {stored:?}, but this chain uses {wanted}")]
    SuiteMismatch {
        /// In the file.
        stored: String,
        /// Requested.
        wanted: CryptoSuite,
    },
    /// The state of a height outside the kept window was asked for.
    #[error(
        "the state of block {height} is not kept: this node keeps the state of blocks {oldest} to {head}"
    )]
    Pruned {
        /// The height asked for.
        height: Height,
        /// The lowest readable height.
        oldest: Height,
        /// The head.
        head: Height,
    },
    /// Stored bytes do not decode.
    #[error("ledger data is corrupt: {0}")]
    Corrupt(String),
    /// A block that does not extend the head.
    #[error("block {height} does not extend the head (expected height {expected})")]
    NotNext {
        /// The block's height.
        height: Height,
        /// The height that would extend the head.
        expected: Height,
    },
    /// A block whose parent is not the head.
    #[error("block {height} has parent {parent}, but the head is {head}")]
    WrongParent {
        /// The block's height.
        height: Height,
        /// Its parent hash.
        parent: B256,
        /// The head hash.
        head: B256,
    },
    /// Receipts do not match transactions one to one.
    #[error("{txs} transactions but {receipts} receipts")]
    ReceiptCount {
        /// Transactions.
        txs: usize,
        /// Receipts.
        receipts: usize,
    },
    /// Input the ledger refuses to store.
    #[error("invalid block: {0}")]
    Invalid(String),
    /// A lock was poisoned by a panic in another thread.
    #[error("storage lock poisoned")]
    Poisoned,
}
