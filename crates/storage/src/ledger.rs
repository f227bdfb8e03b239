//! The ledger schema: blocks, transactions, receipts, state and indexes over a [`KvStore`].

use crate::{Entry, KvRead, KvStore, RedbStore, StoreError, Table, WriteBatch};
use alloy_primitives::B256;
use alloy_rlp::Decodable;
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{
    Block, BlockTx, Certificate, Header, Height, Receipt, RecoveredTx, Transaction,
};
use std::path::Path;

/// Value of the format marker under `meta/format`.
pub const LEDGER_FORMAT: &[u8] = b"jinlian-ledger/1";

const META_FORMAT: &[u8] = b"format";
const META_SUITE: &[u8] = b"suite";
const META_HEAD: &[u8] = b"head";
const META_GENESIS: &[u8] = b"genesis";
const META_TOTALS: &[u8] = b"totals";
const META_HISTORY_BASE: &[u8] = b"history_base";

/// How many recent blocks' state a ledger keeps readable unless told otherwise
/// ([`Ledger::set_state_history`]).
pub const DEFAULT_STATE_HISTORY: u64 = 10_000;

/// History entries of at most this many old blocks are pruned per commit, so lowering the
/// window catches up over later commits instead of stalling one.
const PRUNE_PER_COMMIT: usize = 4;

/// Transactions in the chain up to its head, and how many of them failed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable,
)]
pub struct Totals {
    /// Transactions.
    pub txs: u64,
    /// Transactions whose receipt is not a success.
    pub failed: u64,
}

/// What the `headers` table holds per height: the header and the number of transactions,
/// so a read can tell a complete block from one with rows missing at the end.
#[derive(Debug, Clone, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
struct StoredHeader {
    header: Header,
    tx_count: u32,
}

/// The last committed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// Its height.
    pub height: Height,
    /// Its hash.
    pub hash: B256,
}

/// Where a transaction sits in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: Height,
    /// Position in the block.
    pub index: u32,
}

/// A state change of a block: set a key, or delete it with `None`.
pub type StateWrite = (Vec<u8>, Option<Vec<u8>>);

/// The ledger of one group.
///
/// [`Ledger::commit_block`] writes a block with its transactions, receipts, state writes and
/// indexes, and moves the head, in one durable transaction: after a crash the ledger holds
/// every block up to the head completely and nothing of later blocks.
#[derive(Debug)]
pub struct Ledger<S: KvStore> {
    store: S,
    suite: CryptoSuite,
    // Held while checking the head and writing a block, so two committers cannot both extend
    // the same head.
    commit_lock: std::sync::Mutex<()>,
    // Blocks whose prior state is kept (0: only the head's state).
    history: std::sync::atomic::AtomicU64,
}

impl Ledger<RedbStore> {
    /// Opens (or creates) the redb ledger file at `path` for a chain of `suite`.
    pub fn open(path: impl AsRef<Path>, suite: CryptoSuite) -> Result<Self, StoreError> {
        Self::new(RedbStore::open(path)?, suite)
    }

    /// [`Self::open`] with a page cache of at most `cache_bytes`.
    pub fn open_with_cache(
        path: impl AsRef<Path>,
        suite: CryptoSuite,
        cache_bytes: usize,
    ) -> Result<Self, StoreError> {
        Self::new(RedbStore::open_with_cache(path, cache_bytes)?, suite)
    }
}

fn height_key(h: Height) -> [u8; 8] {
    h.0.to_be_bytes()
}

