//! The PBFT replica: one pure state machine per group and node.

use crate::message::{
    Commit, Message, MessageError, NewView, PrePrepare, Prepare, PreparedCert, SignedMessage,
    ViewChange,
};
use crate::wal::WalEntry;
use alloy_primitives::{B256, Bytes};
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_primitives::{Block, Certificate, CommitSignature, Height, View, quorum};
use std::collections::{BTreeMap, BTreeSet};

/// Executed proposals kept per height (one per view, the most recent views).
const MAX_EXECUTED_KEPT: usize = 4;

/// Settings of a replica.
#[derive(Debug, Clone)]
pub struct Config {
    /// The chain's crypto suite.
    pub suite: CryptoSuite,
    /// Minimum time between a block and the next proposal.
    pub block_interval_ms: u64,
    /// Base consensus timeout (`consensus_timeout`).
    pub timeout_ms: u64,
    /// Cap of the backed-off timeout.
    pub max_timeout_ms: u64,
    /// How far ahead of our clock a proposal's timestamp may be.
    pub max_clock_drift_ms: u64,
    /// How many messages for future heights or views are kept, in total.
    pub max_buffered: usize,
    /// How many heights ahead messages are buffered (further ones are dropped).
    pub future_heights: u64,
    /// Bytes of buffered future messages, in total (each sender gets an equal share).
    pub max_buffered_bytes: usize,
    /// Deliberate bugs for testing the simulator's checkers.
    #[cfg(feature = "defects")]
    pub defects: Defects,
}

/// Deliberately broken rules (feature `defects`), to prove the simulator finds violations.
#[cfg(feature = "defects")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defects {
    /// Count f + 1 votes as a quorum.
    pub quorum_f_plus_1: bool,
    /// Ignore prepared certificates when entering a new view.
    pub ignore_prepared_in_new_view: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            suite: CryptoSuite::Ecdsa,
            block_interval_ms: 1000,
            timeout_ms: 3000,
            max_timeout_ms: 60_000,
            max_clock_drift_ms: 5000,
            max_buffered: 4096,
            future_heights: 4,
            max_buffered_bytes: 256 * 1024 * 1024,
            #[cfg(feature = "defects")]
            defects: Defects::default(),
        }
    }
}

/// The last committed block, as the replica needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Its height.
    pub height: Height,
    /// Its hash.
    pub hash: B256,
    /// Its timestamp.
    pub timestamp_ms: u64,
    /// The view its certificate was made in.
    pub view: View,
}

/// Timers the replica asks for; a fired timer comes back as [`Input::Timer`] and is ignored if
/// its height and view are no longer current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// The primary may propose now.
    Propose {
        /// Height.
        height: Height,
        /// View.
        view: View,
    },
    /// No commit in time: move to the next view.
    ViewTimeout {
        /// Height.
        height: Height,
        /// View.
        view: View,
    },
}

/// What the host tells the replica after executing a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// The block executed and its header (roots included) is exactly what was proposed.
    Valid {
        /// Sealers from the next height on, when the block changed them (sorted node ids).
        next_sealers: Option<Vec<PublicKey>>,
    },
    /// The block is invalid (bad transaction, wrong roots, …).
    Invalid(String),
}

/// Inputs of [`Replica::step`].
#[derive(Debug, Clone)]
pub enum Input {
    /// A message from a peer.
    Message(SignedMessage),
    /// A timer fired.
    Timer(Timer),
    /// Whether the transaction pool holds transactions (sent whenever that changes, and after
    /// every commit).
    TxsPending(bool),
    /// The pool holds at least a full block for the current height: the primary proposes at
    /// once instead of waiting for the block interval (how a loaded chain keeps up; the
    /// interval only spaces out blocks that are not full). Forgotten at each new height.
    BlockFull,
    /// Reply to [`Output::BuildProposal`]: an executed block.
    ProposalBuilt {
        /// Height asked for.
        height: Height,
        /// View asked for.
        view: View,
        /// The block (roots filled in, no certificate).
        block: Box<Block>,
        /// Sealers from the next height on, if the block changes them.
        next_sealers: Option<Vec<PublicKey>>,
    },
    /// Reply to [`Output::Execute`].
    Executed {
        /// Height.
        height: Height,
        /// View.
        view: View,
        /// Hash of the block that was executed.
        hash: B256,
        /// Outcome.
        result: Execution,
    },
}

/// Misbehaviour seen from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A message whose signature does not verify or whose bytes do not decode.
    BadMessage(String),
    /// Two different proposals or votes for the same height and view.
    Equivocation {
        /// Height.
        height: Height,
        /// View.
        view: View,
    },
    /// A pre-prepare or new-view from a sealer that is not that view's primary.
    NotPrimary,
    /// A proposal that fails the checks.
    InvalidProposal(String),
    /// A view change or new view with an invalid certificate.
    InvalidCertificate(String),
}

