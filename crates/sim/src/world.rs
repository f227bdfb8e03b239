//! The simulated world: event queue, network, hosts and Byzantine behaviour.

use crate::check::{self, HonestView};
use crate::{Byzantine, SimConfig, SimReport};
use alloy_primitives::{B256, Bytes};
use jinlian_consensus::{
    Committed, Config, Execution, Input, Message, Output, PrePrepare, Prepare, PreparedCert,
    Replica, SignedMessage, Timer, ViewChange, WalEntry,
};
use jinlian_crypto::{CryptoSuite, Hasher, KeyPair, PublicKey};
use jinlian_primitives::{
    Address, Block, BlockTx, Certificate, GroupId, Header, Height, View, sealer_set_hash, tx_root,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Transactions per block at most (small, so runs have many heights).
const BLOCK_TXS: usize = 8;

/// How often a replica compares heads with its peers and fetches missing blocks. Slower than
/// the consensus timeout, as status gossip is in a real network, so view changes at a height
/// some replica already committed do happen (and must keep that block).
const SYNC_INTERVAL_MS: u64 = 3000;

#[derive(Debug, Clone)]
enum Event {
    Deliver { to: usize, msg: SignedMessage },
    Timer { node: usize, epoch: u64, timer: Timer },
    Reply { node: usize, epoch: u64, input: Input },
    Submit { tx: u64 },
    Crash { node: usize },
    Restart { node: usize },
    Partition { isolated: Vec<usize>, until: u64 },
    SyncTick,
    Heal,
}

struct Node {
    key: KeyPair,
    strategy: Option<Byzantine>,
    replica: Option<Replica>,
    /// Incarnation: timers and host replies of a crashed incarnation are void.
    epoch: u64,
    chain: Vec<Block>,
    state_roots: Vec<B256>,
    wal_synced: Vec<WalEntry>,
    wal_pending: Vec<WalEntry>,
    pool: BTreeSet<u64>,
    in_chain: BTreeSet<u64>,
    skew_ms: i64,
    seen: Vec<SignedMessage>,
}

impl Node {
    fn head(&self, genesis: &Committed, suite: CryptoSuite) -> Committed {
        match self.chain.last() {
            Some(b) => Committed {
                height: b.header.height,
                hash: b.hash(suite),
                timestamp_ms: b.header.timestamp_ms,
                view: b.certificate.view,
            },
            None => *genesis,
        }
    }

    fn state_root(&self) -> B256 {
        self.state_roots.last().copied().unwrap_or(B256::ZERO)
    }
}

struct World {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Event>>,
    nodes: Vec<Node>,
    sealers: Vec<PublicKey>,
    genesis: Committed,
    healed: bool,
    isolated: Vec<usize>,
    partition_until: u64,
    submitted: BTreeSet<u64>,
    trace: Hasher,
    messages: u64,
    faults_reported: u64,
    view_changes: u64,
    all_committed_ms: Option<u64>,
    /// Votes honest replicas sent: (replica, height, view, kind) → hashes.
    votes: BTreeMap<(usize, u64, u64, u8), BTreeSet<B256>>,
}

/// Runs one simulation.
pub fn run(cfg: &SimConfig) -> SimReport {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut keys: Vec<KeyPair> =
        (0..cfg.sealers).map(|_| KeyPair::generate(cfg.suite, &mut rng)).collect();
    keys.sort_by_key(|k| k.public());
    let sealers: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
    // Byzantine replicas are a seeded choice of indices, strategies assigned in turn.
    let mut byz: Vec<usize> = (0..cfg.sealers).collect();
    for i in (1..byz.len()).rev() {
        byz.swap(i, rng.random_range(0..=i));
    }
    byz.truncate(cfg.byzantine.min(cfg.sealers));
    let first_strategy = rng.random_range(0..Byzantine::ALL.len());
    let genesis = Committed {
        height: Height(0),
        hash: cfg.suite.hash(b"jinlian-sim genesis"),
        timestamp_ms: 0,
        view: View(0),
    };
    let nodes = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            let strategy = byz
                .iter()
                .position(|&b| b == i)
                .map(|k| Byzantine::ALL[(first_strategy + k) % Byzantine::ALL.len()]);
            let skew_ms = if cfg.faults.skew { rng.random_range(-800..=800) } else { 0 };
            Node {
                key,
                strategy,
                replica: None,
                epoch: 0,
                chain: Vec::new(),
                state_roots: Vec::new(),
                wal_synced: Vec::new(),
                wal_pending: Vec::new(),
                pool: BTreeSet::new(),
                in_chain: BTreeSet::new(),
                skew_ms,
                seen: Vec::new(),
            }
        })
        .collect();
    let mut w = World {
        cfg: cfg.clone(),
        rng,
        now: 0,
        seq: 0,
        queue: BinaryHeap::new(),
        events: Vec::new(),
        nodes,
        sealers,
        genesis,
        healed: false,
        isolated: Vec::new(),
        partition_until: 0,
        submitted: BTreeSet::new(),
        trace: CryptoSuite::Ecdsa.hasher(),
        messages: 0,
        faults_reported: 0,
        view_changes: 0,
        all_committed_ms: None,
        votes: BTreeMap::new(),
    };
    w.setup();
    w.run_loop();
    w.report()
}

