//! Jinlian's PBFT consensus core: a replica as a pure state machine.
//!
//! [`Replica::step`] takes `now` (ms, from the host's clock) and one [`Input`] (a signed
//! message, a fired timer, or a reply from the host) and appends [`Output`]s (persist to the
//! WAL, broadcast, set a timer, build or execute a proposal, commit a block, report a fault).
//! The host carries them out in order and makes each `Persist` durable before any later
//! `Broadcast`. Nothing here does I/O, reads a clock, sleeps or draws random numbers, so the
//! same inputs always give the same outputs; the simulator drives many replicas this way.
//!
//! # Rules
//!
//! Sealers are the group's sealer list sorted by node id; `n` sealers, `f = (n − 1) / 3`,
//! `quorum = n − f`. The primary of (height `h`, view `v`) is `sealers[(h + v) mod n]`.
//!
//! 1. **Propose.** The primary, when the pool has transactions and `block_interval_ms` has
//!    passed since the parent's timestamp, asks the host to build and execute a block
//!    ([`Output::BuildProposal`]) and broadcasts `PrePrepare{h, v, block}`. No empty blocks.
//! 2. **Pre-prepare.** A backup accepts one proposal per (h, v), only from that view's primary,
//!    only if it extends its head, its timestamp is after the parent's and at most
//!    `max_clock_drift_ms` ahead of its clock, and (after a view change) it is the block the new
//!    view requires. A second, different proposal for the same (h, v) is reported as
//!    equivocation. The backup **executes before voting** ([`Output::Execute`]).
//! 3. **Prepare.** When execution reproduces the proposed header exactly (roots included), the
//!    replica persists `Prepare{h, v, hash}` and broadcasts it. It never prepares two hashes in
//!    one view, across restarts too (the WAL).
//! 4. **Commit.** With its executed proposal and a quorum of prepares for its hash in the view,
//!    the block is *prepared*: persist the prepared certificate and the commit vote, then
//!    broadcast `Commit{h, v, hash}`, signed over the block's commit digest `H(hash ‖ v)`.
//! 5. **Decide.** A quorum of commit votes **from one view** for the hash of a block the
//!    replica executed in that view is the block's certificate: [`Output::Commit`]. Votes of
//!    different views are never pooled. A replica that moved on to a later view still decides
//!    on a quorum of an earlier view's commits for a block it executed there. The next height
//!    starts in the view of the certificate (the primary rotates with the height). Sealer
//!    changes made by the block apply from the next height.
//! 6. **View change.** A replica that has seen a proposal or knows of pending transactions and
//!    sees no commit within the timeout (`timeout_ms × 1.5^k`, `k` consecutive timeouts, capped
//!    at `max_timeout_ms`) persists and broadcasts `ViewChange{h, v + 1, highest prepared
//!    certificate}` and stops voting in lower views. While it waits for the new view it
//!    re-sends its view change every timeout, and moves on to the view after only once a
//!    quorum asks for its view or a later one (so replicas do not drift apart view by view).
//!    On `f + 1` view changes for higher views it joins the lowest view they agree on. The new
//!    primary, with a quorum of view changes, broadcasts `NewView` carrying them; every
//!    replica checks the quorum and each prepared certificate, persists that it entered the
//!    view (with the block the view requires), and the **highest prepared block must be
//!    proposed again unchanged**, so a block committed anywhere can never be replaced.
//! 7. **Bad input.** Undecodable messages and bad signatures are dropped and reported;
//!    messages for past heights are dropped; messages for the next few heights or higher views
//!    are buffered, with a total bound and an equal share per sender.
//!
//! # Deviations
//!
//! From the PBFT paper: there is no client request/reply or checkpointing (the chain is the
//! log; a committed block with its certificate is the stable checkpoint), one instance runs
//! at a time (height by height), and the primary's proposal is a block it already executed.
//! Commit votes are signatures over `H("jinlian/commit/v1" ‖ hash ‖ view)`, so one view's
//! quorum of them is a certificate anyone can verify with just the sealer list (PBFT's commit
//! messages are authenticated per recipient and not kept). An earlier version signed the hash
//! only and pooled commits across views; a review showed that certifies blocks no quorum
//! prepared in one view (see docs/CONSENSUS.md), so the view is signed.
//! From FISCO BCOS 2.x: the same three phases with execute-before-vote and the same primary
//! rotation, but no empty blocks (FISCO seals empty blocks to rotate primaries), view-change
//! messages carry prepared certificates (FISCO re-sends its cached prepared block), and
//! blocks carry a commit certificate rather than a signature list in the header.

mod message;
mod replica;
mod wal;

pub use message::{
    Commit, MAX_MESSAGE_BYTES, Message, MessageError, NewView, PrePrepare, Prepare, PreparedCert,
    SignedMessage, ViewChange,
};
#[cfg(feature = "defects")]
pub use replica::Defects;
pub use replica::{Committed, Config, Execution, Fault, Input, Output, Replica, Timer};
pub use wal::WalEntry;
