//! The consensus host: one thread that owns the group's ledger, pool and PBFT replica, and
//! carries out what the replica asks (persist, broadcast, timers, build and execute
//! proposals, commit), plus block sync and transaction gossip. Network and RPC tasks talk to
//! it through a bounded channel; it never blocks on them.
//!
//! Rules it enforces besides the replica's: a proposal's header must match what this node
//! computes (parent, group, chain id, gas limit, sealer set, transaction root with each
//! sender checked — once at pool admission, or here — and, after execution, state root,
//! receipt root, gas used and bloom); a synced block must carry a valid certificate of the
//! sealers at its height and re-execute to the same roots. Only the group's members (sealers
//! and observers in the Consensus contract) are served blocks.

use crate::genesis::Genesis;
use crate::net::{NetEvent, NetHandle, PeerId};
use crate::pool::{Pool, Rules};
use crate::wire::{Frame, MAX_SYNC_BLOCKS, Module, Status, SyncBlocks, SyncRequest, Txs};
use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::Encodable;
use anyhow::{Context, Result, anyhow};
use jinlian_consensus::{
    Committed, Config as PbftConfig, Execution, Input, Output, Replica, SignedMessage, Timer,
    WalEntry,
};
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_executor::{BlockContext, ExecConfig, ExecError, StateError, StateView};
use jinlian_primitives::{
    Block, BlockTx, Certificate, GroupId, Header, Height, RecoveredTx, Transaction, View,
    sealer_set_hash, tx_root,
};
use jinlian_storage::{Ledger, LedgerView, RedbStore};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use tracing::{debug, error, info, warn};

/// The ledger type of a node.
pub type NodeLedger = Ledger<RedbStore>;
type View_ = LedgerView<<RedbStore as jinlian_storage::KvStore>::Snapshot>;

/// What other tasks tell the host.
pub enum HostEvent {
    /// From the network.
    Net(NetEvent),
    /// Transactions from a peer, signatures already checked.
    PeerTxs(PeerId, Vec<RecoveredTx>),
    /// A peer sent something no honest node sends (found off the host thread).
    Misbehaved(PeerId, String),
    /// A question for the pool (from the RPC).
    Pool(jinlian_rpc::PoolQuery, tokio::sync::oneshot::Sender<jinlian_rpc::PoolAnswer>),
    /// A transaction from a client; the reply says whether the pool took it.
    Submit(Box<RecoveredTx>, tokio::sync::oneshot::Sender<Result<B256, jinlian_rpc::SubmitError>>),
    /// Stop.
    Shutdown,
}

impl HostEvent {
    /// Bytes of peer input this event holds (counted against the [`InboundBudget`]); every
    /// peer event costs at least [`MIN_EVENT_COST`], so empty frames are not free.
    pub fn peer_bytes(&self) -> usize {
        match self {
            HostEvent::Net(NetEvent::Frame(_, f)) => f.payload.len().max(MIN_EVENT_COST),
            HostEvent::PeerTxs(_, txs) => {
                txs.iter().map(|t| t.tx.encoded().len()).sum::<usize>().max(MIN_EVENT_COST)
            }
            _ => 0,
        }
    }
}

/// Why the pool did not take a transaction.
#[derive(Debug, thiserror::Error)]
enum Admit {
    /// By its rules.
    #[error("{0}")]
    Refused(crate::pool::Reject),
    /// This node could not read its own state.
    #[error("{0}")]
    Local(String),
}

/// The least a peer event counts against the [`InboundBudget`].
pub const MIN_EVENT_COST: usize = 256;

/// Bytes of peer input on their way to the host and not yet handled. Network input beyond
/// the limit is dropped (consensus and gossip tolerate loss) rather than held, so peers
/// cannot make a busy node's queue grow without bound.
#[derive(Debug)]
pub struct InboundBudget {
    used: std::sync::atomic::AtomicUsize,
    limit: usize,
}

