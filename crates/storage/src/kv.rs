//! The key-value interface every storage engine implements.

use crate::StoreError;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The tables of a ledger. Engines map each to a keyspace of their own (a redb table, a key
/// prefix in a flat store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Format marker, suite, genesis hash, head pointer.
    Meta,
    /// height (u64 BE) → RLP header.
    Headers,
    /// height → RLP commit certificate.
    Certificates,
    /// block hash → height.
    BlockHashes,
    /// height ‖ index (u32 BE) → RLP (raw tx, sender).
    Txs,
    /// tx hash → height ‖ index.
    TxIndex,
    /// height ‖ index → RLP receipt.
    Receipts,
    /// state key → value (the executor defines the key layout).
    State,
    /// sequence number (u64 BE) → consensus write-ahead-log entry.
    Wal,
    /// state key ‖ height (u64 BE) → the key's value before block `height` wrote it
    /// (`0x00` absent, `0x01 ‖ value`): the state of recent blocks, read backwards.
    History,
    /// height → the state keys block `height` wrote into `History` (each as u16 BE length ‖
    /// key), so the history of old blocks can be pruned.
    HistoryKeys,
    /// height → for each transaction of the block, the block-wide index of its first log
    /// (u32 BE each), so one receipt's `logIndex` needs no read of the block's other receipts.
    /// Blocks committed before this table existed have no row.
    LogStarts,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 12] = [
        Table::Meta,
        Table::Headers,
        Table::Certificates,
        Table::BlockHashes,
        Table::Txs,
        Table::TxIndex,
        Table::Receipts,
        Table::State,
        Table::Wal,
        Table::History,
        Table::HistoryKeys,
        Table::LogStarts,
    ];

    /// A stable name, used as the redb table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Headers => "headers",
            Table::Certificates => "certificates",
            Table::BlockHashes => "block_hashes",
            Table::Txs => "txs",
            Table::TxIndex => "tx_index",
            Table::Receipts => "receipts",
            Table::State => "state",
            Table::Wal => "wal",
            Table::History => "history",
            Table::HistoryKeys => "history_keys",
            Table::LogStarts => "log_starts",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Reads from one consistent point in time.
pub trait KvRead {
    /// The value under `key`.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` entries with `from <= key < to` (`to = None`: no upper bound), in key
    /// order.
    fn range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;

    /// The entry with the greatest key, if any.
    fn last(&self, table: Table) -> Result<Option<Entry>, StoreError>;
}

/// A storage engine: consistent snapshots and atomic, durable batches.
///
/// Callers may rely on: a [`KvStore::write`] that returns `Ok` is durable (survives a crash
/// or power loss of the process) and is seen entirely or not at all by later snapshots and
/// after a restart; a snapshot never changes once taken.
pub trait KvStore: Send + Sync + 'static {
    /// A point-in-time view.
    type Snapshot: KvRead + Send;

    /// A consistent view of everything written so far.
    fn snapshot(&self) -> Result<Self::Snapshot, StoreError>;

    /// Applies all operations of `batch` atomically and durably.
    fn write(&self, batch: WriteBatch) -> Result<(), StoreError>;
}

/// One write operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Set a value.
    Put(Table, Vec<u8>, Vec<u8>),
    /// Remove a key (absent keys are fine).
    Delete(Table, Vec<u8>),
}

/// Operations applied together by [`KvStore::write`], in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// The operations.
    pub ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Put(table, key.into(), value.into()));
    }

    /// Adds a delete.
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.ops.push(WriteOp::Delete(table, key.into()));
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