/// Outputs of [`Replica::step`], to be carried out in order. A `Persist` must be durable
/// before any later `Broadcast`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Write to the WAL, durably.
    Persist(WalEntry),
    /// Send to every other sealer of the group.
    Broadcast(SignedMessage),
    /// Fire [`Input::Timer`] at `at_ms`.
    SetTimer {
        /// Which.
        timer: Timer,
        /// When (the host's clock, ms).
        at_ms: u64,
    },
    /// Pack transactions into a block on `parent_hash`, execute it, and reply with
    /// [`Input::ProposalBuilt`] (or not at all if the pool is empty).
    BuildProposal {
        /// Height.
        height: Height,
        /// View.
        view: View,
        /// Parent block hash.
        parent_hash: B256,
        /// The block's timestamp must be at least this.
        min_timestamp_ms: u64,
    },
    /// Execute a proposal and reply with [`Input::Executed`].
    Execute {
        /// Height.
        height: Height,
        /// View.
        view: View,
        /// The proposal.
        block: Block,
    },
    /// The block is committed: store it (with its certificate) and notify.
    Commit(Block),
    /// A peer misbehaved.
    ReportFault {
        /// Sender index.
        from: u32,
        /// What it did.
        fault: Fault,
    },
}

#[derive(Debug, Clone)]
struct Proposal {
    view: View,
    block: Block,
    hash: B256,
    /// `Some` once executed and found valid.
    valid: Option<Option<Vec<PublicKey>>>,
}

/// Per-height state, reset at every commit.
#[derive(Debug, Default)]
struct Round {
    proposal: Option<Proposal>,
    /// First proposal hash seen per view (equivocation detection).
    proposals_seen: BTreeMap<View, B256>,
    /// Prepares per view per sender.
    prepares: BTreeMap<View, BTreeMap<u32, (B256, SignedMessage)>>,
    /// Commit votes per view per sender: (hash, signature). One hash per sender and view.
    commits: BTreeMap<View, BTreeMap<u32, (B256, Bytes)>>,
    /// Proposals we executed and found valid, by view (the most recent few), so a commit
    /// quorum of an earlier view can still be decided after we moved on.
    executed: BTreeMap<View, (Block, B256, Option<Vec<PublicKey>>)>,
    /// Votes we sent (or, after a restart, had sent) per view.
    sent_prepare: BTreeMap<View, B256>,
    sent_commit: BTreeMap<View, B256>,
    /// Our highest prepared certificate.
    prepared: Option<PreparedCert>,
    /// Latest view change per sender.
    view_changes: BTreeMap<u32, (View, SignedMessage, ViewChange)>,
    /// Views whose new view we have entered or sent.
    new_view_done: BTreeSet<View>,
    /// In a new view, the block the primary must re-propose.
    required: Option<Block>,
    /// Views we asked the host to build a proposal for.
    build_requested: BTreeSet<View>,
    view_timer_armed: Option<View>,
    /// When the view timer was armed.
    view_armed_at: u64,
    /// Set when `set_timing` moved the view timer later: a timer firing before this was
    /// armed with the old timeout and is ignored (the one at the new deadline follows).
    view_deadline: Option<u64>,
}

/// A PBFT replica (see the crate docs for the rules).
#[derive(Debug)]
pub struct Replica {
    config: Config,
    key: KeyPair,
    sealers: Vec<PublicKey>,
    me: Option<u32>,
    /// The height being agreed on (last committed + 1).
    height: Height,
    view: View,
    /// True from sending a view change until entering the new view.
    in_view_change: bool,
    parent: Committed,
    consecutive_timeouts: u32,
    txs_pending: bool,
    /// The pool holds a full block: propose without waiting for the block interval (reset
    /// at each height; the host says it again).
    block_full: bool,
    round: Round,
    buffer: Vec<SignedMessage>,
}

impl Replica {
    /// A replica after `parent` was committed, with the sealers of the next height (sorted by
    /// node id) and the WAL entries persisted since (entries of other heights are ignored).
    pub fn new(
        config: Config,
        key: KeyPair,
        parent: Committed,
        sealers: Vec<PublicKey>,
        wal: &[WalEntry],
    ) -> Self {
        let me = sealers.iter().position(|s| *s == key.public()).map(|i| i as u32);
        let height = Height(parent.height.0 + 1);
        let mut r = Self {
            config,
            key,
            sealers,
            me,
            height,
            view: parent.view,
            in_view_change: false,
            parent,
            consecutive_timeouts: 0,
            txs_pending: false,
            block_full: false,
            round: Round::default(),
            buffer: Vec::new(),
        };
        // The view we asked to move to, and the highest view we were actually in (entered
        // through a new view, or voted in).
        let mut asked = View(0);
        let mut entered = parent.view;
        for entry in wal.iter().filter(|e| e.height() == height) {
            match entry {
                WalEntry::Prepare { view, hash, .. } => {
                    r.round.sent_prepare.insert(*view, *hash);
                    entered = entered.max(*view);
                }
                WalEntry::Commit { view, hash, .. } => {
                    r.round.sent_commit.insert(*view, *hash);
                    entered = entered.max(*view);
                }
                WalEntry::ViewChange { view, .. } => asked = asked.max(*view),
                WalEntry::EnterView { view, required, .. } => {
                    if *view >= entered {
                        r.round.required = required.as_ref().map(|b| (**b).clone());
                    }
                    entered = entered.max(*view);
                    r.round.new_view_done.insert(*view);
                }
                WalEntry::Prepared(cert) => {
                    entered = entered.max(cert.view);
                    if r.round.prepared.as_ref().is_none_or(|p| p.view < cert.view) {
                        r.round.prepared = Some((**cert).clone());
                    }
                }
            }
        }
        // Waiting for a new view only if we asked for one above every view we were in.
        r.in_view_change = asked > entered;
        r.view = asked.max(entered);
        r
    }