fn tx_key(h: Height, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&h.0.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

fn decode_exact<T: Decodable>(bytes: &[u8], what: impl Fn() -> String) -> Result<T, StoreError> {
    let mut buf = bytes;
    let v = T::decode(&mut buf).map_err(|e| corrupt(format!("{}: {e}", what())))?;
    if !buf.is_empty() {
        return Err(corrupt(format!("{}: trailing bytes", what())));
    }
    Ok(v)
}

fn parse_location(bytes: &[u8]) -> Result<TxLocation, StoreError> {
    let k: [u8; 12] =
        bytes.try_into().map_err(|_| corrupt("tx index entry is not 12 bytes".into()))?;
    let mut h = [0u8; 8];
    h.copy_from_slice(&k[..8]);
    let mut i = [0u8; 4];
    i.copy_from_slice(&k[8..]);
    Ok(TxLocation { height: Height(u64::from_be_bytes(h)), index: u32::from_be_bytes(i) })
}

fn parse_height(bytes: &[u8]) -> Result<Height, StoreError> {
    let h: [u8; 8] = bytes.try_into().map_err(|_| corrupt("height is not 8 bytes".into()))?;
    Ok(Height(u64::from_be_bytes(h)))
}

impl<S: KvStore> Ledger<S> {
    /// A ledger over `store`. A new store is stamped with the ledger format and `suite`; an
    /// existing one must carry the same stamp, so a foreign or mismatched file is refused.
    pub fn new(store: S, suite: CryptoSuite) -> Result<Self, StoreError> {
        let snap = store.snapshot()?;
        match snap.get(Table::Meta, META_FORMAT)? {
            Some(f) if f == LEDGER_FORMAT => {
                let stored = snap.get(Table::Meta, META_SUITE)?.unwrap_or_default();
                if stored != suite.name().as_bytes() {
                    return Err(StoreError::SuiteMismatch {
                        stored: String::from_utf8_lossy(&stored).into_owned(),
                        wanted: suite,
                    });
                }
            }
            Some(f) => {
                return Err(StoreError::NotALedger(format!(
                    "unknown format marker {:?}",
                    String::from_utf8_lossy(&f)
                )));
            }
            None => {
                // A store with data but no marker was written by something else.
                for t in Table::ALL {
                    if snap.last(t)?.is_some() {
                        return Err(StoreError::NotALedger(format!(
                            "table {} has data but the store has no ledger format marker",
                            t.name()
                        )));
                    }
                }
                let mut b = WriteBatch::new();
                b.put(Table::Meta, META_FORMAT, LEDGER_FORMAT);
                b.put(Table::Meta, META_SUITE, suite.name().as_bytes());
                store.write(b)?;
            }
        }
        let ledger = Self {
            store,
            suite,
            commit_lock: std::sync::Mutex::new(()),
            history: std::sync::atomic::AtomicU64::new(DEFAULT_STATE_HISTORY),
        };
        ledger.count_totals_once()?;
        Ok(ledger)
    }

    /// Ledgers written before the running totals were kept get them counted once.
    fn count_totals_once(&self) -> Result<(), StoreError> {
        let view = self.view()?;
        let Some(head) = view.head()? else { return Ok(()) };
        if view.snap.get(Table::Meta, META_TOTALS)?.is_some() {
            return Ok(());
        }
        let mut t = Totals::default();
        for h in 0..=head.height.0 {
            let receipts = view.block_receipts(Height(h))?;
            t.txs += receipts.len() as u64;
            t.failed += receipts.iter().filter(|r| !r.is_success()).count() as u64;
        }
        let mut b = WriteBatch::new();
        b.put(Table::Meta, META_TOTALS, alloy_rlp::encode(t));
        self.store.write(b)
    }

    /// The chain's crypto suite.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// Keeps the state of the last `blocks` blocks readable ([`LedgerView::state_at`]) from
    /// the next commit on: each commit records the values its writes replace and prunes what
    /// fell out of the window. 0 keeps only the head's state.
    pub fn set_state_history(&self, blocks: u64) {
        self.history.store(blocks, std::sync::atomic::Ordering::Relaxed);
    }

    /// The engine.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// A consistent read view.
    pub fn view(&self) -> Result<LedgerView<S::Snapshot>, StoreError> {
        Ok(LedgerView { snap: self.store.snapshot()?, suite: self.suite })
    }

    /// The last committed block, `None` before genesis.
    pub fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        self.view()?.head()
    }

    /// Commits `block` (which must extend the head: height = head + 1 and parent hash = head
    /// hash, or height 0 on an empty ledger) with one receipt per transaction and the block's
    /// state writes, atomically and durably.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        state_writes: &[StateWrite],
    ) -> Result<ChainHead, StoreError> {
        self.commit(block, receipts, state_writes, None, None)
    }

    /// [`Self::commit_block`] given, for each state write, the value the key held before the
    /// block (what execution already read), so keeping past state costs no extra reads.
    pub fn commit_block_with_prior(
        &self,
        block: &Block,
        receipts: &[Receipt],
        state_writes: &[StateWrite],
        prior: &[Option<Vec<u8>>],
    ) -> Result<ChainHead, StoreError> {
        if prior.len() != state_writes.len() {
            return Err(StoreError::Invalid(format!(
                "{} prior values for {} state writes",
                prior.len(),
                state_writes.len()
            )));
        }
        self.commit(block, receipts, state_writes, Some(prior), None)
    }

    /// [`Self::commit_block_with_prior`] given also the transactions' hashes, in block order,
    /// as the caller computed them when it decoded the block (they are not computed again).
    pub fn commit_executed_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        state_writes: &[StateWrite],
        prior: &[Option<Vec<u8>>],
        tx_hashes: &[B256],
    ) -> Result<ChainHead, StoreError> {
        if prior.len() != state_writes.len() || tx_hashes.len() != block.txs.len() {
            return Err(StoreError::Invalid(format!(
                "{} prior values for {} state writes, {} hashes for {} transactions",
                prior.len(),
                state_writes.len(),
                tx_hashes.len(),
                block.txs.len()
            )));
        }
        self.commit(block, receipts, state_writes, Some(prior), Some(tx_hashes))
    }

    fn commit(
        &self,
        block: &Block,
        receipts: &[Receipt],
        state_writes: &[StateWrite],
        prior: Option<&[Option<Vec<u8>>]>,
        tx_hashes: Option<&[B256]>,
    ) -> Result<ChainHead, StoreError> {
        let _guard = self.commit_lock.lock().map_err(|_| StoreError::Poisoned)?;
        let view = self.view()?;
        let header = &block.header;
        let hash = header.hash(self.suite);
        match view.head()? {
            None if header.height == Height(0) => {}
            None => {
                return Err(StoreError::NotNext { height: header.height, expected: Height(0) });
            }
            Some(head) => {
                let Some(next) = head.height.checked_next() else {
                    return Err(StoreError::Invalid(
                        "the chain is at the last possible height".into(),
                    ));
                };
                if header.height != next {
                    return Err(StoreError::NotNext { height: header.height, expected: next });
                }
                if header.parent_hash != head.hash {
                    return Err(StoreError::WrongParent {
                        height: header.height,
                        parent: header.parent_hash,
                        head: head.hash,
                    });
                }
            }
        }
        if receipts.len() != block.txs.len() {
            return Err(StoreError::ReceiptCount {
                txs: block.txs.len(),
                receipts: receipts.len(),
            });
        }
        let count = u32::try_from(block.txs.len())
            .map_err(|_| StoreError::Invalid("more than 2^32 transactions in a block".into()))?;

        let h = header.height;
        let mut b = WriteBatch::new();
        b.ops.reserve(4 + 3 * block.txs.len() + state_writes.len());
        let stored = StoredHeader { header: header.clone(), tx_count: count };
        b.put(Table::Headers, height_key(h), alloy_rlp::encode(&stored));
        b.put(Table::Certificates, height_key(h), alloy_rlp::encode(&block.certificate));
        b.put(Table::BlockHashes, hash.as_slice(), height_key(h));
        let mut seen = std::collections::HashSet::with_capacity(block.txs.len());
        let mut log_starts = Vec::with_capacity(4 * block.txs.len());
        let mut logs = 0u32;
        for (i, (tx, receipt)) in (0..count).zip(block.txs.iter().zip(receipts)) {
            log_starts.extend_from_slice(&logs.to_be_bytes());
            logs = logs.saturating_add(u32::try_from(receipt.logs.len()).unwrap_or(u32::MAX));
            let tx_hash = match tx_hashes {
                Some(hashes) => hashes[i as usize],
                None => Transaction::decode(&tx.raw, self.suite)
                    .map_err(|e| StoreError::Invalid(format!("tx {i} of block {h}: {e}")))?
                    .hash(),
            };
            // A second copy of a hash would overwrite the first one's index entry and make its
            // receipt unreachable; replay rules upstream must never let one through.
            if !seen.insert(tx_hash) || view.tx_location(&tx_hash)?.is_some() {
                return Err(StoreError::Invalid(format!(
                    "tx {i} of block {h} ({tx_hash}) is already in the chain or the block"
                )));
            }
            let key = tx_key(h, i);
            b.put(Table::Txs, key, alloy_rlp::encode(tx));
            b.put(Table::Receipts, key, alloy_rlp::encode(receipt));
            b.put(Table::TxIndex, tx_hash.as_slice(), key);
        }
        if !block.txs.is_empty() {
            b.put(Table::LogStarts, height_key(h), log_starts);
        }
        self.record_history(&view, h, state_writes, prior, &mut b)?;
        for (k, v) in state_writes {
            match v {
                Some(v) => b.put(Table::State, k.clone(), v.clone()),
                None => b.delete(Table::State, k.clone()),
            }
        }
        let mut totals = view.totals()?;
        totals.txs += block.txs.len() as u64;
        totals.failed += receipts.iter().filter(|r| !r.is_success()).count() as u64;
        b.put(Table::Meta, META_TOTALS, alloy_rlp::encode(totals));
        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&height_key(h));
        head.extend_from_slice(hash.as_slice());
        b.put(Table::Meta, META_HEAD, head);
        if h == Height(0) {
            b.put(Table::Meta, META_GENESIS, hash.as_slice());
        }
        self.store.write(b)?;
        Ok(ChainHead { height: h, hash })
    }

    /// Records in `b` the values block `h`'s writes replace, prunes history that fell out of the
    /// window, and moves the lowest readable height.
    fn record_history(
        &self,
        view: &LedgerView<S::Snapshot>,
        h: Height,
        state_writes: &[StateWrite],
        prior: Option<&[Option<Vec<u8>>]>,
        b: &mut WriteBatch,
    ) -> Result<(), StoreError> {
        let window = self.history.load(std::sync::atomic::Ordering::Relaxed);
        let mut base = match view.snap.get(Table::Meta, META_HISTORY_BASE)? {
            Some(v) => parse_height(&v)?.0,
            // Nothing recorded yet: history starts at this block's parent.
            None => h.0.saturating_sub(1),
        };
        if window == 0 || h == Height(0) {
            base = h.0;
        } else {
            let mut written = Vec::new();
            for (i, (k, _)) in state_writes.iter().enumerate() {
                // Code is stored under its hash and never changes: no history needed.
                if k.first() == Some(&b'c') {
                    continue;
                }
                let len = u16::try_from(k.len())
                    .map_err(|_| StoreError::Invalid("a state key longer than 64 KiB".into()))?;
                let old = match prior {
                    Some(p) => p[i].clone(),
                    None => view.state(k)?,
                };
                let mut value = Vec::with_capacity(1 + old.as_ref().map_or(0, Vec::len));
                if let Some(old) = old {
                    value.push(1);
                    value.extend_from_slice(&old);
                } else {
                    value.push(0);
                }
                b.put(Table::History, [k.as_slice(), &height_key(h)].concat(), value);
                written.extend_from_slice(&len.to_be_bytes());
                written.extend_from_slice(k);
            }
            b.put(Table::HistoryKeys, height_key(h), written);
        }
        // Blocks at or below `h - window` are no longer needed to read any kept height.
        let keep_from = if window == 0 { h.0 + 1 } else { h.0.saturating_sub(window) + 1 };
        let old = view.snap.range(
            Table::HistoryKeys,
            &[],
            Some(&height_key(Height(keep_from))),
            PRUNE_PER_COMMIT,
        )?;
        for (hk, keys) in old {
            let pruned = parse_height(&hk)?;
            let mut rest = keys.as_slice();
            while let [a, b0, tail @ ..] = rest {
                let len = u16::from_be_bytes([*a, *b0]) as usize;
                if tail.len() < len {
                    return Err(corrupt(format!("history key list of block {}", pruned.0)));
                }
                b.delete(Table::History, [&tail[..len], &height_key(pruned)].concat());
                rest = &tail[len..];
            }
            b.delete(Table::HistoryKeys, hk);
            base = base.max(pruned.0);
        }
        b.put(Table::Meta, META_HISTORY_BASE, height_key(Height(base)));
        Ok(())
    }

    /// Appends a consensus write-ahead-log entry under `seq`, durably, before returning.
    pub fn append_wal(&self, seq: u64, entry: &[u8]) -> Result<(), StoreError> {
        let mut b = WriteBatch::new();
        b.put(Table::Wal, seq.to_be_bytes(), entry);
        self.store.write(b)
    }

    /// Removes WAL entries with sequence numbers below `seq` (at most `limit` of them).
    pub fn truncate_wal(&self, seq: u64, limit: usize) -> Result<usize, StoreError> {
        let old = self.view()?.snap.range(Table::Wal, &[], Some(&seq.to_be_bytes()), limit)?;
        let mut b = WriteBatch::new();
        for (k, _) in &old {
            b.delete(Table::Wal, k.clone());
        }
        if !b.is_empty() {
            self.store.write(b)?;
        }
        Ok(old.len())
    }
}

