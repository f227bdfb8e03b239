//! The transaction pool: transactions whose signature was checked once, at admission (by the
//! RPC or network task that received them, in parallel), waiting for a block.
//!
//! Admission applies the executor's validity rules against the latest state, so a proposal
//! built from the pool is valid: chain and group id, gas limit, the consortium envelope's
//! blockLimit window and unused randomid, the Ethereum envelope's nonce (not below the
//! account's, at most 1,000 ahead). The pool is bounded by count and bytes; it refuses
//! rather than grows. Packing takes transactions in arrival order, Ethereum ones only when
//! their nonce is the sender's next.

use alloy_primitives::{Address, B256, Bytes, U256};
use jinlian_executor::state::{AccountRecord, keys};
use jinlian_executor::{BLOCK_LIMIT_WINDOW, StateError, StateView};
use jinlian_primitives::{RecoveredTx, TxBody};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How far ahead of the account's nonce an Ethereum transaction may be.
pub const MAX_NONCE_GAP: u64 = 1000;
/// Most transactions of one sender waiting at once.
pub const MAX_PER_SENDER: usize = 1024;

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// Already committed. (Ethereum clients read "nonce too low" as "already used".)
    #[error(
        "transaction {0} is already in the chain (nonce too low: its nonce or randomid is used)"
    )]
    InChain(B256),
    /// For another chain.
    #[error("transaction for chain id {}; this chain's id is {want}", got.map_or("none (a pre-EIP-155 signature)".to_string(), |c| c.to_string()))]
    WrongChain {
        /// The transaction's.
        got: Option<u64>,
        /// Ours.
        want: u64,
    },
    /// For another group.
    #[error("transaction for group {got}; this node serves group {want} (InvalidGroupId)")]
    WrongGroup {
        /// The transaction's.
        got: u64,
        /// Ours.
        want: u64,
    },
    /// Over `tx_gas_limit`.
    #[error("gas limit {got} exceeds tx_gas_limit {limit}")]
    GasLimit {
        /// The transaction's.
        got: u64,
        /// The chain's.
        limit: u64,
    },
    /// blockLimit outside the window.
    #[error(
        "blockLimit {got} is outside [{from}, {to}) (BlockLimitCheckFail): use the current block number + up to 1000"
    )]
    BlockLimit {
        /// The transaction's.
        got: u64,
        /// First valid.
        from: u64,
        /// First invalid.
        to: u64,
    },
    /// randomid reused.
    #[error("randomid already used by this sender (NonceCheckFail)")]
    RandomIdUsed,
    /// Nonce below the account's (worded as geth does, which clients recognise).
    #[error("nonce too low: next nonce {next}, tx nonce {got}")]
    NonceTooLow {
        /// The transaction's.
        got: u64,
        /// The account's.
        next: u64,
    },
    /// Another pooled transaction of the sender has this nonce; with no fees it cannot be
    /// replaced (worded as geth does, which clients recognise).
    #[error(
        "replacement transaction underpriced: a transaction with nonce {0} from this account is already pending (fees are zero, so it cannot be replaced)"
    )]
    NonceTaken(u64),
    /// Nonce too far ahead.
    #[error("nonce {got} is more than {MAX_NONCE_GAP} ahead of the account's next nonce {next}")]
    NonceTooHigh {
        /// The transaction's.
        got: u64,
        /// The account's.
        next: u64,
    },
    /// The pool is full.
    #[error("the transaction pool is full ({0} transactions); try again later")]
    Full(usize),
    /// Too many transactions of one sender wait.
    #[error("{0} transactions of this sender already wait in the pool; wait for them to commit")]
    SenderFull(usize),
    /// Below the cheapest transaction's gas.
    #[error("gas limit {0} is below the 21000 every transaction needs")]
    IntrinsicGas(u64),
    /// Value above the balance.
    #[error("value {value} exceeds the sender's balance {balance}")]
    Balance {
        /// The transaction's value.
        value: U256,
        /// The sender's balance.
        balance: U256,
    },
    /// The state could not be read.
    #[error("{0}")]
    State(String),
}

impl From<StateError> for Reject {
    fn from(e: StateError) -> Self {
        Reject::State(e.0)
    }
}

/// What admission depends on besides the transaction.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Chain id.
    pub chain_id: u64,
    /// Group id.
    pub group_id: u64,
    /// Height of the next block.
    pub next_height: u64,
    /// `tx_gas_limit` in force.
    pub tx_gas_limit: u64,
}

#[derive(Debug)]
struct Entry {
    tx: RecoveredTx,
    seq: u64,
    size: usize,
    admitted: std::time::Instant,
    /// For a transaction this node took from a client: when to send it to the sealers
    /// again if it is still pooled, and how many times it has been sent again.
    regossip: Option<(std::time::Instant, u8)>,
}