    /// The height being agreed on.
    pub fn height(&self) -> Height {
        self.height
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// Whether a view change is in progress.
    pub fn in_view_change(&self) -> bool {
        self.in_view_change
    }

    /// The sealers of the current height.
    pub fn sealers(&self) -> &[PublicKey] {
        &self.sealers
    }

    /// Our index among the sealers, if we are one.
    pub fn index(&self) -> Option<u32> {
        self.me
    }

    /// Changes the block interval and the base consensus timeout (the chain's configuration
    /// changed by a transaction). They apply at once, to the height being agreed on: a
    /// pending proposal is rescheduled and the view timer moved.
    pub fn set_timing(
        &mut self,
        now: u64,
        block_interval_ms: u64,
        timeout_ms: u64,
        out: &mut Vec<Output>,
    ) {
        if (block_interval_ms, timeout_ms)
            == (self.config.block_interval_ms, self.config.timeout_ms)
        {
            return;
        }
        self.config.block_interval_ms = block_interval_ms;
        self.config.timeout_ms = timeout_ms;
        if self.round.view_timer_armed == Some(self.view) {
            let deadline = self.round.view_armed_at.saturating_add(self.timeout_ms());
            self.round.view_deadline = Some(deadline);
            let timer = Timer::ViewTimeout { height: self.height, view: self.view };
            out.push(Output::SetTimer { timer, at_ms: deadline });
        }
        self.maybe_schedule_proposal(now, out);
        self.check_invariants();
    }

    /// Takes the messages buffered for later heights or views, so that a replica replacing
    /// this one (after block sync moved the head) can be given them instead of losing them.
    pub fn take_buffered(&mut self) -> Vec<SignedMessage> {
        std::mem::take(&mut self.buffer)
    }

    /// The primary of (height, view): `sealers[(height + view) % n]`.
    pub fn primary(&self, height: Height, view: View) -> u32 {
        let n = self.sealers.len().max(1) as u64;
        (height.0.wrapping_add(view.0) % n) as u32
    }

    fn quorum(&self) -> usize {
        #[cfg(feature = "defects")]
        if self.config.defects.quorum_f_plus_1 {
            return self.f() + 1;
        }
        quorum(self.sealers.len())
    }

    fn f(&self) -> usize {
        self.sealers.len().saturating_sub(1) / 3
    }

    /// Arms the timers of a fresh replica (call once after `new`).
    pub fn start(&mut self, now: u64, out: &mut Vec<Output>) {
        if self.in_view_change {
            // Restarted during a view change: re-announce it.
            self.broadcast_view_change(now, out);
        }
        self.maybe_schedule_proposal(now, out);
        self.check_invariants();
    }

    /// Feeds one input; appends the actions to carry out, in order, to `out`.
    pub fn step(&mut self, now: u64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Message(m) => self.on_message(now, m, out),
            Input::Timer(t) => self.on_timer(now, t, out),
            Input::BlockFull => {
                // Only the timing changes: whether there is anything to propose is still
                // what `TxsPending` said.
                self.block_full = true;
                self.maybe_schedule_proposal(now, out);
            }
            Input::TxsPending(p) => {
                let was = self.txs_pending;
                self.txs_pending = p;
                if p && !was && self.round.proposal.is_none() {
                    // A build asked for while the pool looked non-empty may have been answered
                    // with nothing (the host's pool was empty by then): ask again now.
                    self.round.build_requested.remove(&self.view);
                }
                if p {
                    self.arm_view_timer(now, out);
                    self.maybe_schedule_proposal(now, out);
                }
            }
            Input::ProposalBuilt { height, view, block, next_sealers } => {
                self.on_proposal_built(now, height, view, *block, next_sealers, out)
            }
            Input::Executed { height, view, hash, result } => {
                self.on_executed(now, height, view, hash, result, out)
            }
        }
        self.check_invariants();
    }

    fn check_invariants(&self) {
        if let Some(p) = &self.round.proposal {
            assert_eq!(p.view, self.view, "a proposal is only kept for the current view");
            assert_eq!(p.block.header.height, self.height, "proposal for another height");
        }
        if let Some(c) = &self.round.prepared {
            assert!(c.view <= self.view, "prepared in a view above the current one");
        }
        assert!(self.buffer.len() <= self.config.max_buffered, "buffer over its bound");
    }

    fn sign(&self, msg: &Message) -> Option<SignedMessage> {
        self.me.map(|i| SignedMessage::sign(msg, i, &self.key))
    }

    fn timeout_ms(&self) -> u64 {
        let mut t = self.config.timeout_ms as f64;
        for _ in 0..self.consecutive_timeouts.min(32) {
            t *= 1.5;
        }
        (t as u64).min(self.config.max_timeout_ms)
    }

