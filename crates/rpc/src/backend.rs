//! What the RPC needs from the node besides the ledger: submitting transactions, the pool,
//! and the node's view of consensus, peers and sync. The node implements [`Backend`]; the
//! RPC never reaches into its internals.

use alloy_primitives::{Address, B256};
use jinlian_primitives::RecoveredTx;
use std::future::Future;
use std::pin::Pin;

/// A boxed future (the backend's answers may wait for the node's host thread).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Why a transaction was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The pool's rules refused it; the reason says which.
    #[error("{0}")]
    Refused(String),
    /// The node is overloaded; the client should retry later.
    #[error("{0}")]
    Busy(String),
}

/// A peer as the node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// Node id.
    pub node_id: [u8; 64],
    /// Its height, from its last status.
    pub height: u64,
    /// Its head hash.
    pub head: B256,
}

/// The node's view of its group, refreshed by the node as things change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// This node's id.
    pub node_id: [u8; 64],
    /// Whether this node votes at the next height.
    pub sealer: bool,
    /// Current consensus view (0 on observers).
    pub view: u64,
    /// Connected peers of the group.
    pub peers: Vec<PeerStatus>,
    /// Transactions in the pool.
    pub pool_size: usize,
    /// Highest height any peer claims (at least ours).
    pub highest_known: u64,
    /// Height when this node started catching up, while it is behind.
    pub sync_start: Option<u64>,
}

impl Default for NodeStatus {
    fn default() -> Self {
        Self {
            node_id: [0; 64],
            sealer: false,
            view: 0,
            peers: Vec::new(),
            pool_size: 0,
            highest_known: 0,
            sync_start: None,
        }
    }
}

/// What the pool holds for one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolAnswer {
    /// A pooled transaction asked for by hash.
    pub tx: Option<RecoveredTx>,
    /// The next nonce of the account asked for, counting its pooled transactions in sequence.
    pub next_nonce: Option<u64>,
    /// Pooled transactions that can be packed (up to the limit asked for), oldest first.
    pub pending: Vec<RecoveredTx>,
    /// Pooled transactions waiting behind a nonce gap of their sender (within the same limit).
    pub queued: Vec<RecoveredTx>,
    /// How many transactions of the whole pool wait behind a nonce gap.
    pub queued_count: usize,
}

/// A question for the pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolQuery {
    /// A transaction by hash.
    pub tx: Option<B256>,
    /// The next nonce of an account (given its nonce in the head state).
    pub nonce_of: Option<(Address, u64)>,
    /// How many pooled transactions to list.
    pub list: usize,
}

/// The node behind one group's RPC.
pub trait Backend: Send + Sync + 'static {
    /// Offers a transaction (signature already checked) to the pool; resolves to its hash.
    fn submit(&self, tx: RecoveredTx) -> BoxFuture<Result<B256, SubmitError>>;
    /// Asks the pool.
    fn pool(&self, q: PoolQuery) -> BoxFuture<PoolAnswer>;
    /// The node's current status.
    fn status(&self) -> NodeStatus;
}

/// What happened in a group, for subscriptions and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainEvent {
    /// Block `height` was committed (it is in the ledger).
    Block(u64),
    /// A transaction entered the pool.
    Pending(B256),
}

/// Where a group stands on this node (FISCO 2.x `queryGroupStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// This node has no genesis for it.
    Inexistent,
    /// Its genesis is here; it is not running.
    Stopped,
    /// It runs.
    Running,
}

impl GroupState {
    /// FISCO's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Inexistent => "INEXISTENT",
            GroupState::Stopped => "STOPPED",
            GroupState::Running => "RUNNING",
        }
    }
}

/// Why a group operation failed: FISCO's code (`0x1` … `0xf`) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GroupError {
    /// FISCO 2.x status code of the operation.
    pub code: u32,
    /// What went wrong.
    pub message: String,
}

/// Group lifecycle, as the node runs it (FISCO 2.x `generateGroup`, `startGroup`,
/// `stopGroup`, `queryGroupStatus`). Calls block: starting a group opens its ledger.
pub trait Admin: Send + Sync + 'static {
    /// Stores the genesis (JSON) of group `id` on this node; the group does not start.
    fn generate_group(&self, id: u32, genesis: &str) -> Result<(), GroupError>;
    /// Starts group `id` (its genesis must be here); it is started again after a restart.
    fn start_group(&self, id: u32) -> Result<(), GroupError>;
    /// Stops group `id`; its data stays, and it stays stopped after a restart.
    fn stop_group(&self, id: u32) -> Result<(), GroupError>;
    /// Where group `id` stands.
    fn group_state(&self, id: u32) -> GroupState;
    /// Every group this node has a genesis for, with its state.
    fn groups(&self) -> Vec<(u32, GroupState)>;
}