/// A client's transaction still pooled this long after it was gossiped is gossiped again
/// (the frame may have been dropped by a busy peer); then after twice as long, and so on,
/// [`MAX_REGOSSIPS`] times.
pub const REGOSSIP_AFTER: std::time::Duration = std::time::Duration::from_secs(3);
/// Most times one transaction is gossiped again.
pub const MAX_REGOSSIPS: u8 = 4;

/// The hashes of the transactions a pool holds, shared with the threads that check gossip
/// (a transaction already pooled is not checked again).
pub type PooledSet = std::sync::Arc<std::sync::RwLock<HashSet<B256>>>;

/// The pool.
#[derive(Debug)]
pub struct Pool {
    pooled: PooledSet,
    max_txs: usize,
    max_bytes: usize,
    txs: HashMap<B256, Entry>,
    order: BTreeMap<u64, B256>,
    next_seq: u64,
    bytes: usize,
    random_ids: HashSet<(Address, U256)>,
    /// Ethereum nonces pooled per sender.
    nonces: HashSet<(Address, u64)>,
    /// Per sender, a run `[from, end)` of nonces all pooled (a hint for [`Pool::next_nonce`]).
    runs: HashMap<Address, (u64, u64)>,
    per_sender: HashMap<Address, usize>,
    /// Ethereum transactions waiting behind a nonce gap (geth's "queued"), as of the last
    /// admission or commit.
    queued: usize,
}

fn account(state: &dyn StateView, who: &Address) -> Result<AccountRecord, StateError> {
    Ok(match state.get(&keys::account(who))? {
        Some(v) => AccountRecord::decode_bytes(&v)?,
        None => AccountRecord::default(),
    })
}

pub(crate) fn account_nonce(state: &dyn StateView, who: &Address) -> Result<u64, StateError> {
    Ok(account(state, who)?.nonce)
}

impl Pool {
    /// An empty pool holding at most `max_txs` transactions and `max_bytes` of them.
    pub fn new(max_txs: usize, max_bytes: usize) -> Self {
        Self {
            pooled: PooledSet::default(),
            max_txs,
            max_bytes,
            txs: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            bytes: 0,
            random_ids: HashSet::new(),
            nonces: HashSet::new(),
            runs: HashMap::new(),
            per_sender: HashMap::new(),
            queued: 0,
        }
    }

    /// Transactions that cannot be packed until an earlier nonce of their sender arrives.
    pub fn queued(&self) -> usize {
        self.queued.min(self.txs.len())
    }