    fn arm_view_timer(&mut self, now: u64, out: &mut Vec<Output>) {
        if self.round.view_timer_armed != Some(self.view) {
            self.round.view_timer_armed = Some(self.view);
            self.round.view_armed_at = now;
            self.round.view_deadline = None;
            let timer = Timer::ViewTimeout { height: self.height, view: self.view };
            out.push(Output::SetTimer { timer, at_ms: now.saturating_add(self.timeout_ms()) });
        }
    }

    fn maybe_schedule_proposal(&mut self, now: u64, out: &mut Vec<Output>) {
        if self.me != Some(self.primary(self.height, self.view))
            || self.in_view_change
            || self.round.proposal.is_some()
        {
            return;
        }
        if let Some(block) = self.round.required.clone() {
            // A prepared block from an earlier view must be proposed again, as it is.
            self.propose(now, block, None, out);
            return;
        }
        if !self.txs_pending || self.round.build_requested.contains(&self.view) {
            return;
        }
        let due = if self.block_full {
            now
        } else {
            self.parent.timestamp_ms.saturating_add(self.config.block_interval_ms)
        };
        if now >= due {
            self.round.build_requested.insert(self.view);
            out.push(Output::BuildProposal {
                height: self.height,
                view: self.view,
                parent_hash: self.parent.hash,
                min_timestamp_ms: self.parent.timestamp_ms.saturating_add(1).max(now),
            });
        } else {
            let timer = Timer::Propose { height: self.height, view: self.view };
            out.push(Output::SetTimer { timer, at_ms: due });
        }
    }

    fn on_timer(&mut self, now: u64, timer: Timer, out: &mut Vec<Output>) {
        match timer {
            Timer::Propose { height, view } if height == self.height && view == self.view => {
                self.maybe_schedule_proposal(now, out)
            }
            Timer::ViewTimeout { height, view } if height == self.height && view == self.view => {
                if self.round.view_deadline.is_some_and(|d| now < d) {
                    // Set before the timeout grew; the timer at the new deadline follows.
                    return;
                }
                self.round.view_timer_armed = None;
                if !self.in_view_change && !self.txs_pending && self.round.proposal.is_none() {
                    // Nothing to agree on: an idle group keeps its view.
                    return;
                }
                // Replicas asking for this view or a later one.
                let supporters =
                    self.round.view_changes.values().filter(|(v, _, _)| *v >= self.view).count();
                if self.in_view_change && supporters < self.quorum() {
                    // Until a quorum wants this view or a later one, never move on alone
                    // (replicas would drift apart view by view); say it again in case it was
                    // lost.
                    self.rebroadcast_view_change(now, out);
                } else {
                    // No commit in this view, or no new view although a quorum asked for it.
                    self.consecutive_timeouts = self.consecutive_timeouts.saturating_add(1);
                    self.move_to_view(now, View(self.view.0.saturating_add(1)), out);
                }
            }
            _ => {}
        }
    }

    /// Leaves the current view for `view`: persist, announce, and wait for the new view.
    fn move_to_view(&mut self, now: u64, view: View, out: &mut Vec<Output>) {
        if view <= self.view && self.in_view_change {
            return;
        }
        self.view = view;
        self.in_view_change = true;
        self.round.proposal = None;
        self.round.required = None;
        out.push(Output::Persist(WalEntry::ViewChange { height: self.height, view }));
        self.broadcast_view_change(now, out);
    }

    fn broadcast_view_change(&mut self, now: u64, out: &mut Vec<Output>) {
        let vc = ViewChange {
            height: self.height,
            view: self.view,
            prepared: self.round.prepared.clone(),
        };
        let msg = Message::ViewChange(vc.clone());
        if let Some(signed) = self.sign(&msg) {
            out.push(Output::Broadcast(signed.clone()));
            if let Some(me) = self.me {
                self.round.view_changes.insert(me, (self.view, signed, vc));
            }
        }
        // If the new view does not come in time, move on to the one after.
        self.round.view_timer_armed = None;
        self.arm_view_timer(now, out);
        self.try_new_view(now, out);
    }

    fn rebroadcast_view_change(&mut self, now: u64, out: &mut Vec<Output>) {
        if let Some((_, signed, _)) = self.me.and_then(|me| self.round.view_changes.get(&me)) {
            out.push(Output::Broadcast(signed.clone()));
        }
        self.arm_view_timer(now, out);
    }