/// Consistent reads of a ledger at one point in time.
pub struct LedgerView<R: KvRead> {
    snap: R,
    suite: CryptoSuite,
}

impl<R: KvRead> LedgerView<R> {
    /// The last committed block.
    pub fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let Some(v) = self.snap.get(Table::Meta, META_HEAD)? else {
            return Ok(None);
        };
        if v.len() != 40 {
            return Err(corrupt(format!("head pointer is {} bytes, expected 40", v.len())));
        }
        Ok(Some(ChainHead { height: parse_height(&v[..8])?, hash: B256::from_slice(&v[8..]) }))
    }

    /// Transactions up to the head, and how many failed.
    pub fn totals(&self) -> Result<Totals, StoreError> {
        match self.snap.get(Table::Meta, META_TOTALS)? {
            Some(v) => decode_exact(&v, || "transaction totals".into()),
            None => Ok(Totals::default()),
        }
    }

    /// The genesis block hash, once genesis is committed.
    pub fn genesis_hash(&self) -> Result<Option<B256>, StoreError> {
        let Some(v) = self.snap.get(Table::Meta, META_GENESIS)? else {
            return Ok(None);
        };
        if v.len() != 32 {
            return Err(corrupt(format!("genesis hash is {} bytes, expected 32", v.len())));
        }
        Ok(Some(B256::from_slice(&v)))
    }

    fn stored_header(&self, height: Height) -> Result<Option<StoredHeader>, StoreError> {
        self.snap
            .get(Table::Headers, &height_key(height))?
            .map(|v| decode_exact(&v, || format!("header at height {height}")))
            .transpose()
    }

    /// The header at `height`.
    pub fn header(&self, height: Height) -> Result<Option<Header>, StoreError> {
        Ok(self.stored_header(height)?.map(|s| s.header))
    }

    /// The header at `height` and how many transactions its block holds (one read).
    pub fn header_and_count(&self, height: Height) -> Result<Option<(Header, u32)>, StoreError> {
        Ok(self.stored_header(height)?.map(|s| (s.header, s.tx_count)))
    }

    /// The rows of block `height` in the txs or receipts table.
    fn block_rows(&self, table: Table, height: Height) -> Result<Vec<crate::Entry>, StoreError> {
        let from = tx_key(height, 0);
        let to = height.checked_next().map(height_key);
        self.snap.range(table, &from, to.as_ref().map(|t| t.as_slice()), usize::MAX)
    }

    /// Checks that `rows` are exactly rows 0..n of block `height`, n from its stored header.
    fn check_rows(
        &self,
        what: &str,
        height: Height,
        rows: &[crate::Entry],
    ) -> Result<(), StoreError> {
        let expected = self.stored_header(height)?.map_or(0, |s| s.tx_count as usize);
        if rows.len() != expected {
            return Err(corrupt(format!(
                "block {height} has {} {what}, its header says {expected}",
                rows.len()
            )));
        }
        for (i, (k, _)) in rows.iter().enumerate() {
            if k.as_slice() != tx_key(height, i as u32) {
                return Err(corrupt(format!("block {height} is missing {what} {i}")));
            }
        }
        Ok(())
    }

    /// The height of the block with `hash`.
    pub fn height_of(&self, hash: &B256) -> Result<Option<Height>, StoreError> {
        self.snap.get(Table::BlockHashes, hash.as_slice())?.map(|v| parse_height(&v)).transpose()
    }

    /// The transactions of the block at `height`, in order (empty above the head).
    pub fn block_txs(&self, height: Height) -> Result<Vec<BlockTx>, StoreError> {
        self.block_items(Table::Txs, "transactions", height)
    }

    /// The receipts of the block at `height`, in order (empty above the head).
    pub fn block_receipts(&self, height: Height) -> Result<Vec<Receipt>, StoreError> {
        self.block_items(Table::Receipts, "receipts", height)
    }

    fn block_items<T: Decodable>(
        &self,
        table: Table,
        what: &str,
        height: Height,
    ) -> Result<Vec<T>, StoreError> {
        let rows = self.block_rows(table, height)?;
        self.check_rows(what, height, &rows)?;
        rows.iter()
            .enumerate()
            .map(|(i, (_, v))| decode_exact(v, || format!("{what} {i} of block {height}")))
            .collect()
    }

    /// The commit certificate of the block at `height`.
    pub fn certificate(&self, height: Height) -> Result<Option<Certificate>, StoreError> {
        let Some(cert) = self.snap.get(Table::Certificates, &height_key(height))? else {
            return Ok(None);
        };
        Ok(Some(decode_exact(&cert, || format!("certificate at height {height}"))?))
    }

    /// The chain's crypto suite.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// The block at `height`.
    pub fn block(&self, height: Height) -> Result<Option<Block>, StoreError> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let certificate = self
            .certificate(height)?
            .ok_or_else(|| corrupt(format!("block {height} has a header but no certificate")))?;
        Ok(Some(Block { header, txs: self.block_txs(height)?, certificate }))
    }

    /// The block with `hash`.
    pub fn block_by_hash(&self, hash: &B256) -> Result<Option<Block>, StoreError> {
        match self.height_of(hash)? {
            Some(h) => self.block(h),
            None => Ok(None),
        }
    }

    /// Where the transaction with `hash` was committed.
    pub fn tx_location(&self, hash: &B256) -> Result<Option<TxLocation>, StoreError> {
        self.snap.get(Table::TxIndex, hash.as_slice())?.map(|v| parse_location(&v)).transpose()
    }

    /// The committed transaction at a location.
    pub fn tx_at(&self, loc: TxLocation) -> Result<Option<RecoveredTx>, StoreError> {
        let Some(v) = self.snap.get(Table::Txs, &tx_key(loc.height, loc.index))? else {
            return Ok(None);
        };
        let btx: BlockTx =
            decode_exact(&v, || format!("tx {} of block {}", loc.index, loc.height))?;
        let tx = Transaction::decode(&btx.raw, self.suite)
            .map_err(|e| corrupt(format!("tx {} of block {}: {e}", loc.index, loc.height)))?;
        Ok(Some(RecoveredTx { tx, sender: btx.sender }))
    }

    /// The committed transaction with `hash` and its location.
    pub fn transaction(
        &self,
        hash: &B256,
    ) -> Result<Option<(RecoveredTx, TxLocation)>, StoreError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        let tx = self
            .tx_at(loc)?
            .ok_or_else(|| corrupt(format!("tx index points at missing tx {hash}")))?;
        Ok(Some((tx, loc)))
    }

    /// The receipt of the transaction with `hash` and its location.
    pub fn receipt(&self, hash: &B256) -> Result<Option<(Receipt, TxLocation)>, StoreError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        let v = self
            .snap
            .get(Table::Receipts, &tx_key(loc.height, loc.index))?
            .ok_or_else(|| corrupt(format!("tx {hash} has no receipt")))?;
        let r = decode_exact(&v, || format!("receipt of {hash}"))?;
        Ok(Some((r, loc)))
    }

    /// The block-wide index of the first log of the transaction at `loc`, read from the
    /// block's log-start row (one read, whatever the block's size); for blocks committed
    /// before that row was kept, counted from the block's earlier receipts.
    pub fn first_log_index(&self, loc: TxLocation) -> Result<u64, StoreError> {
        if let Some(row) = self.snap.get(Table::LogStarts, &height_key(loc.height))? {
            let at = loc.index as usize * 4;
            let b = row.get(at..at + 4).ok_or_else(|| {
                corrupt(format!("log starts of block {} miss tx {}", loc.height, loc.index))
            })?;
            return Ok(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])));
        }
        let receipts = self.block_receipts(loc.height)?;
        Ok(receipts.iter().take(loc.index as usize).map(|r| r.logs.len() as u64).sum())
    }

    /// A state value.
    pub fn state(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.snap.get(Table::State, key)
    }

    /// The lowest height whose state [`Self::state_at`] can read (the head when no history is
    /// kept).
    pub fn history_base(&self) -> Result<Height, StoreError> {
        match self.snap.get(Table::Meta, META_HISTORY_BASE)? {
            Some(v) => parse_height(&v),
            None => Ok(self.head()?.map_or(Height(0), |h| h.height)),
        }
    }

    /// A state value as it was after block `height`, which must lie between
    /// [`Self::history_base`] and the head ([`StoreError::Pruned`] otherwise).
    pub fn state_at(&self, key: &[u8], height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        let head = self.head()?.map_or(Height(0), |h| h.height);
        if height == head {
            return self.state(key);
        }
        let base = self.history_base()?;
        if height > head || height < base {
            return Err(StoreError::Pruned { height, oldest: base, head });
        }
        // The first block after `height` that wrote the key recorded its value at `height`.
        let from = [key, &height_key(Height(height.0 + 1))].concat();
        let to = [key, &[0xff; 8][..]].concat();
        match self.snap.range(Table::History, &from, Some(&to), 1)?.pop() {
            None => self.state(key),
            Some((_, v)) => match v.split_first() {
                Some((0, [])) => Ok(None),
                Some((1, old)) => Ok(Some(old.to_vec())),
                _ => Err(corrupt(format!("history entry of block {}", height.0 + 1))),
            },
        }
    }

    /// State entries with keys starting at `from` (up to `limit`).
    pub fn state_range(
        &self,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.snap.range(Table::State, from, to, limit)
    }

    /// WAL entries with sequence number ≥ `from`, in order, up to `limit`.
    pub fn wal_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.snap
            .range(Table::Wal, &from.to_be_bytes(), None, limit)?
            .into_iter()
            .map(|(k, v)| Ok((parse_height(&k)?.0, v)))
            .collect()
    }
}