    /// Whether an Ethereum transaction waits behind a nonce gap, given its sender's nonce in
    /// the head state.
    pub fn waits_for_gap(&self, tx: &RecoveredTx, state_nonce: u64) -> bool {
        tx.tx.nonce().is_some_and(|n| n > self.next_nonce(&tx.sender, state_nonce))
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether the pool holds `hash`.
    pub fn contains(&self, hash: &B256) -> bool {
        self.txs.contains_key(hash)
    }

    /// The sender the pool recorded for `hash` (checked at admission).
    pub fn sender_of(&self, hash: &B256) -> Option<Address> {
        self.txs.get(hash).map(|e| e.tx.sender)
    }

    /// Admits a transaction whose signature has been checked. `Ok(false)`: already pooled.
    pub fn admit(
        &mut self,
        tx: RecoveredTx,
        rules: &Rules,
        state: &dyn StateView,
        in_chain: impl Fn(&B256) -> Result<bool, StateError>,
    ) -> Result<bool, Reject> {
        let hash = tx.tx.hash();
        if self.txs.contains_key(&hash) {
            return Ok(false);
        }
        // A committed transaction fails the nonce or random-id rule below; the ledger's
        // index is read only then, to say so plainly.
        let refuse = |why: Reject| -> Result<bool, Reject> {
            if in_chain(&hash)? {
                return Err(Reject::InChain(hash));
            }
            Err(why)
        };
        let t = &tx.tx;
        // The group first: a transaction of another group usually names its chain id too,
        // and "wrong group" is what the sender needs to hear.
        if let TxBody::Consortium(c) = t.body()
            && c.group_id != rules.group_id
        {
            return Err(Reject::WrongGroup { got: c.group_id, want: rules.group_id });
        }
        if t.chain_id() != Some(rules.chain_id) {
            return Err(Reject::WrongChain { got: t.chain_id(), want: rules.chain_id });
        }
        if t.gas_limit() > rules.tx_gas_limit {
            return Err(Reject::GasLimit { got: t.gas_limit(), limit: rules.tx_gas_limit });
        }
        if t.gas_limit() < 21_000 {
            return Err(Reject::IntrinsicGas(t.gas_limit()));
        }
        if !t.value().is_zero() {
            let balance = account(state, &tx.sender)?.balance;
            if t.value() > balance {
                return Err(Reject::Balance { value: t.value(), balance });
            }
        }
        let waiting = self.per_sender.get(&tx.sender).copied().unwrap_or(0);
        if waiting >= MAX_PER_SENDER {
            return Err(Reject::SenderFull(waiting));
        }
        let mut random = None;
        let mut state_nonce = None;
        match t.body() {
            TxBody::Consortium(c) => {
                let (from, to) =
                    (rules.next_height, rules.next_height.saturating_add(BLOCK_LIMIT_WINDOW));
                if c.block_limit < from || c.block_limit >= to {
                    return Err(Reject::BlockLimit { got: c.block_limit, from, to });
                }
                let key = (tx.sender, c.random_id);
                if self.random_ids.contains(&key)
                    || state.get(&keys::random_id(&tx.sender, &c.random_id))?.is_some()
                {
                    return refuse(Reject::RandomIdUsed);
                }
                random = Some(key);
            }
            _ => {
                let next = account_nonce(state, &tx.sender)?;
                state_nonce = Some(next);
                let got = t.nonce().unwrap_or_default();
                if got < next {
                    return refuse(Reject::NonceTooLow { got, next });
                }
                if got - next > MAX_NONCE_GAP {
                    return Err(Reject::NonceTooHigh { got, next });
                }
                if self.nonces.contains(&(tx.sender, got)) {
                    return Err(Reject::NonceTaken(got));
                }
            }
        }
        let size = t.encoded().len();
        if self.txs.len() >= self.max_txs || self.bytes + size > self.max_bytes {
            return Err(Reject::Full(self.txs.len()));
        }
        if let Some(key) = random {
            self.random_ids.insert(key);
        }
        if let (Some(n), Some(s)) = (t.nonce(), state_nonce) {
            let next = self.next_nonce(&tx.sender, s);
            self.nonces.insert((tx.sender, n));
            if n > next {
                self.queued += 1;
            } else {
                // Filling a gap releases the transactions queued behind it.
                let mut m = n + 1;
                while self.nonces.contains(&(tx.sender, m)) {
                    self.queued = self.queued.saturating_sub(1);
                    m += 1;
                }
                self.runs.insert(tx.sender, (s, m));
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, hash);
        self.bytes += size;
        *self.per_sender.entry(tx.sender).or_insert(0) += 1;
        let admitted = std::time::Instant::now();
        self.txs.insert(hash, Entry { tx, seq, size, admitted, regossip: None });
        if let Ok(mut set) = self.pooled.write() {
            set.insert(hash);
        }
        Ok(true)
    }

    /// Up to `limit` transactions for a block, in arrival order; an Ethereum transaction only
    /// when its nonce is its sender's next (counting the transactions packed before it). A
    /// transaction that arrived before an earlier nonce of its sender (clients' batches and
    /// gossip need not keep order) is packed right after that nonce.
    pub fn pack(
        &self,
        limit: usize,
        state: &dyn StateView,
    ) -> Result<Vec<RecoveredTx>, StateError> {
        let mut next: HashMap<Address, u64> = HashMap::new();
        // Transactions seen ahead of their sender's next nonce, by sender and nonce.
        let mut ahead: HashMap<Address, BTreeMap<u64, &RecoveredTx>> = HashMap::new();
        let mut out = Vec::new();
        for hash in self.order.values() {
            if out.len() >= limit {
                break;
            }
            let Some(e) = self.txs.get(hash) else { continue };
            let sender = e.tx.sender;
            let expected = match next.get(&sender) {
                Some(n) => *n,
                None => account_nonce(state, &sender)?,
            };
            // A consortium transaction has no nonce of its own but takes its sender's next
            // one at execution.
            match e.tx.tx.nonce() {
                Some(nonce) if nonce != expected => {
                    next.insert(sender, expected);
                    if nonce > expected {
                        ahead.entry(sender).or_default().insert(nonce, &e.tx);
                    }
                    continue;
                }
                _ => {}
            }
            out.push(e.tx.clone());
            let mut n = expected + 1;
            if let Some(held) = ahead.get_mut(&sender) {
                while out.len() < limit {
                    let Some(t) = held.remove(&n) else { break };
                    out.push(t.clone());
                    n += 1;
                }
            }
            next.insert(sender, n);
        }
        Ok(out)
    }

    /// Marks a pooled transaction as this node's to deliver: [`Self::regossip_due`] returns it
    /// again while it stays pooled.
    pub fn track_gossip(&mut self, hash: &B256) {
        if let Some(e) = self.txs.get_mut(hash) {
            e.regossip = Some((e.admitted + REGOSSIP_AFTER, 0));
        }
    }

    /// Tracked transactions whose time to be gossiped again has come (oldest first, at most
    /// `max`); each is due again after twice its last wait, until [`MAX_REGOSSIPS`].
    pub fn regossip_due(&mut self, now: std::time::Instant, max: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        for hash in self.order.values() {
            if out.len() >= max {
                break;
            }
            let Some(e) = self.txs.get_mut(hash) else { continue };
            let Some((at, n)) = e.regossip else { continue };
            if at > now {
                continue;
            }
            out.push(e.tx.tx.encoded().clone());
            e.regossip = (n + 1 < MAX_REGOSSIPS)
                .then(|| (now + REGOSSIP_AFTER * 2u32.pow(u32::from(n) + 1), n + 1));
        }
        out
    }

    /// When a pooled transaction was admitted.
    pub fn admitted_at(&self, hash: &B256) -> Option<std::time::Instant> {
        self.txs.get(hash).map(|e| e.admitted)
    }

    /// A pooled transaction.
    pub fn get(&self, hash: &B256) -> Option<&RecoveredTx> {
        self.txs.get(hash).map(|e| &e.tx)
    }

    /// The nonce `who` sends next, counting its pooled Ethereum transactions that follow
    /// `state_nonce` (its nonce in the head state) without a gap.
    pub fn next_nonce(&self, who: &Address, state_nonce: u64) -> u64 {
        // The pool's index of pooled nonces (no scan of the pool), from the end of the run
        // last seen (no walk along a sender's long run of pooled nonces either).
        let mut n = match self.runs.get(who) {
            Some(&(from, end)) if from <= state_nonce && state_nonce <= end => end,
            _ => state_nonce,
        };
        while self.nonces.contains(&(*who, n)) {
            n += 1;
        }
        n
    }

    /// The pooled transactions in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &RecoveredTx> {
        self.order.values().filter_map(|h| self.txs.get(h).map(|e| &e.tx))
    }

    /// Keeps a sender's run of pooled nonces true when nonce `n` leaves the pool.
    fn shorten_run(&mut self, who: &Address, n: u64) {
        let Some(&(from, end)) = self.runs.get(who) else { return };
        if n < from || n >= end {
            return;
        }
        if n == from && from + 1 < end {
            self.runs.insert(*who, (from + 1, end));
        } else if n > from {
            self.runs.insert(*who, (from, n));
        } else {
            self.runs.remove(who);
        }
    }

    /// The pool's hashes, kept up to date as transactions come and go.
    pub fn pooled_set(&self) -> PooledSet {
        self.pooled.clone()
    }

    /// Removes transactions (committed, or found invalid).
    pub fn remove<'a>(&mut self, hashes: impl IntoIterator<Item = &'a B256>) {
        let pooled = self.pooled.clone();
        let mut set = pooled.write().ok();
        for h in hashes {
            if let Some(s) = set.as_mut() {
                s.remove(h);
            }
            if let Some(e) = self.txs.remove(h) {
                self.order.remove(&e.seq);
                self.bytes -= e.size;
                if let Some(n) = self.per_sender.get_mut(&e.tx.sender) {
                    *n -= 1;
                    if *n == 0 {
                        self.per_sender.remove(&e.tx.sender);
                    }
                }
                if let TxBody::Consortium(c) = e.tx.tx.body() {
                    self.random_ids.remove(&(e.tx.sender, c.random_id));
                }
                if let Some(n) = e.tx.tx.nonce() {
                    self.nonces.remove(&(e.tx.sender, n));
                    self.shorten_run(&e.tx.sender, n);
                }
            }
        }
    }