    fn on_message(&mut self, now: u64, m: SignedMessage, out: &mut Vec<Output>) {
        let from = m.from;
        if Some(from) == self.me {
            return;
        }
        // Decode first to route by height and view (the signature is checked once the
        // sealer set of that height is known).
        let msg = match Message::decode(&m.payload) {
            Ok(msg) => msg,
            Err(e) => {
                out.push(Output::ReportFault { from, fault: Fault::BadMessage(e.to_string()) });
                return;
            }
        };
        let h = msg.height();
        if h < self.height {
            return;
        }
        let future_view = h == self.height
            && (msg.view() > self.view
                || (self.in_view_change
                    && msg.view() == self.view
                    && !matches!(msg, Message::ViewChange(_) | Message::NewView(_))));
        let is_view_msg = matches!(msg, Message::ViewChange(_) | Message::NewView(_));
        if h > self.height || (future_view && !is_view_msg) {
            // Only authentic messages are kept (checked against the current sealers; a
            // message from a sealer added later is dropped and recovered by sync).
            if h.0 <= self.height.0.saturating_add(self.config.future_heights)
                && m.open(self.config.suite, &self.sealers).is_ok()
            {
                self.buffer_message(m);
            }
            return;
        }
        let msg = match m.open(self.config.suite, &self.sealers) {
            Ok(msg) => msg,
            Err(MessageError::UnknownSender(_)) => return,
            Err(e) => {
                out.push(Output::ReportFault { from, fault: Fault::BadMessage(e.to_string()) });
                return;
            }
        };
        match msg {
            Message::PrePrepare(p) => self.on_pre_prepare(now, from, p, out),
            Message::Prepare(p) => self.on_prepare(now, from, p, m, out),
            Message::Commit(c) => self.on_commit(now, from, c, m.signature, out),
            Message::ViewChange(vc) => self.on_view_change(now, from, vc, m, out),
            Message::NewView(nv) => self.on_new_view(now, from, nv, out),
        }
    }

    fn buffer_message(&mut self, m: SignedMessage) {
        // One peer may not fill the buffer: each sender gets an equal share of the count and
        // of the bytes.
        let n = self.sealers.len().max(1);
        let share = (self.config.max_buffered / n).max(1);
        let byte_share = self.config.max_buffered_bytes / n;
        let size = m.payload.len() + m.signature.len();
        let (mine, mine_bytes) = self
            .buffer
            .iter()
            .filter(|b| b.from == m.from)
            .fold((0, 0), |(c, b), x| (c + 1, b + x.payload.len() + x.signature.len()));
        if mine < share
            && mine_bytes + size <= byte_share
            && self.buffer.len() < self.config.max_buffered
        {
            self.buffer.push(m);
        }
    }

    fn replay_buffer(&mut self, now: u64, out: &mut Vec<Output>) {
        let buffered = std::mem::take(&mut self.buffer);
        for m in buffered {
            self.on_message(now, m, out);
        }
    }

    /// A backup accepts one proposal per (height, view), from that view's primary, and only
    /// if it extends our parent, is timestamped after it and not far ahead of our clock, and
    /// (in a new view) is the block the new view requires.
    fn on_pre_prepare(&mut self, now: u64, from: u32, p: PrePrepare, out: &mut Vec<Output>) {
        if p.view != self.view || self.in_view_change {
            return;
        }
        if from != self.primary(self.height, self.view) {
            out.push(Output::ReportFault { from, fault: Fault::NotPrimary });
            return;
        }
        let hash = p.block.hash(self.config.suite);
        match self.round.proposals_seen.get(&p.view) {
            Some(seen) if *seen != hash => {
                let fault = Fault::Equivocation { height: self.height, view: p.view };
                out.push(Output::ReportFault { from, fault });
                return;
            }
            Some(_) => return, // duplicate
            None => {}
        }
        if let Err(why) = self.check_proposal(now, &p.block, hash) {
            out.push(Output::ReportFault { from, fault: Fault::InvalidProposal(why) });
            return;
        }
        self.round.proposals_seen.insert(p.view, hash);
        self.round.proposal =
            Some(Proposal { view: p.view, block: p.block.clone(), hash, valid: None });
        self.arm_view_timer(now, out);
        out.push(Output::Execute { height: self.height, view: self.view, block: p.block });
    }

    fn check_proposal(&self, now: u64, block: &Block, hash: B256) -> Result<(), String> {
        let h = &block.header;
        if h.height != self.height {
            return Err(format!("height {} != {}", h.height, self.height));
        }
        if h.parent_hash != self.parent.hash {
            return Err(format!("parent {} is not our head {}", h.parent_hash, self.parent.hash));
        }
        if h.timestamp_ms <= self.parent.timestamp_ms {
            return Err("timestamp not after the parent's".into());
        }
        if h.timestamp_ms > now.saturating_add(self.config.max_clock_drift_ms) {
            return Err(format!("timestamp {} too far ahead of our clock {now}", h.timestamp_ms));
        }
        if block.txs.is_empty() {
            return Err("empty blocks are not made".into());
        }
        if let Some(required) = &self.round.required
            && required.hash(self.config.suite) != hash
        {
            return Err("the new view requires re-proposing the prepared block".into());
        }
        Ok(())
    }

    fn on_proposal_built(
        &mut self,
        now: u64,
        height: Height,
        view: View,
        block: Block,
        next_sealers: Option<Vec<PublicKey>>,
        out: &mut Vec<Output>,
    ) {
        if height != self.height
            || view != self.view
            || self.in_view_change
            || self.round.proposal.is_some()
            || self.me != Some(self.primary(height, view))
        {
            return;
        }
        let hash = block.hash(self.config.suite);
        if self.check_proposal(now, &block, hash).is_err() {
            // Our own host built something we would refuse from others: drop it and wait.
            return;
        }
        self.propose(now, block, Some(next_sealers), out);
    }

