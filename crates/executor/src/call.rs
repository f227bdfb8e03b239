//! Read-only calls (`eth_call`) and gas estimation (`eth_estimateGas`).

use crate::evm::{CallFrame, CallTracer, build_evm};
use crate::executor::{db_error, halt_status, tx_error};
use crate::state::keys;
use crate::{AccountRecord, BlockContext, ExecConfig, ExecError, StateError, StateView};
use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256, keccak256};
use jinlian_primitives::status;
use revm::context::TxEnv;
use revm::context::result::{EVMError, ExecutionResult, Output};
use std::collections::BTreeMap;

/// A call as `eth_call` and `eth_estimateGas` receive it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Caller (zero address when absent).
    pub from: Option<Address>,
    /// Callee, or contract creation.
    pub to: TxKind,
    /// Gas limit (the chain's `tx_gas_limit` when absent).
    pub gas: Option<u64>,
    /// Value sent.
    pub value: U256,
    /// Call data or init code.
    pub data: Bytes,
    /// State overrides for this call only (geth's `eth_call` third parameter).
    pub overrides: Vec<(Address, AccountOverride)>,
}

/// Changes to one account's state for the duration of a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountOverride {
    /// Balance to use.
    pub balance: Option<U256>,
    /// Nonce to use.
    pub nonce: Option<u64>,
    /// Code to use.
    pub code: Option<Bytes>,
    /// Storage to use instead of the account's whole storage (unlisted slots read zero).
    pub state: Option<Vec<(U256, U256)>>,
    /// Slots to change, the rest of the storage kept.
    pub state_diff: Vec<(U256, U256)>,
}

/// The parent state seen through a call's overrides.
struct Overridden<'a> {
    base: &'a dyn StateView,
    entries: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Accounts whose storage is replaced as a whole.
    replaced: Vec<Address>,
}

impl<'a> Overridden<'a> {
    fn new(
        base: &'a dyn StateView,
        overrides: &[(Address, AccountOverride)],
    ) -> Result<Self, ExecError> {
        let mut entries = BTreeMap::new();
        let mut replaced = Vec::new();
        for (addr, o) in overrides {
            let key = keys::account(addr);
            let mut rec = match base.get(&key)? {
                Some(v) => AccountRecord::decode_bytes(&v)?,
                None => AccountRecord {
                    code_hash: revm::primitives::KECCAK_EMPTY,
                    ..AccountRecord::default()
                },
            };
            if let Some(b) = o.balance {
                rec.balance = b;
            }
            if let Some(n) = o.nonce {
                rec.nonce = n;
            }
            if let Some(code) = &o.code {
                rec.code_hash =
                    if code.is_empty() { revm::primitives::KECCAK_EMPTY } else { keccak256(code) };
                entries.insert(keys::code(&rec.code_hash), Some(code.to_vec()));
            }
            entries.insert(key, Some(rec.encode_to_vec()));
            if let Some(state) = &o.state {
                replaced.push(*addr);
                for (slot, v) in state {
                    entries.insert(keys::storage(addr, slot), Some(v.to_be_bytes::<32>().to_vec()));
                }
            }
            for (slot, v) in &o.state_diff {
                entries.insert(keys::storage(addr, slot), Some(v.to_be_bytes::<32>().to_vec()));
            }
        }
        Ok(Self { base, entries, replaced })
    }
}

impl StateView for Overridden<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.entries.get(key) {
            return Ok(v.clone());
        }
        // A replaced storage hides every slot it does not list.
        if key.len() == 53 && key[0] == b's' && self.replaced.iter().any(|a| key[1..21] == a[..]) {
            return Ok(None);
        }
        self.base.get(key)
    }

    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError> {
        self.base.block_hash(height)
    }
}

/// The outcome of a read-only call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// FISCO status code (0 success, 22 revert, 12 out of gas, …).
    pub status: u32,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Gas the call used.
    pub gas_used: u64,
    /// Logs it would emit.
    pub logs: Vec<Log>,
}

impl CallOutcome {
    /// Whether the call succeeded.
    pub fn is_success(&self) -> bool {
        self.status == status::OK
    }
}

/// Runs `req` on top of `parent` as if in `block`, without writing anything. The caller's
/// nonce is not checked (as `eth_call`); value needs balance.
pub fn call(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
) -> Result<CallOutcome, ExecError> {
    if req.overrides.is_empty() {
        return run(cfg, parent, block, req, gas_cap(cfg, parent, block, req)?);
    }
    let view = Overridden::new(parent, &req.overrides)?;
    run(cfg, &view, block, req, gas_cap(cfg, &view, block, req)?)
}