impl World {
    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.events.push(Some(event));
        self.queue.push(Reverse((at.max(self.now), self.seq, self.events.len() - 1)));
    }

    fn honest(&self, i: usize) -> bool {
        self.nodes[i].strategy.is_none()
    }

    fn local_now(&self, node: usize) -> u64 {
        self.now.saturating_add_signed(self.nodes[node].skew_ms)
    }

    fn setup(&mut self) {
        for i in 0..self.nodes.len() {
            self.boot(i);
        }
        let end_of_safety = self.cfg.safety_ms;
        for tx in 0..self.cfg.txs as u64 {
            let at = self.rng.random_range(0..end_of_safety.max(1));
            self.schedule(at, Event::Submit { tx });
        }
        if self.cfg.faults.crash {
            let crashes = 1 + self.rng.random_range(0..3);
            for _ in 0..crashes {
                let honest: Vec<usize> =
                    (0..self.nodes.len()).filter(|&i| self.honest(i)).collect();
                let node = honest[self.rng.random_range(0..honest.len())];
                let at = self.rng.random_range(0..end_of_safety.max(1));
                let down = self.rng.random_range(200..5000);
                self.schedule(at, Event::Crash { node });
                self.schedule((at + down).min(end_of_safety), Event::Restart { node });
            }
        }
        if self.cfg.faults.partition {
            let parts = 1 + self.rng.random_range(0..3);
            for _ in 0..parts {
                let at = self.rng.random_range(0..end_of_safety.max(1));
                let len = self.rng.random_range(500..6000);
                // Isolate a random minority, or (half the time) exactly the replica that is
                // primary when the partition starts (an empty list means "the primary").
                let mut isolated: Vec<usize> = Vec::new();
                if self.rng.random_bool(0.5) {
                    let size = 1 + self.rng.random_range(0..self.nodes.len().div_ceil(2).max(1));
                    isolated = (0..self.nodes.len()).collect();
                    for i in (1..isolated.len()).rev() {
                        isolated.swap(i, self.rng.random_range(0..=i));
                    }
                    isolated.truncate(size.min(self.nodes.len() - 1));
                }
                self.schedule(
                    at,
                    Event::Partition { isolated, until: (at + len).min(end_of_safety) },
                );
            }
        }
        self.schedule(end_of_safety, Event::Heal);
        self.schedule(SYNC_INTERVAL_MS, Event::SyncTick);
    }

    fn config(&self) -> Config {
        Config {
            suite: self.cfg.suite,
            block_interval_ms: 200,
            timeout_ms: 1000,
            max_timeout_ms: 8000,
            max_clock_drift_ms: 2000,
            #[cfg(feature = "defects")]
            defects: self.cfg.defects,
            ..Config::default()
        }
    }

    /// (Re)creates node `i`'s replica from its durable state.
    fn boot(&mut self, i: usize) {
        let config = self.config();
        let head = self.nodes[i].head(&self.genesis, self.cfg.suite);
        let node = &mut self.nodes[i];
        node.epoch += 1;
        node.wal_pending.clear();
        let replica =
            Replica::new(config, node.key.clone(), head, self.sealers.clone(), &node.wal_synced);
        node.replica = Some(replica);
        let mut out = Vec::new();
        let now = self.local_now(i);
        if let Some(r) = self.nodes[i].replica.as_mut() {
            r.start(now, &mut out);
            let pending = !self.nodes[i].pool.is_empty();
            if let Some(r) = self.nodes[i].replica.as_mut() {
                r.step(now, Input::TxsPending(pending), &mut out);
            }
        }
        self.perform(i, out);
    }

    fn run_loop(&mut self) {
        let end = self.cfg.safety_ms + self.cfg.liveness_ms;
        while let Some(Reverse((at, seq, idx))) = self.queue.pop() {
            if at > end {
                break;
            }
            self.now = at;
            let Some(event) = self.events[idx].take() else {
                continue;
            };
            self.trace_event(seq, &event);
            self.handle(event);
            if self.healed && self.all_committed_ms.is_none() && self.everyone_done() {
                self.all_committed_ms = Some(self.now);
                break;
            }
        }
    }

    fn everyone_done(&self) -> bool {
        self.submitted.len() == self.cfg.txs
            && (0..self.nodes.len())
                .filter(|&i| self.honest(i))
                .all(|i| self.nodes[i].in_chain.len() == self.submitted.len())
    }

    fn trace_event(&mut self, seq: u64, event: &Event) {
        let (kind, node, payload): (u8, usize, Vec<u8>) = match event {
            Event::Deliver { to, msg } => (1, *to, msg.encode_to_vec()),
            Event::Timer { node, timer, .. } => (2, *node, format!("{timer:?}").into_bytes()),
            Event::Reply { node, .. } => (3, *node, Vec::new()),
            Event::Submit { tx } => (4, 0, tx.to_be_bytes().to_vec()),
            Event::Crash { node } => (5, *node, Vec::new()),
            Event::Restart { node } => (6, *node, Vec::new()),
            Event::Partition { isolated, .. } => {
                (7, 0, isolated.iter().map(|&i| i as u8).collect())
            }
            Event::SyncTick => (8, 0, Vec::new()),
            Event::Heal => (9, 0, Vec::new()),
        };
        self.trace.update(&self.now.to_be_bytes());
        self.trace.update(&seq.to_be_bytes());
        self.trace.update(&[kind, node as u8]);
        self.trace.update(&CryptoSuite::Ecdsa.hash(&payload).0);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver { to, msg } => {
                if self.nodes[to].replica.is_none() {
                    return;
                }
                self.messages += 1;
                let keeps = matches!(
                    self.nodes[to].strategy,
                    Some(Byzantine::Replay | Byzantine::ForgeViewChange)
                );
                if keeps && self.nodes[to].seen.len() < 512 {
                    self.nodes[to].seen.push(msg.clone());
                }
                self.step(to, Input::Message(msg));
            }
            Event::Timer { node, epoch, timer } => {
                if self.nodes[node].epoch == epoch && self.nodes[node].replica.is_some() {
                    self.step(node, Input::Timer(timer));
                }
            }
            Event::Reply { node, epoch, input } => {
                if self.nodes[node].epoch == epoch && self.nodes[node].replica.is_some() {
                    self.step(node, input);
                }
            }
            Event::Submit { tx } => {
                self.submitted.insert(tx);
                for i in 0..self.nodes.len() {
                    if !self.nodes[i].in_chain.contains(&tx) {
                        self.nodes[i].pool.insert(tx);
                    }
                    if self.nodes[i].replica.is_some() {
                        self.step(i, Input::TxsPending(true));
                    }
                }
            }
            Event::Crash { node } => {
                // Everything not synced is lost, with the replica's memory.
                let n = &mut self.nodes[node];
                n.replica = None;
                n.wal_pending.clear();
                n.epoch += 1;
            }
            Event::Restart { node } => {
                #[cfg(feature = "defects")]
                if self.cfg.lose_wal_on_restart {
                    self.nodes[node].wal_synced.clear();
                }
                if self.nodes[node].replica.is_none() {
                    self.boot(node);
                }
            }
            Event::Partition { mut isolated, until } => {
                if isolated.is_empty() {
                    // The primary of the most advanced honest replica's (height, view).
                    let primary = (0..self.nodes.len())
                        .filter(|&i| self.honest(i))
                        .filter_map(|i| self.nodes[i].replica.as_ref())
                        .max_by_key(|r| (r.height(), r.view()))
                        .map(|r| r.primary(r.height(), r.view()) as usize);
                    isolated.extend(primary);
                }
                if !self.healed {
                    self.isolated = isolated;
                    self.partition_until = until;
                }
            }
            Event::SyncTick => {
                self.sync_all();
                if !self.healed || self.all_committed_ms.is_none() {
                    self.schedule(self.now + SYNC_INTERVAL_MS, Event::SyncTick);
                }
            }
            Event::Heal => {
                self.healed = true;
                self.isolated.clear();
                for i in 0..self.nodes.len() {
                    if self.nodes[i].replica.is_none() {
                        self.boot(i);
                    }
                }
            }
        }
    }

    fn step(&mut self, i: usize, input: Input) {
        let now = self.local_now(i);
        let mut out = Vec::new();
        if let Some(r) = self.nodes[i].replica.as_mut() {
            r.step(now, input, &mut out);
        }
        self.perform(i, out);
    }

    fn reachable(&self, from: usize, to: usize) -> bool {
        if self.healed || self.now >= self.partition_until {
            return true;
        }
        self.isolated.contains(&from) == self.isolated.contains(&to)
    }

    fn send(&mut self, from: usize, to: usize, msg: SignedMessage) {
        if !self.reachable(from, to) {
            return;
        }
        let f = self.cfg.faults;
        let faulty = !self.healed;
        if faulty && f.drop && self.rng.random_bool(0.05) {
            return;
        }
        let mut delay = self.rng.random_range(1..20);
        if faulty && f.reorder {
            delay += self.rng.random_range(0..300);
            // Now and then a message is held for seconds, so it arrives views later.
            if self.rng.random_bool(0.02) {
                delay += self.rng.random_range(500..5000);
            }
        }
        let copies = if faulty && f.duplicate && self.rng.random_bool(0.05) { 2 } else { 1 };
        for c in 0..copies {
            self.schedule(self.now + delay + c * 37, Event::Deliver { to, msg: msg.clone() });
        }
    }

    fn broadcast(&mut self, from: usize, msg: SignedMessage) {
        for to in 0..self.nodes.len() {
            if to != from {
                self.send(from, to, msg.clone());
            }
        }
    }

    fn perform(&mut self, i: usize, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Persist(e) => {
                    if matches!(e, WalEntry::ViewChange { .. }) && self.honest(i) {
                        self.view_changes += 1;
                    }
                    self.nodes[i].wal_pending.push(e)
                }
                Output::Broadcast(m) => {
                    // The host makes every persisted entry durable before sending anything.
                    let pending = std::mem::take(&mut self.nodes[i].wal_pending);
                    self.nodes[i].wal_synced.extend(pending);
                    match self.nodes[i].strategy {
                        None => {
                            self.record_vote(i, &m);
                            self.broadcast(i, m)
                        }
                        Some(s) => self.byzantine_broadcast(i, s, m),
                    }
                }
                Output::SetTimer { timer, at_ms } => {
                    let at = at_ms.saturating_add_signed(-self.nodes[i].skew_ms);
                    let epoch = self.nodes[i].epoch;
                    self.schedule(at, Event::Timer { node: i, epoch, timer });
                }
                Output::BuildProposal { height, view, parent_hash, min_timestamp_ms } => {
                    self.build(i, height, view, parent_hash, min_timestamp_ms)
                }
                Output::Execute { height, view, block } => {
                    let result = self.execute(i, &block);
                    let hash = block.hash(self.cfg.suite);
                    let epoch = self.nodes[i].epoch;
                    let at = self.now + self.rng.random_range(1..6);
                    let input = Input::Executed { height, view, hash, result };
                    self.schedule(at, Event::Reply { node: i, epoch, input });
                }
                Output::Commit(block) => self.commit(i, block),
                Output::ReportFault { .. } => {
                    if self.honest(i) {
                        self.faults_reported += 1;
                    }
                }
            }
        }
    }

    fn record_vote(&mut self, i: usize, m: &SignedMessage) {
        let vote = match Message::decode(&m.payload) {
            Ok(Message::Prepare(p)) => (p.height, p.view, 1, p.hash),
            Ok(Message::Commit(c)) => (c.height, c.view, 2, c.hash),
            _ => return,
        };
        self.votes.entry((i, vote.0.0, vote.1.0, vote.2)).or_default().insert(vote.3);
    }

    fn next_state_root(&self, parent_root: B256, txs: &[BlockTx]) -> B256 {
        let mut h = self.cfg.suite.hasher();
        h.update(parent_root.as_slice());
        for t in txs {
            h.update(&t.raw);
        }
        h.finalize()
    }

    fn build(&mut self, i: usize, height: Height, view: View, parent: B256, min_ts: u64) {
        let node = &self.nodes[i];
        if node.head(&self.genesis, self.cfg.suite).hash != parent {
            return;
        }
        let picked: Vec<u64> = node.pool.iter().copied().take(BLOCK_TXS).collect();
        let epoch = node.epoch;
        if picked.is_empty() {
            let at = self.now + 1;
            self.schedule(at, Event::Reply { node: i, epoch, input: Input::TxsPending(false) });
            return;
        }
        let txs: Vec<BlockTx> = picked
            .iter()
            .map(|t| BlockTx { raw: Bytes::from(t.to_be_bytes().to_vec()), sender: Address::ZERO })
            .collect();
        let block = self.block_on(i, height, view, parent, min_ts, txs);
        let at = self.now + self.rng.random_range(1..6);
        let input =
            Input::ProposalBuilt { height, view, block: Box::new(block), next_sealers: None };
        self.schedule(at, Event::Reply { node: i, epoch, input });
    }

    fn block_on(
        &self,
        i: usize,
        height: Height,
        view: View,
        parent: B256,
        min_ts: u64,
        txs: Vec<BlockTx>,
    ) -> Block {
        let suite = self.cfg.suite;
        let n = self.sealers.len() as u64;
        Block {
            header: Header {
                parent_hash: parent,
                height,
                timestamp_ms: min_ts.max(self.local_now(i)),
                group_id: GroupId(1),
                chain_id: 1,
                proposer: ((height.0 + view.0) % n) as u32,
                sealer_set_hash: sealer_set_hash(suite, &self.sealers),
                tx_root: tx_root(suite, txs.iter().map(|t| (suite.hash(&t.raw), t.sender))),
                receipt_root: B256::ZERO,
                state_root: self.next_state_root(self.nodes[i].state_root(), &txs),
                gas_used: 0,
                gas_limit: 0,
                logs_bloom: Default::default(),
                extra: Bytes::new(),
            },
            txs,
            certificate: Certificate::default(),
        }
    }

    /// The stand-in executor: well-formed, fresh transactions and the right roots.
    fn execute(&self, i: usize, block: &Block) -> Execution {
        let suite = self.cfg.suite;
        let node = &self.nodes[i];
        let mut seen = BTreeSet::new();
        for t in &block.txs {
            let Ok(id) = <[u8; 8]>::try_from(t.raw.as_ref()) else {
                return Execution::Invalid("malformed transaction".into());
            };
            let id = u64::from_be_bytes(id);
            if node.in_chain.contains(&id) || !seen.insert(id) {
                return Execution::Invalid(format!("transaction {id} already committed"));
            }
        }
        let root = tx_root(suite, block.txs.iter().map(|t| (suite.hash(&t.raw), t.sender)));
        if root != block.header.tx_root {
            return Execution::Invalid("tx root".into());
        }
        if self.next_state_root(node.state_root(), &block.txs) != block.header.state_root {
            return Execution::Invalid("state root".into());
        }
        Execution::Valid { next_sealers: None }
    }

    fn commit(&mut self, i: usize, block: Block) {
        // A commit is durable: the WAL entries before it are synced too.
        let pending = std::mem::take(&mut self.nodes[i].wal_pending);
        self.nodes[i].wal_synced.extend(pending);
        let expected = self.nodes[i].chain.len() as u64 + 1;
        if block.header.height.0 != expected {
            return;
        }
        self.apply_block(i, block);
        let node = &mut self.nodes[i];
        let next = Height(expected + 1);
        node.wal_synced.retain(|e| e.height() >= next);
        let pending = !node.pool.is_empty();
        let epoch = node.epoch;
        self.schedule(self.now, Event::Reply { node: i, epoch, input: Input::TxsPending(pending) });
    }

    fn apply_block(&mut self, i: usize, block: Block) {
        let root = self.next_state_root(self.nodes[i].state_root(), &block.txs);
        let node = &mut self.nodes[i];
        for t in &block.txs {
            if let Ok(id) = <[u8; 8]>::try_from(t.raw.as_ref()) {
                let id = u64::from_be_bytes(id);
                node.pool.remove(&id);
                node.in_chain.insert(id);
            }
        }
        node.state_roots.push(root);
        node.chain.push(block);
    }

    /// Stand-in for block sync: a replica behind a reachable peer copies the blocks it lacks,
    /// each checked against the sealers' certificate, and restarts at the new head.
    fn sync_all(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].replica.is_none() || !self.honest(i) {
                continue;
            }
            let mine = self.nodes[i].chain.len();
            let best = (0..self.nodes.len())
                .filter(|&j| j != i && self.nodes[j].replica.is_some() && self.reachable(i, j))
                .max_by_key(|&j| self.nodes[j].chain.len());
            let Some(j) = best else { continue };
            if self.nodes[j].chain.len() <= mine {
                continue;
            }
            let missing: Vec<Block> = self.nodes[j].chain[mine..].to_vec();
            let mut advanced = false;
            for block in missing {
                let parent = self.nodes[i].head(&self.genesis, self.cfg.suite).hash;
                if block.header.parent_hash != parent
                    || block
                        .certificate
                        .verify(self.cfg.suite, &block.hash(self.cfg.suite), &self.sealers)
                        .is_err()
                {
                    break;
                }
                self.apply_block(i, block);
                advanced = true;
            }
            if advanced {
                let next = Height(self.nodes[i].chain.len() as u64 + 1);
                self.nodes[i].wal_synced.retain(|e| e.height() >= next);
                self.boot(i);
            }
        }
    }

    fn byzantine_broadcast(&mut self, i: usize, strategy: Byzantine, m: SignedMessage) {
        let key = self.nodes[i].key.clone();
        let from = m.from;
        let Ok(msg) = Message::decode(&m.payload) else {
            return;
        };
        match strategy {
            Byzantine::Silent => {}
            Byzantine::Selective => {
                for to in 0..self.nodes.len() {
                    if to != i && self.rng.random_bool(0.5) {
                        self.send(i, to, m.clone());
                    }
                }
            }
            Byzantine::BadSignature => {
                let mut bad = m;
                let mut sig = bad.signature.to_vec();
                if let Some(b) = sig.get_mut(5) {
                    *b ^= 0x40;
                }
                bad.signature = sig.into();
                self.broadcast(i, bad);
            }
            Byzantine::Replay => {
                self.broadcast(i, m);
                if !self.nodes[i].seen.is_empty() {
                    let k = self.rng.random_range(0..self.nodes[i].seen.len());
                    let old = self.nodes[i].seen[k].clone();
                    self.broadcast(i, old);
                }
            }
            Byzantine::DoubleVote => {
                self.broadcast(i, m);
                let hash = B256::from(self.rng.random::<[u8; 32]>());
                let twin = match msg {
                    Message::Prepare(p) => Some(Message::Prepare(Prepare { hash, ..p })),
                    Message::Commit(c) => {
                        Some(Message::Commit(jinlian_consensus::Commit { hash, ..c }))
                    }
                    _ => None,
                };
                if let Some(t) = twin {
                    self.broadcast(i, SignedMessage::sign(&t, from, &key));
                }
            }
            Byzantine::Equivocate => match msg {
                Message::PrePrepare(pp) => {
                    let mut other = pp.block.clone();
                    other.header.extra = Bytes::from_static(b"equivocation");
                    let twin = Message::PrePrepare(PrePrepare { block: other, ..pp });
                    let twin = SignedMessage::sign(&twin, from, &key);
                    for to in 0..self.nodes.len() {
                        if to != i {
                            let msg = if to % 2 == 0 { m.clone() } else { twin.clone() };
                            self.send(i, to, msg);
                        }
                    }
                }
                _ => self.broadcast(i, m),
            },
            Byzantine::ForgeViewChange => {
                let (height, view) = (msg.height(), msg.view());
                self.broadcast(i, m);
                let head = self.nodes[i].head(&self.genesis, self.cfg.suite);
                let fake_block = self.block_on(
                    i,
                    height,
                    view,
                    head.hash,
                    head.timestamp_ms + 1,
                    vec![BlockTx { raw: Bytes::from_static(b"forged!!"), sender: Address::ZERO }],
                );
                let hash = fake_block.hash(self.cfg.suite);
                let own = SignedMessage::sign(
                    &Message::Prepare(Prepare { height, view, hash }),
                    from,
                    &key,
                );
                // Alternate between two forgeries: our own prepare repeated, and real prepares
                // of other replicas (seen for this height, for other blocks or views) padded
                // with ours, which only a per-entry check of hash and view refuses.
                let mut prepares = vec![own.clone()];
                if self.rng.random_bool(0.5) {
                    prepares.extend(std::iter::repeat_n(own, 2));
                } else {
                    let seen = self.nodes[i].seen.iter().filter(|m| {
                        m.from != from
                            && matches!(Message::decode(&m.payload), Ok(Message::Prepare(p)) if p.height == height)
                    });
                    let mut senders = BTreeSet::new();
                    for m in seen {
                        if senders.insert(m.from) {
                            prepares.push(m.clone());
                        }
                    }
                }
                let cert = PreparedCert { view, block: fake_block, prepares };
                let vc = ViewChange { height, view: View(view.0 + 1), prepared: Some(cert) };
                self.broadcast(i, SignedMessage::sign(&Message::ViewChange(vc), from, &key));
            }
        }
    }

    fn report(&self) -> SimReport {
        let honest: Vec<HonestView<'_>> = (0..self.nodes.len())
            .filter(|&i| self.honest(i))
            .map(|i| HonestView {
                index: i,
                chain: &self.nodes[i].chain,
                state_roots: &self.nodes[i].state_roots,
            })
            .collect();
        let mut violations = check::votes(&self.votes);
        violations.extend(check::safety(
            self.cfg.suite,
            &self.genesis.hash,
            &self.sealers,
            &honest,
            &self.submitted,
        ));
        if self.all_committed_ms.is_none() {
            let heights: Vec<usize> = honest.iter().map(|h| h.chain.len()).collect();
            violations.push(format!(
                "liveness: not every honest replica committed all {} transactions within {} ms of healing (chain lengths {heights:?})",
                self.submitted.len(),
                self.cfg.liveness_ms
            ));
        }
        let heights = honest.iter().map(|h| h.chain.len() as u64);
        SimReport {
            seed: self.cfg.seed,
            min_height: heights.clone().min().unwrap_or(0),
            max_height: heights.max().unwrap_or(0),
            commits: honest.iter().map(|h| h.chain.len() as u64).sum(),
            messages: self.messages,
            faults_reported: self.faults_reported,
            view_changes: self.view_changes,
            end_ms: self.now,
            all_committed_ms: self.all_committed_ms,
            trace_hash: self.trace.clone().finalize().to_string(),
            violations,
        }
    }
}