    /// Sends a pre-prepare for `block`; `executed` is `Some` when we built (and so executed)
    /// it ourselves.
    fn propose(
        &mut self,
        now: u64,
        block: Block,
        executed: Option<Option<Vec<PublicKey>>>,
        out: &mut Vec<Output>,
    ) {
        let hash = block.hash(self.config.suite);
        let msg = Message::PrePrepare(PrePrepare {
            height: self.height,
            view: self.view,
            block: block.clone(),
        });
        let Some(signed) = self.sign(&msg) else {
            return;
        };
        self.round.proposals_seen.insert(self.view, hash);
        self.round.proposal =
            Some(Proposal { view: self.view, block: block.clone(), hash, valid: None });
        out.push(Output::Broadcast(signed));
        self.arm_view_timer(now, out);
        match executed {
            Some(next) => self.on_executed(
                now,
                self.height,
                self.view,
                hash,
                Execution::Valid { next_sealers: next },
                out,
            ),
            None => out.push(Output::Execute { height: self.height, view: self.view, block }),
        }
    }

    fn on_executed(
        &mut self,
        now: u64,
        height: Height,
        view: View,
        hash: B256,
        result: Execution,
        out: &mut Vec<Output>,
    ) {
        if height != self.height || view != self.view {
            return;
        }
        let Some(p) = self.round.proposal.as_mut() else {
            return;
        };
        if p.hash != hash {
            return;
        }
        match result {
            Execution::Invalid(why) => {
                let from = self.primary(height, view);
                out.push(Output::ReportFault { from, fault: Fault::InvalidProposal(why) });
            }
            Execution::Valid { next_sealers } => {
                p.valid = Some(next_sealers.clone());
                let entry = (p.block.clone(), p.hash, next_sealers);
                self.round.executed.insert(view, entry);
                while self.round.executed.len() > MAX_EXECUTED_KEPT {
                    self.round.executed.pop_first();
                }
                self.send_prepare(now, out);
                self.try_prepared(now, out);
                self.try_commit(now, out);
            }
        }
    }

    fn send_prepare(&mut self, _now: u64, out: &mut Vec<Output>) {
        let Some(p) = &self.round.proposal else {
            return;
        };
        let (view, hash) = (p.view, p.hash);
        match self.round.sent_prepare.get(&view) {
            Some(sent) if *sent != hash => return, // voted otherwise before a restart
            Some(_) => {}
            None => {
                // Persist before sending: after a crash we must not prepare another digest.
                out.push(Output::Persist(WalEntry::Prepare { height: self.height, view, hash }));
                self.round.sent_prepare.insert(view, hash);
            }
        }
        let msg = Message::Prepare(Prepare { height: self.height, view, hash });
        if let (Some(signed), Some(me)) = (self.sign(&msg), self.me) {
            self.round.prepares.entry(view).or_default().insert(me, (hash, signed.clone()));
            out.push(Output::Broadcast(signed));
        }
    }

    fn on_prepare(
        &mut self,
        now: u64,
        from: u32,
        p: Prepare,
        m: SignedMessage,
        out: &mut Vec<Output>,
    ) {
        if p.view != self.view {
            return;
        }
        let votes = self.round.prepares.entry(p.view).or_default();
        match votes.get(&from) {
            Some((h, _)) if *h != p.hash => {
                let fault = Fault::Equivocation { height: self.height, view: p.view };
                out.push(Output::ReportFault { from, fault });
                return;
            }
            Some(_) => return,
            None => {
                votes.insert(from, (p.hash, m));
            }
        }
        self.try_prepared(now, out);
    }

    /// Prepared = our executed proposal plus a quorum of prepares for its hash in this view.
    fn try_prepared(&mut self, now: u64, out: &mut Vec<Output>) {
        let Some(p) = &self.round.proposal else {
            return;
        };
        if p.valid.is_none() {
            return;
        }
        if let Some(sent) = self.round.sent_commit.get(&p.view).copied() {
            // Voted to commit in this view already (possibly before a restart): only send the
            // same vote again if we have not yet in this run.
            let view = p.view;
            let ours = self.me.is_some_and(|me| {
                self.round.commits.get(&view).is_some_and(|c| c.contains_key(&me))
            });
            if sent == p.hash && !ours {
                self.send_commit(now, sent, out);
            }
            return;
        }
        let (view, hash) = (p.view, p.hash);
        let prepares: Vec<SignedMessage> = self
            .round
            .prepares
            .get(&view)
            .map(|v| v.values().filter(|(h, _)| *h == hash).map(|(_, m)| m.clone()).collect())
            .unwrap_or_default();
        if prepares.len() < self.quorum() {
            return;
        }
        let cert = PreparedCert { view, block: p.block.clone(), prepares };
        out.push(Output::Persist(WalEntry::Prepared(Box::new(cert.clone()))));
        self.round.prepared = Some(cert);
        out.push(Output::Persist(WalEntry::Commit { height: self.height, view, hash }));
        self.round.sent_commit.insert(view, hash);
        self.send_commit(now, hash, out);
    }

