//! Jinlian's block executor: revm over a flat state view, producing receipts, a sorted write
//! set and the block's roots.
//!
//! [`execute_block`] runs a block's transactions (senders already recovered once, at pool
//! admission) on the parent state and returns a [`BlockOutcome`]: FISCO-coded receipts with
//! logs and return or revert data, the state changes to write in the block's storage
//! transaction, and `state_root`, `receipt_root`, gas used and the logs bloom (the
//! transaction root depends only on the block's transactions: consensus computes it).
//! The same block on any replica gives identical roots: execution reads only the parent
//! state and the block, and everything is sorted before hashing.
//!
//! No fees: the EVM runs every transaction with gas price zero, so zero-balance accounts can
//! send; gas is still metered and limited (`tx_gas_limit`, the block gas limit); value
//! transfers need balance and nothing mints. `block.timestamp` is in seconds and
//! `block.chainid` is the group's chain id; Prague rules by default.
//!
//! The state is a flat key-value space ([`state::keys`]): accounts, storage slots, code by
//! hash, and consortium `randomid`s. The executor is pure (no I/O); the node hands it a
//! [`StateView`] of one storage snapshot.

mod call;
mod digest;
mod evm;
mod executor;
mod sm_evm;
pub mod state;
pub mod system;

pub use call::{
    AccountOverride, CallOutcome, CallRequest, EstimateError, call, estimate_gas, trace_call,
};
pub use evm::{CallFrame, create_address, create2_address};
pub use executor::{
    BLOCK_LIMIT_WINDOW, BlockContext, BlockOutcome, ExecConfig, ExecError, execute_block,
    state_root, trace_transaction,
};
pub use revm::primitives::hardfork::SpecId;
pub use state::{AccountRecord, MemState, StateError, StateView};