impl InboundBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { used: std::sync::atomic::AtomicUsize::new(0), limit }
    }

    /// Takes `n` bytes if they fit.
    pub fn try_take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering::AcqRel;
        if self.used.fetch_add(n, AcqRel) + n > self.limit {
            self.used.fetch_sub(n, AcqRel);
            return false;
        }
        true
    }

    /// Returns `n` bytes taken before.
    pub fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
    }

    /// The limit, bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes taken now.
    pub fn used(&self) -> usize {
        self.used.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The ledger's state at its head, for the executor.
pub struct LedgerState(pub View_);

impl StateView for LedgerState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0.state(key).map_err(|e| StateError(e.to_string()))
    }

    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError> {
        let h = self.0.header(Height(height)).map_err(|e| StateError(e.to_string()))?;
        Ok(h.map(|h| h.hash(self.0.suite())))
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

const STATUS_EVERY_MS: u64 = 2_000;
/// A peer whose status for a group has not come for this long (statuses come every 2 s) no
/// longer counts as a peer of the group.
const PEER_STATUS_TTL_MS: u64 = 10_000;

const MAX_EVENTS_PER_PASS: usize = 256;
/// Most transaction bytes in one gossip frame.
const GOSSIP_FRAME_BYTES: usize = 1024 * 1024;
/// Most clients' transactions gossiped again per status tick (2 s).
const MAX_REGOSSIP_PER_TICK: usize = 4_000;
/// Consensus messages queued for the replica beyond this are dropped (a flood).
const MAX_QUEUED_INPUTS: usize = 20_000;
/// Largest block (transaction bytes) a proposal may carry: a proposal, and a new view
/// carrying a quorum of prepared blocks, must fit in a frame.
pub const MAX_BLOCK_BYTES: usize = 2 * 1024 * 1024;
const SYNC_TIMEOUT_MS: u64 = 5_000;
const SYNC_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// What the host tells the rest of the node (the RPC) as things happen.
#[derive(Clone)]
pub struct Publish {
    /// Committed blocks and newly pooled transactions.
    pub events: tokio::sync::broadcast::Sender<jinlian_rpc::ChainEvent>,
    /// The node's status, refreshed on commits, peer changes and every 2 s.
    pub status: Arc<std::sync::RwLock<jinlian_rpc::NodeStatus>>,
    /// Prometheus metrics.
    pub metrics: crate::metrics::NodeMetrics,
}

impl Publish {
    /// A channel holding the last 4,096 events for slow readers, an empty status, and metrics
    /// registered nowhere.
    pub fn new() -> Self {
        Self::with_metrics(crate::metrics::NodeMetrics::unregistered())
    }

    /// The same, updating `metrics`.
    pub fn with_metrics(metrics: crate::metrics::NodeMetrics) -> Self {
        Self {
            events: tokio::sync::broadcast::channel(4096).0,
            status: Arc::new(std::sync::RwLock::new(jinlian_rpc::NodeStatus::default())),
            metrics,
        }
    }
}

impl Default for Publish {
    fn default() -> Self {
        Self::new()
    }
}

/// The host of one group on one node.
pub struct Host {
    genesis: Genesis,
    suite: CryptoSuite,
    genesis_hash: B256,
    ledger: Arc<NodeLedger>,
    key: KeyPair,
    me: PeerId,
    net: NetHandle,
    replica: Option<Replica>,
    /// Sealers of the next height, sorted.
    sealers: Vec<PublicKey>,
    /// Sealers and observers.
    members: HashSet<PeerId>,
    pool: Pool,
    /// Executed blocks by hash: the outcome and the transactions' hashes, for the commit.
    outcomes: HashMap<B256, (jinlian_executor::BlockOutcome, Vec<B256>)>,
    timers: BTreeSet<(u64, Timer)>,
    wal_seq: u64,
    peers: HashMap<PeerId, Status>,
    /// When each peer's status last came (ms); a peer silent for the group (it stopped the
    /// group, or left it) is forgotten after [`PEER_STATUS_TTL_MS`].
    peer_seen: HashMap<PeerId, u64>,
    sync_inflight: Option<(PeerId, u64)>,
    /// Peers not to ask for blocks until a time (and the current back-off, ms).
    sync_penalty: HashMap<PeerId, (u64, u64)>,
    next_status: u64,
    inputs: VecDeque<Input>,
    inbound: Arc<InboundBudget>,
    publish: Publish,
    /// Our height when we started catching up, while behind.
    sync_start: Option<u64>,
    stop: bool,
    /// `[node] strict_senders`: check every sender of blocks this node did not vote on.
    strict_senders: bool,
    /// Clients' transactions taken since the last pass, to gossip in one frame.
    gossip_out: Vec<Bytes>,
    /// Transactions were pooled since the replica last heard whether any can be packed.
    pooled_since_pass: bool,
    /// Admission rules and `tx_count_limit` at the head (cleared by each commit).
    head_cache: Option<(Rules, u64)>,
}

fn to_ids(ids: &[[u8; 64]]) -> Vec<PublicKey> {
    ids.iter().map(|i| PublicKey(*i)).collect()
}

impl Host {
    /// Opens the host on a ledger (created from the genesis if empty).
    pub fn new(
        genesis: Genesis,
        ledger: Arc<NodeLedger>,
        key: KeyPair,
        net: NetHandle,
        inbound: Arc<InboundBudget>,
        publish: Publish,
        cfg: &crate::config::NodeConfig,
    ) -> Result<Self> {
        let pool_limits = &cfg.txpool;
        let suite = genesis.crypto_suite();
        let genesis_hash = genesis.hash();
        match ledger.view()?.genesis_hash()? {
            Some(stored) => crate::genesis::check_matches(&genesis, stored)?,
            None => {
                let (block, writes) = genesis.block();
                ledger.commit_block(&block, &[], &writes).context("writing block 0")?;
                info!(hash = %genesis_hash, "created the ledger from genesis");
            }
        }
        let wal_seq = ledger.view()?.wal_entries(0, usize::MAX)?.last().map_or(0, |(s, _)| s + 1);
        let me = key.public().0;
        let mut h = Self {
            genesis,
            suite,
            genesis_hash,
            ledger,
            key,
            me,
            net,
            replica: None,
            sealers: Vec::new(),
            members: HashSet::new(),
            pool: Pool::new(pool_limits.max_txs, pool_limits.max_mib.saturating_mul(1024 * 1024)),
            outcomes: HashMap::new(),
            timers: BTreeSet::new(),
            wal_seq,
            peers: HashMap::new(),
            peer_seen: HashMap::new(),
            sync_inflight: None,
            sync_penalty: HashMap::new(),
            next_status: 0,
            inputs: VecDeque::new(),
            inbound,
            publish,
            sync_start: None,
            stop: false,
            strict_senders: cfg.node.strict_senders,
            gossip_out: Vec::new(),
            pooled_since_pass: false,
            head_cache: None,
        };
        h.refresh_members()?;
        h.boot_replica(true)?;

        h.publish_status()?;
        Ok(h)
    }

    fn view(&self) -> Result<View_> {
        Ok(self.ledger.view()?)
    }

    fn state(&self) -> Result<LedgerState> {
        Ok(LedgerState(self.view()?))
    }

    fn head(&self) -> Result<(Header, B256)> {
        let v = self.view()?;
        let head = v.head()?.context("the ledger has no genesis")?;
        let header = v.header(head.height)?.context("head header missing")?;
        Ok((header, head.hash))
    }

    fn refresh_members(&mut self) -> Result<()> {
        let state = self.state()?;
        self.sealers = to_ids(&jinlian_executor::system::sealers(&state)?);
        self.members = jinlian_executor::system::consensus_nodes(&state)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        Ok(())
    }

    fn config_u64(&self, key: &str, height: u64, default: u64) -> Result<u64> {
        Ok(jinlian_executor::system::config_at(&self.state()?, key, height)?.unwrap_or(default))
    }

    fn pbft_config(&self, height: u64) -> Result<PbftConfig> {
        let c = &self.genesis.config;
        Ok(PbftConfig {
            suite: self.suite,
            block_interval_ms: self.config_u64("block_interval_ms", height, c.block_interval_ms)?,
            timeout_ms: self.config_u64("consensus_timeout", height, c.consensus_timeout)? * 1000,
            ..PbftConfig::default()
        })
    }

    /// (Re)creates the replica at the head, if this node seals the next height. Messages the
    /// old replica held for later heights are handed to the new one (after a sync they are
    /// often for the very height it now agrees on).
    fn boot_replica(&mut self, from_wal: bool) -> Result<()> {
        let (header, hash) = self.head()?;
        let buffered = self.replica.as_mut().map(Replica::take_buffered).unwrap_or_default();
        if !self.sealers.iter().any(|s| s.0 == self.me) {
            self.replica = None;
            return Ok(());
        }
        let next = header.height.0 + 1;
        let wal: Vec<WalEntry> = if from_wal {
            self.view()?
                .wal_entries(0, usize::MAX)?
                .into_iter()
                .map(|(seq, b)| {
                    WalEntry::decode(&b).ok_or_else(|| {
                        anyhow!("consensus WAL entry {seq} does not decode: the ledger is damaged")
                    })
                })
                .collect::<Result<_>>()?
        } else {
            Vec::new()
        };
        let parent = Committed {
            height: header.height,
            hash,
            timestamp_ms: header.timestamp_ms,
            view: self.view()?.certificate(header.height)?.map_or(View(0), |c| c.view),
        };
        let mut replica = Replica::new(
            self.pbft_config(next)?,
            self.key.clone(),
            parent,
            self.sealers.clone(),
            &wal,
        );
        self.timers.clear();
        let mut out = Vec::new();
        replica.start(now_ms(), &mut out);
        replica.step(now_ms(), Input::TxsPending(self.packable()), &mut out);
        self.replica = Some(replica);
        self.perform(out)?;
        self.inputs.extend(buffered.into_iter().map(Input::Message));
        Ok(())
    }

    fn exec_config(&self) -> ExecConfig {
        ExecConfig {
            suite: self.suite,
            chain_id: self.genesis.chain_id,
            group_id: u64::from(self.genesis.group_id),
            tx_gas_limit: self.genesis.config.tx_gas_limit,
            ..ExecConfig::default()
        }
    }

    fn rules(&self) -> Result<Rules> {
        let (header, _) = self.head()?;
        let next = header.height.0 + 1;
        Ok(Rules {
            chain_id: self.genesis.chain_id,
            group_id: u64::from(self.genesis.group_id),
            next_height: next,
            tx_gas_limit: self.config_u64(
                "tx_gas_limit",
                next,
                self.genesis.config.tx_gas_limit,
            )?,
        })
    }

    /// Runs until [`HostEvent::Shutdown`] or until every sender is gone.
    pub fn run(mut self, events: Receiver<HostEvent>) -> Result<()> {
        info!(node = %PublicKey(self.me), sealer = self.replica.is_some(), "node started");
        let r = self.serve(&events);
        // What is still queued will never be handled: its bytes go back to the budget the
        // node's other groups share.
        while let Ok(ev) = events.try_recv() {
            self.inbound.give_back(ev.peer_bytes());
        }
        r
    }

    fn serve(&mut self, events: &Receiver<HostEvent>) -> Result<()> {
        while !self.stop {
            let now = now_ms();
            while let Some(&(at, timer)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.pop_first();
                self.inputs.push_back(Input::Timer(timer));
            }
            if now >= self.next_status {
                self.next_status = now + STATUS_EVERY_MS;
                self.broadcast_status()?;
                self.maybe_sync()?;
                self.publish_status()?;
                let again =
                    self.pool.regossip_due(std::time::Instant::now(), MAX_REGOSSIP_PER_TICK);
                if !again.is_empty() {
                    debug!(txs = again.len(), "gossiping clients' transactions again");
                    self.gossip(again);
                }
            }
            self.drain_inputs()?;
            let next =
                self.timers.first().map_or(self.next_status, |(at, _)| *at).min(self.next_status);
            let wait = Duration::from_millis(next.saturating_sub(now_ms()).clamp(1, 1000));
            match events.recv_timeout(wait) {
                Ok(ev) => self.handle(ev)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Take what else is queued, a bounded number at a time, so timers and the
            // replica keep running however fast peers send.
            for _ in 0..MAX_EVENTS_PER_PASS {
                let Ok(ev) = events.try_recv() else { break };
                self.handle(ev)?;
                if self.stop {
                    break;
                }
            }
            self.end_pass();
            self.drain_inputs()?;
        }
        info!("node stopped");
        Ok(())
    }

    fn drain_inputs(&mut self) -> Result<()> {
        while let Some(input) = self.inputs.pop_front() {
            let Some(r) = self.replica.as_mut() else { continue };
            let mut out = Vec::new();
            r.step(now_ms(), input, &mut out);
            self.perform(out)?;
        }
        Ok(())
    }

    fn handle(&mut self, ev: HostEvent) -> Result<()> {
        self.inbound.give_back(ev.peer_bytes());
        match ev {
            HostEvent::Shutdown => self.stop = true,
            HostEvent::Submit(tx, reply) => {
                let tx = *tx;
                let hash = tx.tx.hash();
                let raw = tx.tx.encoded().clone();
                let r = self.admit(tx);
                // Gossiped (and tracked for gossiping again) when new, not when a client
                // sends it again.
                if matches!(r, Ok(true)) {
                    self.gossip_out.push(raw);
                    self.pool.track_gossip(&hash);
                }
                let r = r.map(|_| hash).map_err(|e| match e {
                    // Limits that clear as blocks commit: the client should come back.
                    Admit::Refused(
                        why @ (crate::pool::Reject::Full(_) | crate::pool::Reject::SenderFull(_)),
                    ) => jinlian_rpc::SubmitError::Busy(why.to_string()),
                    other => jinlian_rpc::SubmitError::Refused(other.to_string()),
                });
                let _ = reply.send(r);
            }
            HostEvent::Pool(q, reply) => {
                let mut a = jinlian_rpc::PoolAnswer::default();
                if let Some(h) = q.tx {
                    a.tx = self.pool.get(&h).cloned();
                }
                if let Some((who, nonce)) = q.nonce_of {
                    // The caller read `nonce` from a snapshot that may predate a commit this
                    // host has made since (the committed transactions have left the pool):
                    // start from the newer of the two, or a just-committed nonce comes back
                    // as "pending" and a client signs it again.
                    let here = crate::pool::account_nonce(&self.state()?, &who)?;
                    a.next_nonce = Some(self.pool.next_nonce(&who, nonce.max(here)));
                }
                a.queued_count = self.pool.queued();
                if q.list > 0 {
                    let state = self.state()?;
                    let mut nonces = HashMap::new();
                    for t in self.pool.iter().take(q.list.min(10_000)) {
                        let n = match nonces.get(&t.sender) {
                            Some(n) => *n,
                            None => {
                                let n = crate::pool::account_nonce(&state, &t.sender)?;
                                nonces.insert(t.sender, n);
                                n
                            }
                        };
                        if self.pool.waits_for_gap(t, n) {
                            a.queued.push(t.clone());
                        } else {
                            a.pending.push(t.clone());
                        }
                    }
                }
                let _ = reply.send(a);
            }
            HostEvent::Misbehaved(peer, why) => {
                warn!(peer = %PublicKey(peer), "dropping a peer: {why}");
                self.net.disconnect(&peer);
            }
            HostEvent::PeerTxs(from, txs) => {
                if !self.members.contains(&from) {
                    debug!(peer = %PublicKey(from), "transactions from a node outside the group ignored");
                    return Ok(());
                }
                for tx in txs {
                    if let Err(e) = self.admit(tx) {
                        debug!("a peer's transaction was not pooled: {e}");
                    }
                }
            }
            HostEvent::Net(NetEvent::Up(peer)) => {
                // A group's data goes to its members only.
                if !self.members.contains(&peer) {
                    return Ok(());
                }
                let status = self.status()?;
                self.net.send(
                    &peer,
                    &Frame::new(self.genesis.group_id, Module::Status, alloy_rlp::encode(&status)),
                );
            }
            HostEvent::Net(NetEvent::Down(peer)) => {
                self.peers.remove(&peer);
                self.peer_seen.remove(&peer);
                if self.sync_inflight.is_some_and(|(p, _)| p == peer) {
                    self.sync_inflight = None;
                }
            }
            HostEvent::Net(NetEvent::Frame(peer, frame)) => {
                if frame.group != self.genesis.group_id {
                    debug!(group = frame.group, "frame for a group this node does not serve");
                    return Ok(());
                }
                // Errors here are this node's own (storage): they stop it. A peer's faults
                // are handled inside.
                self.on_frame(peer, frame)?;
            }
        }
        Ok(())
    }

    /// After a pass over queued events: what clients sent goes to the sealers in one frame,
    /// and the replica hears once whether the pool has something to pack.
    fn end_pass(&mut self) {
        if !self.gossip_out.is_empty() {
            let txs = std::mem::take(&mut self.gossip_out);
            self.gossip(txs);
        }
        if std::mem::take(&mut self.pooled_since_pass) {
            self.say_pending();
        }
    }

    /// The admission rules and `tx_count_limit` for the next height (read once per height).
    fn head_rules(&mut self) -> Result<(Rules, u64)> {
        if let Some(c) = self.head_cache {
            return Ok(c);
        }
        let rules = self.rules()?;
        let limit = self.config_u64(
            "tx_count_limit",
            rules.next_height,
            self.genesis.config.tx_count_limit,
        )?;
        self.head_cache = Some((rules, limit));
        Ok((rules, limit))
    }

    /// Tells the replica whether the pool has something to pack, and when it holds a full
    /// block (`tx_count_limit` transactions not waiting behind a nonce gap), so a loaded chain
    /// proposes at once. Transactions stuck behind a gap never count: they cannot make anyone
    /// skip the interval.
    fn say_pending(&mut self) {
        let packable = self.packable();
        self.inputs.push_back(Input::TxsPending(packable));
        let Ok((_, limit)) = self.head_rules() else { return };
        let ready = self.pool.len().saturating_sub(self.pool.queued()) as u64;
        if packable && ready >= limit {
            self.inputs.push_back(Input::BlockFull);
        }
    }

    /// Offers a transaction to the pool: `Ok(false)` if it was pooled already.
    fn admit(&mut self, tx: RecoveredTx) -> Result<bool, Admit> {
        let hash = tx.tx.hash();
        let (rules, _) = self.head_rules().map_err(|e| Admit::Local(e.to_string()))?;
        let state = self.state().map_err(|e| Admit::Local(e.to_string()))?;
        let view = &state.0;
        let added = self
            .pool
            .admit(tx, &rules, &state, |h| {
                view.tx_location(h).map(|l| l.is_some()).map_err(|e| StateError(e.to_string()))
            })
            .map_err(Admit::Refused)?;
        if added {
            self.pooled_since_pass = true;
            let _ = self.publish.events.send(jinlian_rpc::ChainEvent::Pending(hash));
        }
        Ok(added)
    }

    /// Whether the pool holds a transaction a block could take now. A transaction waiting for
    /// an earlier nonce does not count: it must not make the sealers expect a block (and
    /// change views when none comes).
    fn packable(&self) -> bool {
        self.state().ok().and_then(|s| self.pool.pack(1, &s).ok()).is_some_and(|v| !v.is_empty())
    }

    /// The hashes this host's pool holds, shared with the gossip checkers.
    pub fn pooled_set(&self) -> crate::pool::PooledSet {
        self.pool.pooled_set()
    }

    /// Sends clients' transactions to the other sealers, in frames of at most
    /// [`MAX_TXS_PER_FRAME`](crate::wire::MAX_TXS_PER_FRAME) transactions and [`GOSSIP_FRAME_BYTES`].
    fn gossip(&self, txs: Vec<Bytes>) {
        let to: Vec<PeerId> = self.sealers.iter().map(|s| s.0).filter(|s| *s != self.me).collect();
        if to.is_empty() {
            return;
        }
        let mut frame_txs = Vec::new();
        let mut bytes = 0;
        let send = |txs: Vec<Bytes>| {
            let payload = Txs { txs };
            let frame = Frame::new(self.genesis.group_id, Module::Txs, alloy_rlp::encode(&payload));
            self.net.send_many(&to, &frame);
        };
        for raw in txs {
            if !frame_txs.is_empty()
                && (frame_txs.len() >= crate::wire::MAX_TXS_PER_FRAME
                    || bytes + raw.len() > GOSSIP_FRAME_BYTES)
            {
                send(std::mem::take(&mut frame_txs));
                bytes = 0;
            }
            bytes += raw.len();
            frame_txs.push(raw);
        }
        if !frame_txs.is_empty() {
            send(frame_txs);
        }
    }

    /// Refreshes the status the RPC reads.
    fn publish_status(&mut self) -> Result<()> {
        let ours = self.head()?.0.height.0;
        let fresh = now_ms().saturating_sub(PEER_STATUS_TTL_MS);
        let seen = &self.peer_seen;
        self.peers.retain(|p, _| seen.get(p).is_some_and(|t| *t >= fresh));
        self.peer_seen.retain(|_, t| *t >= fresh);
        let highest = self.peers.values().map(|s| s.height).max().unwrap_or(0).max(ours);
        if highest <= ours {
            self.sync_start = None;
        } else if self.sync_start.is_none() && highest > ours + 1 {
            self.sync_start = Some(ours);
        }
        let status = jinlian_rpc::NodeStatus {
            node_id: self.me,
            sealer: self.replica.is_some(),
            view: self.replica.as_ref().map_or(0, |r| r.view().0),
            peers: self
                .peers
                .iter()
                .map(|(id, s)| jinlian_rpc::PeerStatus {
                    node_id: *id,
                    height: s.height,
                    head: s.head,
                })
                .collect(),
            pool_size: self.pool.len(),
            highest_known: highest,
            sync_start: self.sync_start,
        };
        let m = &self.publish.metrics;
        m.height.set(ours as i64);
        m.pool.set(status.pool_size as i64);
        m.view.set(status.view as i64);
        m.peers.set(status.peers.len() as i64);
        m.sealer.set(i64::from(status.sealer));
        m.sync_lag.set(highest.saturating_sub(ours) as i64);
        if let Ok(mut s) = self.publish.status.write() {
            *s = status;
        }
        Ok(())
    }

    fn status(&self) -> Result<Status> {
        let (header, hash) = self.head()?;
        Ok(Status { genesis: self.genesis_hash, height: header.height.0, head: hash })
    }

    fn broadcast_status(&self) -> Result<()> {
        let frame =
            Frame::new(self.genesis.group_id, Module::Status, alloy_rlp::encode(&self.status()?));
        let to: Vec<PeerId> =
            self.net.connected().into_iter().filter(|p| self.members.contains(p)).collect();
        self.net.send_many(&to, &frame);
        Ok(())
    }

    /// A frame whose payload does not decode: the peer is dropped (see [`crate::wire`]).
    fn bad_frame(&self, peer: PeerId, e: impl std::fmt::Display) -> Result<()> {
        warn!(peer = %PublicKey(peer), "dropping a peer for a bad frame: {e}");
        self.net.disconnect(&peer);
        Ok(())
    }

    /// Handles a frame of our group. A peer's faults are dealt with here (logged, the peer
    /// dropped or penalised); an error returned is this node's own and stops it.
    fn on_frame(&mut self, peer: PeerId, frame: Frame) -> Result<()> {
        match frame.module {
            Module::Status => {
                let s = match Status::decode(&frame.payload) {
                    Ok(s) => s,
                    Err(e) => return self.bad_frame(peer, e),
                };
                // Only members' statuses count (sync sources, lag, the peers the RPC shows):
                // a node outside the group may run it, or an unrelated group of the same id.
                if !self.members.contains(&peer) {
                    return Ok(());
                }
                if s.genesis != self.genesis_hash {
                    warn!(
                        peer = %PublicKey(peer),
                        "peer has another genesis ({}, ours {}); disconnecting it",
                        s.genesis,
                        self.genesis_hash
                    );
                    self.net.disconnect(&peer);
                    return Ok(());
                }
                self.peers.insert(peer, s);
                self.peer_seen.insert(peer, now_ms());
                self.maybe_sync()?;
            }
            Module::Consensus => {
                // Consensus messages come straight from their signer. For the height being
                // agreed on, a message that does not decode, names a sealer other than the
                // peer that sent it, or is not signed by it, is misbehaviour: the peer is
                // dropped. Messages of other heights (whose sealer set may differ) go to the
                // replica, which checks them when their height comes.
                if !self.sealers.iter().any(|s| s.0 == peer) {
                    // Only sealers take part. A peer ahead of us may be a sealer of a later
                    // height (we hear it once caught up); anyone else is misbehaving.
                    let ours = self.head()?.0.height.0;
                    if self.peers.get(&peer).is_none_or(|s| s.height <= ours) {
                        warn!(peer = %PublicKey(peer), "dropping a peer for a bad consensus message: it is not a sealer");
                        self.net.disconnect(&peer);
                    }
                    return Ok(());
                }
                if self.inputs.len() >= MAX_QUEUED_INPUTS {
                    return Ok(());
                }
                let next = self.head()?.0.height.0 + 1;
                let checked = SignedMessage::decode_exact(&frame.payload)
                    .map_err(|e| e.to_string())
                    .and_then(|m| {
                        let msg = jinlian_consensus::Message::decode(&m.payload)
                            .map_err(|e| e.to_string())?;
                        if msg.height().0 == next {
                            let signer = self.sealers.get(m.from as usize).map(|k| k.0);
                            if signer != Some(peer) {
                                return Err(format!(
                                    "it names sealer {} but is not that sealer",
                                    m.from
                                ));
                            }
                            m.open(self.suite, &self.sealers).map_err(|e| e.to_string())?;
                        }
                        Ok(m)
                    });
                match checked {
                    Ok(m) => self.inputs.push_back(Input::Message(m)),
                    Err(why) => {
                        warn!(peer = %PublicKey(peer), "dropping a peer for a bad consensus message: {why}");
                        self.net.disconnect(&peer);
                    }
                }
            }
            Module::Txs => {} // decoded and checked by the network task (see run.rs)
            Module::Hello => {} // consumed by the network layer (see net.rs)
            Module::SyncRequest => {
                let r = match SyncRequest::decode(&frame.payload) {
                    Ok(r) => r,
                    Err(e) => return self.bad_frame(peer, e),
                };
                if !self.members.contains(&peer) {
                    debug!(peer = %PublicKey(peer), "sync request from a node outside the group refused");
                    return Ok(());
                }
                // A peer asking faster than it reads makes this node neither read more
                // blocks nor queue them for it.
                if self.net.queued_bytes(&peer) >= SYNC_REPLY_BYTES {
                    debug!(peer = %PublicKey(peer), "sync request ignored: the last reply is still being sent");
                    return Ok(());
                }
                let view = self.view()?;
                let mut blocks = Vec::new();
                let mut bytes = 0;
                for h in r.from..r.from.saturating_add(r.count) {
                    let Some(b) = view.block(Height(h))? else { break };
                    bytes += b.length();
                    if bytes > SYNC_REPLY_BYTES && !blocks.is_empty() {
                        break;
                    }
                    blocks.push(b);
                }
                let reply = SyncBlocks { blocks };
                self.net.send(
                    &peer,
                    &Frame::new(
                        self.genesis.group_id,
                        Module::SyncBlocks,
                        alloy_rlp::encode(&reply),
                    ),
                );
            }
            Module::SyncBlocks => {
                if self.sync_inflight.is_none_or(|(p, _)| p != peer) {
                    debug!(peer = %PublicKey(peer), "unrequested blocks ignored");
                    return Ok(());
                }
                self.sync_inflight = None;
                let s = match SyncBlocks::decode(&frame.payload) {
                    Ok(s) => s,
                    Err(e) => return self.bad_frame(peer, e),
                };
                let mut applied = 0;
                for block in s.blocks {
                    let (header, hash) = self.head()?;
                    if block.header.height.0 <= header.height.0 {
                        continue;
                    }
                    if block.header.height.0 != header.height.0 + 1
                        || block.header.parent_hash != hash
                    {
                        break;
                    }
                    if let Err(why) = self.apply_synced(block)? {
                        warn!(peer = %PublicKey(peer), "a synced block was refused: {why}");
                        break;
                    }
                    applied += 1;
                }
                if applied > 0 {
                    self.truncate_wal()?;
                    self.boot_replica(false)?;
                    self.maybe_sync()?;
                } else {
                    // Nothing usable: ask others for a while.
                    self.penalise(peer);
                }
            }
        }
        Ok(())
    }

    /// A peer that did not serve what it claimed is not asked again for a while (doubling,
    /// up to 5 minutes; its status messages do not lift this).
    fn penalise(&mut self, peer: PeerId) {
        let now = now_ms();
        let e = self.sync_penalty.entry(peer).or_insert((0, 2_500));
        e.1 = (e.1 * 2).min(300_000);
        e.0 = now + e.1;
    }

    fn maybe_sync(&mut self) -> Result<()> {
        let now = now_ms();
        match self.sync_inflight {
            Some((_, deadline)) if deadline > now => return Ok(()),
            // A peer that did not answer in time loses its claim until its next status, so a
            // peer claiming a height it cannot serve does not hold sync up.
            Some((peer, _)) => {
                self.penalise(peer);
                self.sync_inflight = None;
            }
            None => {}
        }
        let (header, _) = self.head()?;
        let ours = header.height.0;
        let penalties = &self.sync_penalty;
        let best = self
            .peers
            .iter()
            .filter(|(p, s)| {
                s.height > ours && penalties.get(*p).is_none_or(|(until, _)| *until <= now)
            })
            .max_by_key(|(_, s)| s.height);
        if let Some((peer, s)) = best {
            let count = (s.height - ours).min(MAX_SYNC_BLOCKS);
            let req = SyncRequest { from: ours + 1, count };
            let peer = *peer;
            self.net.send(
                &peer,
                &Frame::new(self.genesis.group_id, Module::SyncRequest, alloy_rlp::encode(req)),
            );
            self.sync_inflight = Some((peer, now + SYNC_TIMEOUT_MS));
        }
        Ok(())
    }

    /// Checks a synced block (certificate of the current sealers, transaction root) and
    /// re-executes it; commits it if its roots match. The inner error says why the block was
    /// refused (the peer's fault); the outer one is this node's own.
    fn apply_synced(&mut self, block: Block) -> Result<Result<(), String>> {
        let hash = block.hash(self.suite);
        if let Err(e) = block.certificate.verify(self.suite, &hash, &self.sealers) {
            return Ok(Err(format!("certificate: {e}")));
        }
        // Senders are vouched for by the certificate through the transaction root.
        if let Err(e) = block.verify_tx_root(self.suite) {
            return Ok(Err(format!("transaction root: {e}")));
        }
        let txs = match block.transactions(self.suite) {
            Ok(t) => t,
            Err(e) => return Ok(Err(format!("transactions: {e}"))),
        };
        if self.strict_senders
            && let Err(e) = check_senders(self.suite, &txs)
        {
            return Ok(Err(format!("strict sender check: {e}")));
        }
        // The certificate and the transaction root vouch for this exact block: if it does
        // not execute to its roots here, this node has diverged and must stop.
        let out = self.execute_checked(&block, &txs)?.map_err(|why| {
            anyhow!(
                "certified block {} does not execute here ({why}): this node has diverged",
                block.header.height.0
            )
        })?;
        let hashes: Vec<B256> = txs.iter().map(|t| t.tx.hash()).collect();
        self.commit_executed(&block, out, &hashes, "synced")?;
        Ok(Ok(()))
    }

    fn block_context(&self, header: &Header, parent_root: B256) -> Result<BlockContext> {
        let proposer =
            self.sealers.get(header.proposer as usize).context("proposer index out of range")?;
        Ok(BlockContext {
            height: header.height.0,
            timestamp_ms: header.timestamp_ms,
            gas_limit: header.gas_limit,
            coinbase: self.suite.address_of(proposer),
            parent_state_root: parent_root,
        })
    }

    /// Executes a block's transactions on the head and checks every root of its header. The
    /// inner error says why the block is invalid; the outer one is a local failure (storage,
    /// the EVM itself), which is never evidence against the block.
    fn execute_checked(
        &self,
        block: &Block,
        txs: &[RecoveredTx],
    ) -> Result<Result<jinlian_executor::BlockOutcome, String>> {
        let (parent, _) = self.head()?;
        let h = &block.header;
        let Ok(ctx) = self.block_context(h, parent.state_root) else {
            return Ok(Err(format!("proposer index {} is out of range", h.proposer)));
        };
        let state = self.state()?;
        let started = std::time::Instant::now();
        let executed = jinlian_executor::execute_block(&self.exec_config(), &state, &ctx, txs);
        self.publish.metrics.execution_seconds.observe(started.elapsed().as_secs_f64());
        let out = match executed {
            Ok(out) => out,
            Err(e @ ExecError::InvalidTx { .. }) => return Ok(Err(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        let checks = [
            ("state root", out.state_root == h.state_root),
            ("receipt root", out.receipt_root == h.receipt_root),
            ("gas used", out.gas_used == h.gas_used),
            ("logs bloom", out.logs_bloom == h.logs_bloom),
        ];
        for (what, ok) in checks {
            if !ok {
                return Ok(Err(format!("the block's {what} differs from this node's execution")));
            }
        }
        Ok(Ok(out))
    }

    /// Commits an executed block; `hashes` are its transactions' hashes, in order (computed
    /// once when the transactions were decoded).
    fn commit_executed(
        &mut self,
        block: &Block,
        out: jinlian_executor::BlockOutcome,
        hashes: &[B256],
        how: &str,
    ) -> Result<()> {
        self.ledger.commit_executed_block(
            block,
            &out.receipts,
            &out.write_set,
            &out.prior,
            hashes,
        )?;
        let m = &self.publish.metrics;
        m.txs.inc_by(block.txs.len() as u64);
        for h in hashes {
            if let Some(at) = self.pool.admitted_at(h) {
                m.commit_latency_seconds.observe(at.elapsed().as_secs_f64());
            }
        }
        self.pool.remove(hashes.iter());
        self.head_cache = None;
        let state = self.state()?;
        let pruned = self.pool.prune(block.header.height.0 + 1, &state)?;
        self.publish.metrics.dropped.inc_by(pruned as u64);
        self.outcomes.clear();
        self.refresh_members()?;
        let _ = self.publish.events.send(jinlian_rpc::ChainEvent::Block(block.header.height.0));
        self.publish_status()?;
        info!(
            height = block.header.height.0,
            hash = %block.hash(self.suite),
            txs = block.txs.len(),
            view = block.certificate.view.0,
            pool = self.pool.len(),
            pruned,
            "{how} block"
        );
        self.broadcast_status()?;
        Ok(())
    }

    fn truncate_wal(&mut self) -> Result<()> {
        self.ledger.truncate_wal(self.wal_seq, usize::MAX)?;
        Ok(())
    }

    fn perform(&mut self, out: Vec<Output>) -> Result<()> {
        for o in out {
            match o {
                Output::Persist(entry) => {
                    if matches!(entry, WalEntry::ViewChange { .. }) {
                        self.publish.metrics.view_changes.inc();
                    }
                    self.ledger.append_wal(self.wal_seq, &entry.encode_to_vec())?;
                    self.wal_seq += 1;
                }
                Output::Broadcast(msg) => {
                    if let Ok(jinlian_consensus::Message::ViewChange(vc)) =
                        jinlian_consensus::Message::decode(&msg.payload)
                    {
                        info!(
                            height = vc.height.0,
                            view = vc.view.0,
                            "no commit in time: asking for a view change"
                        );
                    }
                    let frame =
                        Frame::new(self.genesis.group_id, Module::Consensus, msg.encode_to_vec());
                    let to: Vec<PeerId> =
                        self.sealers.iter().map(|s| s.0).filter(|s| *s != self.me).collect();
                    self.net.send_many(&to, &frame);
                }
                Output::SetTimer { timer, at_ms } => {
                    self.timers.insert((at_ms, timer));
                }
                Output::BuildProposal { height, view, parent_hash, min_timestamp_ms } => {
                    if let Err(e) = self.build(height, view, parent_hash, min_timestamp_ms) {
                        error!(
                            height = height.0,
                            view = view.0,
                            "building a proposal failed: {e:#}"
                        );
                    }
                }
                Output::Execute { height, view, block } => {
                    let hash = block.hash(self.suite);
                    match self.verify_proposal(&block) {
                        Ok(result) => {
                            self.inputs.push_back(Input::Executed { height, view, hash, result })
                        }
                        Err(e) => {
                            error!(height = height.0, "executing a proposal failed here: {e:#}")
                        }
                    }
                }
                Output::Commit(block) => {
                    let hash = block.hash(self.suite);
                    let (head, _) = self.head()?;
                    if block.header.height.0 <= head.height.0 {
                        continue; // already have it (synced)
                    }
                    let (out, hashes) = match self.outcomes.remove(&hash) {
                        Some(o) => o,
                        None => {
                            // Certified by a quorum: if it does not execute to its roots
                            // here, this node has diverged and must stop.
                            let txs = block.transactions(self.suite)?;
                            if self.strict_senders {
                                check_senders(self.suite, &txs).map_err(|e| {
                                    anyhow!(
                                        "committed block {} fails the strict sender check: {e}",
                                        block.header.height.0
                                    )
                                })?;
                            }
                            let out = self.execute_checked(&block, &txs)?.map_err(|why| {
                                anyhow!("committed block {}: {why}", block.header.height.0)
                            })?;
                            (out, txs.iter().map(|t| t.tx.hash()).collect())
                        }
                    };
                    self.commit_executed(&block, out, &hashes, "committed")?;
                    self.truncate_wal()?;
                    let next_is_mine = self.sealers.iter().any(|s| s.0 == self.me);
                    if next_is_mine != self.replica.is_some() {
                        self.boot_replica(false)?;
                    } else {
                        // `block_interval_ms` and `consensus_timeout` set by a transaction
                        // apply from the next height.
                        let c = self.pbft_config(block.header.height.0 + 1)?;
                        if let Some(r) = self.replica.as_mut() {
                            let mut out = Vec::new();
                            r.set_timing(now_ms(), c.block_interval_ms, c.timeout_ms, &mut out);
                            self.perform(out)?;
                        }
                        self.say_pending();
                    }
                }
                Output::ReportFault { from, fault } => {
                    warn!(sealer = from, "consensus fault: {fault:?}");
                }
            }
        }
        Ok(())
    }

    fn build(&mut self, height: Height, view: View, parent_hash: B256, min_ts: u64) -> Result<()> {
        let (parent, head_hash) = self.head()?;
        if head_hash != parent_hash || parent.height.0 + 1 != height.0 {
            return Ok(());
        }
        let state = self.state()?;
        let limit =
            self.config_u64("tx_count_limit", height.0, self.genesis.config.tx_count_limit)?;
        let mut txs = self.pool.pack(usize::try_from(limit).unwrap_or(usize::MAX), &state)?;
        let mut bytes = 0usize;
        let fit = txs
            .iter()
            .take_while(|t| {
                bytes += t.tx.encoded().len();
                bytes <= MAX_BLOCK_BYTES
            })
            .count();
        txs.truncate(fit.max(1));
        let my_index = self
            .sealers
            .iter()
            .position(|s| s.0 == self.me)
            .context("building a proposal while not a sealer")? as u32;
        let timestamp_ms = now_ms().max(min_ts);
        let mut header = Header {
            parent_hash,
            height,
            timestamp_ms,
            group_id: GroupId(self.genesis.group_id),
            chain_id: self.genesis.chain_id,
            proposer: my_index,
            sealer_set_hash: sealer_set_hash(self.suite, &self.sealers),
            tx_root: B256::ZERO,
            receipt_root: B256::ZERO,
            state_root: B256::ZERO,
            gas_used: 0,
            gas_limit: self.genesis.block_gas_limit,
            logs_bloom: Default::default(),
            extra: Bytes::new(),
        };
        for _ in 0..64 {
            if txs.is_empty() {
                break;
            }
            let ctx = self.block_context(&header, parent.state_root)?;
            let started = std::time::Instant::now();
            let executed = jinlian_executor::execute_block(&self.exec_config(), &state, &ctx, &txs);
            self.publish.metrics.execution_seconds.observe(started.elapsed().as_secs_f64());
            match executed {
                Ok(out) => {
                    header.tx_root =
                        tx_root(self.suite, txs.iter().map(|t| (t.tx.hash(), t.sender)));
                    header.receipt_root = out.receipt_root;
                    header.state_root = out.state_root;
                    header.gas_used = out.gas_used;
                    header.logs_bloom = out.logs_bloom;
                    let block = Block {
                        header,
                        txs: txs
                            .iter()
                            .map(|t| BlockTx { raw: t.tx.encoded().clone(), sender: t.sender })
                            .collect(),
                        certificate: Certificate::default(),
                    };
                    let hash = block.hash(self.suite);
                    let next_sealers = out.next_sealers.as_ref().map(|s| to_ids(s));
                    let hashes = txs.iter().map(|t| t.tx.hash()).collect();
                    self.outcomes.insert(hash, (out, hashes));
                    self.inputs.push_back(Input::ProposalBuilt {
                        height,
                        view,
                        block: Box::new(block),
                        next_sealers,
                    });
                    return Ok(());
                }
                Err(ExecError::InvalidTx { index, reason }) => {
                    let index = index.min(txs.len().saturating_sub(1));
                    if reason.contains("remaining gas") && index > 0 {
                        // The block is full: cut it here; the rest waits for the next one.
                        txs.truncate(index);
                        continue;
                    }
                    let bad = txs.remove(index);
                    warn!(tx = %bad.tx.hash(), "dropping a pooled transaction: {reason}");
                    self.pool.remove([bad.tx.hash()].iter());
                    self.publish.metrics.dropped.inc();
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Nothing to propose after all: let the replica ask again when there is.
        self.inputs.push_back(Input::TxsPending(false));
        let packable = self.packable();
        self.inputs.push_back(Input::TxsPending(packable));
        Ok(())
    }

    /// Checks a proposal against this node's view and execution.
    fn verify_proposal(&mut self, block: &Block) -> Result<Execution> {
        let (parent, head_hash) = self.head()?;
        let h = &block.header;
        let limit =
            self.config_u64("tx_count_limit", h.height.0, self.genesis.config.tx_count_limit)?;
        let fail = |why: String| Ok(Execution::Invalid(why));
        if h.parent_hash != head_hash || h.height.0 != parent.height.0 + 1 {
            return fail("not on this node's head".into());
        }
        if h.group_id.0 != self.genesis.group_id || h.chain_id != self.genesis.chain_id {
            return fail("wrong group or chain id".into());
        }
        if h.gas_limit != self.genesis.block_gas_limit {
            return fail(format!("gas limit {} is not the chain's", h.gas_limit));
        }
        if !h.extra.is_empty() {
            return fail("extra data must be empty".into());
        }
        let bytes: usize = block.txs.iter().map(|t| t.raw.len()).sum();
        if bytes > MAX_BLOCK_BYTES {
            return fail(format!("{bytes} bytes of transactions (limit {MAX_BLOCK_BYTES})"));
        }
        if h.sealer_set_hash != sealer_set_hash(self.suite, &self.sealers) {
            return fail("sealer set hash differs".into());
        }
        if block.txs.len() as u64 > limit || block.txs.is_empty() {
            return fail(format!(
                "{} transactions (limit {limit}, no empty blocks)",
                block.txs.len()
            ));
        }
        // Senders: checked at pool admission for the transactions we have, here for the rest.
        let mut txs = Vec::with_capacity(block.txs.len());
        for (i, bt) in block.txs.iter().enumerate() {
            let tx = match Transaction::decode(&bt.raw, self.suite) {
                Ok(t) => t,
                Err(e) => return fail(format!("transaction {i}: {e}")),
            };
            let sender = match self.pool.sender_of(&tx.hash()) {
                Some(s) => s,
                None => match tx.recover_sender(self.suite) {
                    Ok(s) => s,
                    Err(e) => return fail(format!("transaction {i}: {e}")),
                },
            };
            if sender != bt.sender {
                return fail(format!("transaction {i}: the claimed sender is not the signer"));
            }
            txs.push(RecoveredTx { tx, sender });
        }
        if tx_root(self.suite, txs.iter().map(|t| (t.tx.hash(), t.sender))) != h.tx_root {
            return fail("transaction root differs".into());
        }
        // A local failure (`?`) is not a vote against the block: the caller logs it and
        // this node does not vote.
        match self.execute_checked(block, &txs)? {
            Ok(out) => {
                // The executor reports a sealer-set change itself.
                let next_sealers = out.next_sealers.as_ref().map(|s| to_ids(s));
                let hashes = txs.iter().map(|t| t.tx.hash()).collect();
                self.outcomes.insert(block.hash(self.suite), (out, hashes));
                Ok(Execution::Valid { next_sealers })
            }
            Err(why) => fail(why),
        }
    }
}

/// Recovers the senders of transactions from a peer (off the host thread, in parallel,
/// before they reach the host), skipping those already in `pooled` (gossiped again: one
/// signature check per transaction per node). Peers only pass on transactions they checked
/// themselves, so one that does not decode or whose signature fails is the peer's
/// misbehaviour: the error says which.
pub fn recover_txs(
    suite: CryptoSuite,
    payload: &[u8],
    pooled: Option<&crate::pool::PooledSet>,
) -> Result<Vec<RecoveredTx>> {
    let txs = Txs::decode(payload)?;
    let decoded = txs
        .txs
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            Transaction::decode(raw, suite)
                .map(|t| (i, t))
                .map_err(|e| anyhow!("transaction {i} of a gossip frame: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let fresh: Vec<(usize, Transaction)> = match pooled.and_then(|p| p.read().ok()) {
        Some(set) => decoded.into_iter().filter(|(_, t)| !set.contains(&t.hash())).collect(),
        None => decoded,
    };
    fresh
        .into_iter()
        .map(|(i, t)| {
            t.into_recovered(suite).map_err(|e| anyhow!("transaction {i} of a gossip frame: {e}"))
        })
        .collect()
}

/// Checks every transaction's signature against the sender its block claims, on all cores
/// (`[node] strict_senders`).
pub fn check_senders(suite: CryptoSuite, txs: &[RecoveredTx]) -> Result<(), String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = txs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = txs
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    for (i, t) in part.iter().enumerate() {
                        let at = c * chunk + i;
                        match t.tx.recover_sender(suite) {
                            Ok(a) if a == t.sender => {}
                            Ok(_) => {
                                return Err(format!(
                                    "transaction {at}: the claimed sender is not the signer"
                                ));
                            }
                            Err(e) => return Err(format!("transaction {at}: {e}")),
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for p in parts {
            p.join().map_err(|_| "a signature check panicked".to_string())??;
        }
        Ok(())
    })
}

/// The address a consensus key signs transactions as.
pub fn address_of(key: &KeyPair) -> Address {
    key.address()
}

#[cfg(test)]
mod tests {
    use super::InboundBudget;

    #[test]
    fn the_inbound_budget_refuses_what_does_not_fit_until_bytes_are_given_back() {
        let b = InboundBudget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41), "over the limit");
        assert_eq!(b.used(), 60, "a refused take leaves nothing behind");
        assert!(b.try_take(40));
        b.give_back(60);
        assert!(b.try_take(60));
        assert_eq!(b.used(), 100);
    }

    #[test]
    fn the_strict_sender_check_finds_the_one_wrong_sender_among_many() {
        use alloy_primitives::{Address, Bytes, TxKind, U256};
        use jinlian_crypto::{CryptoSuite, KeyPair};
        use jinlian_primitives::{LegacyTx, Transaction, TxBody};
        let suite = CryptoSuite::Ecdsa;
        let mut txs: Vec<_> = (0..40u8)
            .map(|i| {
                let key = KeyPair::from_secret(suite, &[i + 1; 32]).unwrap();
                let body = TxBody::Legacy(LegacyTx {
                    nonce: 0,
                    gas_price: 0,
                    gas_limit: 21_000,
                    to: TxKind::Call(Address::ZERO),
                    value: U256::ZERO,
                    input: Bytes::new(),
                    chain_id: Some(1),
                });
                Transaction::sign(body, &key).unwrap().into_recovered(suite).unwrap()
            })
            .collect();
        assert_eq!(super::check_senders(suite, &txs), Ok(()));
        txs[37].sender = Address::repeat_byte(7);
        assert_eq!(
            super::check_senders(suite, &txs),
            Err("transaction 37: the claimed sender is not the signer".to_string())
        );
        assert_eq!(super::check_senders(suite, &[]), Ok(()));
    }
}