    fn send_commit(&mut self, now: u64, hash: B256, out: &mut Vec<Output>) {
        let view = self.view;
        let msg = Message::Commit(Commit { height: self.height, view, hash });
        if let (Some(signed), Some(me)) = (self.sign(&msg), self.me) {
            let sig = signed.signature.clone();
            self.round.commits.entry(view).or_default().insert(me, (hash, sig));
            out.push(Output::Broadcast(signed));
        }
        self.try_commit(now, out);
    }

    /// Keeps a commit vote: any from the current view (at most one hash per sender), and from
    /// earlier views only those for a proposal we executed, so memory stays bounded.
    fn on_commit(
        &mut self,
        now: u64,
        from: u32,
        c: Commit,
        signature: Bytes,
        out: &mut Vec<Output>,
    ) {
        if c.view > self.view {
            return;
        }
        if c.view < self.view
            && self.round.executed.get(&c.view).is_none_or(|(_, h, _)| *h != c.hash)
        {
            return;
        }
        let votes = self.round.commits.entry(c.view).or_default();
        match votes.get(&from) {
            Some((h, _)) if *h != c.hash => {
                let fault = Fault::Equivocation { height: self.height, view: c.view };
                out.push(Output::ReportFault { from, fault });
                return;
            }
            Some(_) => return,
            None => {
                votes.insert(from, (c.hash, signature));
            }
        }
        self.try_commit(now, out);
    }

    /// Committed = a quorum of commit votes **from one view** for the hash of a proposal we
    /// executed in that view. (Votes of different views must not be pooled: that could
    /// certify a block no quorum prepared in a single view, which a later view change may
    /// replace.)
    fn try_commit(&mut self, now: u64, out: &mut Vec<Output>) {
        let quorum = self.quorum();
        let decided = self.round.executed.iter().find_map(|(view, (block, hash, next))| {
            let votes = self.round.commits.get(view)?;
            let sigs: Vec<CommitSignature> = votes
                .iter()
                .filter(|(_, (h, _))| h == hash)
                .map(|(i, (_, s))| CommitSignature { sealer_index: *i, signature: s.clone() })
                .collect();
            (sigs.len() >= quorum).then(|| (*view, block.clone(), *hash, next.clone(), sigs))
        });
        let Some((view, mut block, hash, next, signatures)) = decided else {
            return;
        };
        block.certificate = Certificate { view, signatures };
        let committed = Committed {
            height: block.header.height,
            hash,
            timestamp_ms: block.header.timestamp_ms,
            view,
        };
        out.push(Output::Commit(block));
        self.advance(now, committed, next, out);
    }

    fn advance(
        &mut self,
        now: u64,
        committed: Committed,
        next_sealers: Option<Vec<PublicKey>>,
        out: &mut Vec<Output>,
    ) {
        if let Some(s) = next_sealers {
            self.me = s.iter().position(|p| *p == self.key.public()).map(|i| i as u32);
            self.sealers = s;
        }
        self.parent = committed;
        self.height = Height(committed.height.0 + 1);
        self.view = committed.view;
        self.in_view_change = false;
        self.consecutive_timeouts = 0;
        self.block_full = false;
        self.round = Round::default();
        if self.txs_pending {
            self.arm_view_timer(now, out);
        }
        self.maybe_schedule_proposal(now, out);
        self.replay_buffer(now, out);
    }

    /// Checks a prepared certificate: a quorum of distinct sealers' prepares for this height,
    /// its view and its block's hash.
    fn check_prepared(&self, cert: &PreparedCert) -> Result<(), String> {
        let hash = cert.block.hash(self.config.suite);
        if cert.block.header.height != self.height {
            return Err("prepared block of another height".into());
        }
        // Cheap shape checks before any signature: at most n prepares, distinct senders.
        if cert.prepares.len() > self.sealers.len() {
            return Err(format!(
                "{} prepares from {} sealers",
                cert.prepares.len(),
                self.sealers.len()
            ));
        }
        let distinct: BTreeSet<u32> = cert.prepares.iter().map(|m| m.from).collect();
        if distinct.len() != cert.prepares.len() {
            return Err("a sealer appears twice in the certificate".into());
        }
        let mut senders = BTreeSet::new();
        for m in &cert.prepares {
            let msg = m.open(self.config.suite, &self.sealers).map_err(|e| e.to_string())?;
            match msg {
                Message::Prepare(p)
                    if p.height == self.height && p.view == cert.view && p.hash == hash =>
                {
                    senders.insert(m.from);
                }
                _ => {
                    return Err("certificate holds a message that is not a matching prepare".into());
                }
            }
        }
        if senders.len() < self.quorum() {
            return Err(format!("{} prepares, quorum is {}", senders.len(), self.quorum()));
        }
        Ok(())
    }