    /// Drops what can no longer be valid at `next_height`: consortium transactions whose
    /// blockLimit has passed and Ethereum transactions below their sender's nonce.
    /// Also recounts the transactions queued behind nonce gaps.
    pub fn prune(&mut self, next_height: u64, state: &dyn StateView) -> Result<usize, StateError> {
        let mut dead = Vec::new();
        // Per sender of Ethereum transactions: its nonce in the state, and how many stay.
        let mut senders: HashMap<Address, (u64, usize)> = HashMap::new();
        for (h, e) in &self.txs {
            let gone = match e.tx.tx.body() {
                TxBody::Consortium(c) => c.block_limit < next_height,
                _ => {
                    let entry = match senders.get_mut(&e.tx.sender) {
                        Some(entry) => entry,
                        None => senders
                            .entry(e.tx.sender)
                            .or_insert((account_nonce(state, &e.tx.sender)?, 0)),
                    };
                    let gone = e.tx.tx.nonce().unwrap_or_default() < entry.0;
                    if !gone {
                        entry.1 += 1;
                    }
                    gone
                }
            };
            if gone {
                dead.push(*h);
            }
        }
        self.remove(dead.iter());
        self.queued = senders
            .iter()
            .map(|(who, (n, kept))| kept.saturating_sub((self.next_nonce(who, *n) - n) as usize))
            .sum();
        Ok(dead.len())
    }
}