/// The gas a call may use: what it asks for, at most the `tx_gas_limit` in force (the system
/// config's, else the chain's) and the block's limit.
fn gas_cap(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
) -> Result<u64, ExecError> {
    let limit =
        crate::system::config_at(parent, "tx_gas_limit", block.height)?.unwrap_or(cfg.tx_gas_limit);
    Ok(req.gas.unwrap_or(u64::MAX).min(limit).min(block.gas_limit))
}

fn run(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
    gas: u64,
) -> Result<CallOutcome, ExecError> {
    run_traced(cfg, parent, block, req, gas, false).map(|(out, _)| out)
}

/// Like [`call`], and returns the call tree (geth's `callTracer`): the top frame has the
/// call's gas limit and the gas the whole call used.
pub fn trace_call(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
) -> Result<(CallOutcome, CallFrame), ExecError> {
    let view = Overridden::new(parent, &req.overrides)?;
    let gas = gas_cap(cfg, &view, block, req)?;
    let (out, tree) = run_traced(cfg, &view, block, req, gas, true)?;
    let mut root = tree.unwrap_or_default();
    root.gas = gas;
    root.gas_used = out.gas_used;
    Ok((out, root))
}

fn run_traced(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
    gas: u64,
    trace: bool,
) -> Result<(CallOutcome, Option<CallFrame>), ExecError> {
    let (mut evm, cfg) = build_evm(cfg, parent, block, false)?;
    if trace {
        evm.tracer = Some(CallTracer::default());
    }
    // As `eth_call`: any caller, whatever its nonce.
    evm.inner.ctx.cfg.disable_nonce_check = true;
    let cfg = &cfg;
    let env = TxEnv {
        caller: req.from.unwrap_or_default(),
        gas_limit: gas,
        gas_price: 0,
        kind: req.to,
        value: req.value,
        data: req.data.clone(),
        chain_id: Some(cfg.chain_id),
        ..TxEnv::default()
    };
    let result = match evm.transact(env) {
        Ok(r) => r,
        Err(EVMError::Transaction(e)) => {
            return Err(ExecError::InvalidTx { index: 0, reason: tx_error(&e) });
        }
        Err(EVMError::Database(e)) => return Err(db_error(e)),
        Err(e) => return Err(ExecError::Evm(e.to_string())),
    };
    let gas_used = result.tx_gas_used();
    let logs = result.logs().to_vec();
    let (status, output) = match result {
        ExecutionResult::Success { output: Output::Call(b) | Output::Create(b, _), .. } => {
            (status::OK, b)
        }
        ExecutionResult::Revert { output, .. } => (status::REVERT_INSTRUCTION, output),
        ExecutionResult::Halt { reason, .. } => (halt_status(&reason), Bytes::new()),
    };
    let tree = evm.tracer.take().and_then(|t| t.root);
    Ok((CallOutcome { status, output, gas_used, logs }, tree))
}

/// Why gas could not be estimated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EstimateError {
    /// The call fails even with the most gas allowed (revert data included).
    #[error("execution fails with status {}", .0.status)]
    Fails(CallOutcome),
    /// It could not run at all.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// The least gas limit with which `req` succeeds, found by binary search between the gas it
/// used with the most gas allowed and that limit, so the returned limit provably succeeds
/// (refunds and the 63/64 rule make "gas used" alone too low for some calls).
pub fn estimate_gas(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    req: &CallRequest,
) -> Result<u64, EstimateError> {
    let view = Overridden::new(parent, &req.overrides)?;
    let parent: &dyn StateView = &view;
    let cap = gas_cap(cfg, parent, block, req)?;
    let first = run(cfg, parent, block, req, cap)?;
    if !first.is_success() {
        return Err(EstimateError::Fails(first));
    }
    // A limit below the intrinsic cost is refused outright: that is a failure here too.
    let succeeds = |gas: u64| match run(cfg, parent, block, req, gas) {
        Ok(out) => Ok(out.is_success()),
        Err(ExecError::InvalidTx { .. }) => Ok(false),
        Err(e) => Err(e),
    };
    // `lo` fails (or is below any possible use), `hi` succeeds.
    let mut lo = first.gas_used.saturating_sub(1);
    let mut hi = cap;
    // Most calls succeed with exactly what they used: try that first.
    if succeeds(first.gas_used)? {
        hi = first.gas_used;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if succeeds(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}