    fn on_view_change(
        &mut self,
        now: u64,
        from: u32,
        vc: ViewChange,
        m: SignedMessage,
        out: &mut Vec<Output>,
    ) {
        // Stale or repeated view changes are dropped before their certificate is checked.
        if self.round.view_changes.get(&from).is_some_and(|(v, _, _)| *v >= vc.view) {
            return;
        }
        if let Some(cert) = &vc.prepared {
            if cert.view >= vc.view {
                out.push(Output::ReportFault {
                    from,
                    fault: Fault::InvalidCertificate(
                        "prepared in a view not below the requested one".into(),
                    ),
                });
                return;
            }
            if let Err(why) = self.check_prepared(cert) {
                out.push(Output::ReportFault { from, fault: Fault::InvalidCertificate(why) });
                return;
            }
        }
        self.round.view_changes.insert(from, (vc.view, m, vc.clone()));
        // f + 1 replicas want a higher view: at least one is honest, so join the lowest view
        // that f + 1 of them ask for (liveness; PBFT §4.5.2).
        let mut wanted: Vec<View> = self
            .round
            .view_changes
            .values()
            .map(|(v, _, _)| *v)
            .filter(|v| *v > self.view)
            .collect();
        if wanted.len() > self.f() {
            wanted.sort_unstable_by(|a, b| b.cmp(a));
            let target = wanted[self.f()];
            if target > self.view || !self.in_view_change {
                self.move_to_view(now, target.max(View(self.view.0 + 1)), out);
            }
        }
        self.try_new_view(now, out);
    }

    /// The new primary, once it holds a quorum of view changes for its view, announces it.
    fn try_new_view(&mut self, now: u64, out: &mut Vec<Output>) {
        let view = self.view;
        if !self.in_view_change
            || self.me != Some(self.primary(self.height, view))
            || self.round.new_view_done.contains(&view)
        {
            return;
        }
        let proofs: Vec<SignedMessage> = self
            .round
            .view_changes
            .values()
            .filter(|(v, _, _)| *v == view)
            .map(|(_, m, _)| m.clone())
            .collect();
        if proofs.len() < self.quorum() {
            return;
        }
        let nv = NewView { height: self.height, view, view_changes: proofs };
        let Some(signed) = self.sign(&Message::NewView(nv.clone())) else {
            return;
        };
        out.push(Output::Broadcast(signed));
        let me = self.me.unwrap_or_default();
        self.on_new_view(now, me, nv, out);
    }

    /// Enters the view of a valid new-view message: a quorum of view changes for it, signed by
    /// distinct sealers; the highest prepared certificate among them (if any) names the block
    /// the new primary must propose again.
    fn on_new_view(&mut self, now: u64, from: u32, nv: NewView, out: &mut Vec<Output>) {
        if nv.view < self.view || self.round.new_view_done.contains(&nv.view) || nv.view.0 == 0 {
            return;
        }
        if from != self.primary(self.height, nv.view) {
            out.push(Output::ReportFault { from, fault: Fault::NotPrimary });
            return;
        }
        // Cheap shape checks before any signature: at most n view changes, distinct senders.
        let distinct: BTreeSet<u32> = nv.view_changes.iter().map(|m| m.from).collect();
        if nv.view_changes.len() > self.sealers.len() || distinct.len() != nv.view_changes.len() {
            let why = "new view has more view changes than sealers, or repeats one".into();
            out.push(Output::ReportFault { from, fault: Fault::InvalidCertificate(why) });
            return;
        }
        let mut senders = BTreeSet::new();
        let mut highest: Option<PreparedCert> = None;
        for m in &nv.view_changes {
            let vc = match m.open(self.config.suite, &self.sealers) {
                Ok(Message::ViewChange(vc)) if vc.height == self.height && vc.view == nv.view => vc,
                _ => {
                    out.push(Output::ReportFault {
                        from,
                        fault: Fault::InvalidCertificate(
                            "new view holds an invalid view change".into(),
                        ),
                    });
                    return;
                }
            };
            if let Some(cert) = vc.prepared {
                if cert.view >= nv.view || self.check_prepared(&cert).is_err() {
                    out.push(Output::ReportFault {
                        from,
                        fault: Fault::InvalidCertificate(
                            "new view holds an invalid prepared certificate".into(),
                        ),
                    });
                    return;
                }
                if highest.as_ref().is_none_or(|h| h.view < cert.view) {
                    highest = Some(cert);
                }
            }
            senders.insert(m.from);
        }
        if senders.len() < self.quorum() {
            out.push(Output::ReportFault {
                from,
                fault: Fault::InvalidCertificate(format!(
                    "new view has {} view changes, quorum is {}",
                    senders.len(),
                    self.quorum()
                )),
            });
            return;
        }
        #[allow(unused_mut)]
        let mut required = highest.map(|c| c.block);
        #[cfg(feature = "defects")]
        if self.config.defects.ignore_prepared_in_new_view {
            required = None;
        }
        // Persist before acting in the view: after a restart we must be in this view (not
        // waiting for it) and still insist on the block it requires.
        out.push(Output::Persist(WalEntry::EnterView {
            height: self.height,
            view: nv.view,
            required: required.clone().map(Box::new),
        }));
        self.round.new_view_done.insert(nv.view);
        self.view = nv.view;
        self.in_view_change = false;
        self.round.proposal = None;
        self.round.required = required;
        self.round.view_timer_armed = None;
        self.arm_view_timer(now, out);
        self.maybe_schedule_proposal(now, out);
        self.replay_buffer(now, out);
    }
}
