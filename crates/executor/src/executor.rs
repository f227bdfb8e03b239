//! Executing a block on revm.

use crate::state::{AccountRecord, StateError, StateView, keys};
use alloy_primitives::{Address, B256, Bloom, Bytes, TxKind, U256};
use alloy_rlp::Encodable;
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{Receipt, RecoveredTx, TxBody, status};
use revm::context::TxEnv;
use revm::context::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction, Output};
use revm::database::OriginalValuesKnown;
use revm::database::states::bundle_state::BundleRetention;
use revm::primitives::hardfork::SpecId;
use revm::state::{AccountInfo, Bytecode};
use revm::{Database, DatabaseRef};
use std::collections::{BTreeMap, BTreeSet};

/// How far ahead a consortium transaction's `blockLimit` may be (FISCO BCOS: 1000).
pub const BLOCK_LIMIT_WINDOW: u64 = 1000;

/// Chain-wide execution settings (from genesis and the system config).
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// The chain's crypto suite.
    pub suite: CryptoSuite,
    /// The group's chain id (`block.chainid`).
    pub chain_id: u64,
    /// The group id consortium transactions must name.
    pub group_id: u64,
    /// EVM rules (Prague by default).
    pub spec: SpecId,
    /// Largest gas limit of one transaction (`tx_gas_limit`).
    pub tx_gas_limit: u64,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            suite: CryptoSuite::Ecdsa,
            chain_id: 1,
            group_id: 1,
            spec: SpecId::PRAGUE,
            tx_gas_limit: 300_000_000,
        }
    }
}

/// The block being executed.
#[derive(Debug, Clone)]
pub struct BlockContext {
    /// Its height.
    pub height: u64,
    /// Its timestamp in milliseconds (`block.timestamp` is this / 1000).
    pub timestamp_ms: u64,
    /// Gas limit of the block.
    pub gas_limit: u64,
    /// `block.coinbase` (the proposer's address).
    pub coinbase: Address,
    /// State root of the parent block.
    pub parent_state_root: B256,
}

/// Everything a block's execution produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// State changes, sorted by key; `None` deletes.
    pub write_set: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// `H(parent state root ‖ H(rlp(write set)))`.
    pub state_root: B256,
    /// Merkle root of the receipts.
    pub receipt_root: B256,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Bloom of all logs.
    pub logs_bloom: Bloom,
    /// The sealers (sorted node ids) from the next height on, when this block changed them
    /// through the Consensus system contract.
    pub next_sealers: Option<Vec<[u8; 64]>>,
    /// For each entry of `write_set`, the value the key held in the parent state (`None` for
    /// code keys, whose history is not kept), so the ledger can keep past state without
    /// reading it again.
    pub prior: Vec<Option<Vec<u8>>>,
}

/// The parent state with a block's writes on top.
struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: &'a BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError> {
        self.base.block_hash(height)
    }
}

/// Why a block could not be executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// A transaction that must not be in a block (the block is invalid).
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTx {
        /// Position in the block.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The state could not be read; stop. This is a local failure, not evidence that the
    /// block is invalid: a node must not vote against a block because of it.
    #[error(transparent)]
    State(#[from] StateError),
    /// The EVM failed in a way that is not the transaction's fault (including a storage error
    /// met inside a system contract). Like `State`, a local failure: retry or stop, never
    /// judge the block by it.
    #[error("evm: {0}")]
    Evm(String),
}

/// The EVM settings every execution uses: our chain id and spec, fees off, gas capped.
pub(crate) fn configure(c: &mut revm::context::CfgEnv, cfg: &ExecConfig) {
    c.chain_id = cfg.chain_id;
    c.spec = cfg.spec;
    c.tx_gas_limit_cap = Some(cfg.tx_gas_limit);
    c.disable_fee_charge = true;
    c.disable_base_fee = true;
}

/// The block fields the EVM sees (`block.timestamp` in seconds).
pub(crate) fn block_env(b: &mut revm::context::BlockEnv, block: &BlockContext) {
    b.number = U256::from(block.height);
    b.timestamp = U256::from(block.timestamp_ms / 1000);
    b.gas_limit = block.gas_limit;
    b.basefee = 0;
    b.beneficiary = block.coinbase;
    b.prevrandao = Some(B256::ZERO);
}

/// revm's view of the parent state.
pub(crate) struct Db<'a>(pub(crate) &'a dyn StateView);

impl DatabaseRef for Db<'_> {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        let Some(v) = self.0.get(&keys::account(&address))? else { return Ok(None) };
        let r = AccountRecord::decode_bytes(&v)?;
        // `code: None` makes revm load the code by hash (the default holds empty code).
        Ok(Some(AccountInfo {
            balance: r.balance,
            nonce: r.nonce,
            code_hash: r.code_hash,
            code: None,
            ..AccountInfo::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        let code = self
            .0
            .get(&keys::code(&code_hash))?
            .ok_or_else(|| StateError(format!("missing code {code_hash}")))?;
        Ok(Bytecode::new_raw(Bytes::from(code)))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        Ok(self
            .0
            .get(&keys::storage(&address, &index))?
            .map_or(U256::ZERO, |v| U256::from_be_slice(&v)))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        Ok(self.0.block_hash(number)?.unwrap_or_default())
    }
}

fn invalid(index: usize, reason: impl Into<String>) -> ExecError {
    ExecError::InvalidTx { index, reason: reason.into() }
}

/// FISCO BCOS status code of an EVM halt.
pub(crate) fn halt_status(reason: &HaltReason) -> u32 {
    match reason {
        HaltReason::OutOfGas(_) => status::OUT_OF_GAS,
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode | HaltReason::NotActivated => {
            status::BAD_INSTRUCTION
        }
        HaltReason::InvalidJump => status::BAD_JUMP_DESTINATION,
        HaltReason::StackOverflow => status::OUT_OF_STACK,
        HaltReason::StackUnderflow => status::STACK_UNDERFLOW,
        HaltReason::CreateCollision => status::ADDRESS_ALREADY_USED,
        HaltReason::PrecompileError | HaltReason::PrecompileErrorWithContext(_) => {
            status::PRECOMPILED_ERROR
        }
        HaltReason::OutOfFunds => status::NOT_ENOUGH_CASH,
        _ => status::UNKNOWN,
    }
}

/// Executes `txs` (signatures already verified) on top of `parent`.
///
/// Rules: every transaction must name the configured chain id (and, for consortium
/// transactions, the group id); Ethereum envelopes must carry the sender's next nonce;
/// consortium transactions must have `height ≤ blockLimit < height + 1000` and a `randomid`
/// the sender has not used in a still-valid transaction (records of used `randomid`s are
/// pruned once their blockLimit has passed). A transaction breaking a rule makes
/// the block invalid ([`ExecError::InvalidTx`]); a transaction that runs and fails (revert,
/// out of gas) gets a receipt with its status. No fees are charged: gas price is zero inside
/// the EVM, so zero-balance accounts can send; value transfers still need balance.
pub fn execute_block(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    txs: &[RecoveredTx],
) -> Result<BlockOutcome, ExecError> {
    std::thread::scope(|scope| {
        let sink = crate::digest::Sink::new(scope, cfg.suite, txs.len());
        execute_into(cfg, parent, block, txs, sink, None)
    })
}

/// Re-executes a committed block up to its transaction `index` on the state before the block
/// and returns that transaction's call tree (geth's `callTracer`): the top frame carries the
/// transaction's gas limit and the gas its receipt reports.
pub fn trace_transaction(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    txs: &[RecoveredTx],
    index: usize,
) -> Result<crate::CallFrame, ExecError> {
    let Some(prefix) = txs.get(..=index) else {
        return Err(invalid(index, format!("the block has {} transactions", txs.len())));
    };
    let mut tree = None;
    std::thread::scope(|scope| {
        let sink = crate::digest::Sink::new(scope, cfg.suite, prefix.len());
        execute_into(cfg, parent, block, prefix, sink, Some(&mut tree))
    })?;
    let mut root = tree.unwrap_or_default();
    root.gas = prefix[index].tx.gas_limit();
    Ok(root)
}

/// Executes `txs`; with `trace_last`, records the last transaction's call tree there.
fn execute_into(
    cfg: &ExecConfig,
    parent: &dyn StateView,
    block: &BlockContext,
    txs: &[RecoveredTx],
    mut sink: crate::digest::Sink<'_>,
    mut trace_last: Option<&mut Option<crate::CallFrame>>,
) -> Result<BlockOutcome, ExecError> {
    let (mut evm, cfg) = crate::evm::build_evm(cfg, parent, block, true)?;
    let cfg = &cfg;

    let any_frozen_accounts = crate::system::governance::any_frozen_accounts(parent)?;
    if let Some(limit) = crate::system::config_at(parent, "tx_count_limit", block.height)?
        && txs.len() as u64 > limit
    {
        return Err(invalid(
            limit as usize,
            format!("the block has {} transactions; tx_count_limit is {limit}", txs.len()),
        ));
    }
    let mut cumulative = 0u64;
    let mut random_ids: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut seen_random = BTreeSet::new();
    // (sender ‖ randomid) records by the blockLimit after which they can be pruned.
    let mut expiring: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for (index, rtx) in txs.iter().enumerate() {
        let tx = &rtx.tx;
        let sender = rtx.sender;
        if tx.chain_id() != Some(cfg.chain_id) {
            return Err(invalid(
                index,
                format!("chain id {:?} != {}", tx.chain_id(), cfg.chain_id),
            ));
        }
        if tx.gas_limit() > block.gas_limit.saturating_sub(cumulative) {
            return Err(invalid(
                index,
                format!(
                    "gas limit {} exceeds the block's remaining gas {}",
                    tx.gas_limit(),
                    block.gas_limit.saturating_sub(cumulative)
                ),
            ));
        }
        if tx.gas_limit() > cfg.tx_gas_limit {
            return Err(invalid(
                index,
                format!("gas limit {} exceeds tx_gas_limit {}", tx.gas_limit(), cfg.tx_gas_limit),
            ));
        }
        let nonce = match tx.body() {
            TxBody::Consortium(c) => {
                if c.group_id != cfg.group_id {
                    return Err(invalid(
                        index,
                        format!("group id {} != {}", c.group_id, cfg.group_id),
                    ));
                }
                if c.block_limit < block.height
                    || c.block_limit >= block.height + BLOCK_LIMIT_WINDOW
                {
                    return Err(invalid(
                        index,
                        format!(
                            "blockLimit {} outside [{}, {})",
                            c.block_limit,
                            block.height,
                            block.height + BLOCK_LIMIT_WINDOW
                        ),
                    ));
                }
                let key = keys::random_id(&sender, &c.random_id);
                if !seen_random.insert(key.clone()) || parent.get(&key)?.is_some() {
                    return Err(invalid(index, "randomid already used by this sender"));
                }
                expiring.entry(c.block_limit).or_default().extend_from_slice(&key[1..]);
                random_ids.insert(key, c.block_limit.to_be_bytes().to_vec());
                // Consortium transactions are not ordered by nonce; they take the next one.
                evm.db().basic(sender).map_err(db_error)?.map_or(0, |a| a.nonce)
            }
            _ => tx.nonce().unwrap_or_default(),
        };
        let tx_type = match tx.body() {
            TxBody::Eip2930(_) => 1,
            TxBody::Eip1559(_) => 2,
            _ => 0,
        };
        let access_list = tx
            .access_list()
            .map(|al| {
                al.iter()
                    .map(|i| revm::context::transaction::AccessListItem {
                        address: i.address,
                        storage_keys: i.storage_keys.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let env = TxEnv {
            tx_type,
            caller: sender,
            gas_limit: tx.gas_limit(),
            gas_price: 0,
            kind: tx.to(),
            value: tx.value(),
            data: tx.input().clone(),
            nonce,
            chain_id: Some(cfg.chain_id),
            access_list: access_list.into(),
            gas_priority_fee: None,
            ..TxEnv::default()
        };
        // A transaction from an account frozen in the parent state, or calling a contract
        // frozen there, does not run: the sender's nonce is used by an empty self-call and
        // the receipt says AccountFrozen (FISCO status 31) or ContractFrozen (30).
        // A deployment by an account the `_sys_tables_` whitelist leaves out is refused the
        // same way, with NoDeployPermission (18).
        let frozen = if any_frozen_accounts && crate::system::is_account_frozen(parent, &sender)? {
            Some(status::ACCOUNT_FROZEN)
        } else {
            match tx.to() {
                TxKind::Call(to) if evm.is_frozen(to, &sender)? => Some(status::CONTRACT_FROZEN),
                TxKind::Create if !crate::system::may_deploy(parent, &sender)? => {
                    Some(status::NO_DEPLOY_PERMISSION)
                }
                _ => None,
            }
        };
        let env = if frozen.is_some() {
            TxEnv {
                kind: TxKind::Call(sender),
                value: U256::ZERO,
                data: Bytes::new(),
                access_list: Default::default(),
                ..env
            }
        } else {
            env
        };
        let traced = trace_last.is_some() && index + 1 == txs.len();
        if traced {
            evm.tracer = Some(crate::evm::CallTracer::default());
        }
        let result = match evm.transact_commit(env) {
            Ok(r) => r,
            Err(EVMError::Transaction(e)) => return Err(invalid(index, tx_error(&e))),
            Err(EVMError::Database(e)) => return Err(db_error(e)),
            Err(e) => return Err(ExecError::Evm(e.to_string())),
        };
        let gas_used = result.tx_gas_used();
        cumulative = cumulative.saturating_add(gas_used);
        if traced && let Some(slot) = trace_last.as_deref_mut() {
            let mut root = evm.tracer.take().and_then(|t| t.root).unwrap_or_default();
            root.gas_used = gas_used;
            *slot = Some(root);
        }
        let (status, output, contract_address, logs) = match result {
            _ if frozen.is_some() => (frozen.unwrap_or_default(), Bytes::new(), None, Vec::new()),
            ExecutionResult::Success { output, logs, .. } => match output {
                Output::Create(bytes, addr) => (status::OK, bytes, addr, logs),
                Output::Call(bytes) => (status::OK, bytes, None, logs),
            },
            ExecutionResult::Revert { output, .. } => {
                (status::REVERT_INSTRUCTION, output, None, Vec::new())
            }
            ExecutionResult::Halt { reason, .. } => {
                (halt_status(&reason), Bytes::new(), None, Vec::new())
            }
        };
        sink.push(Receipt {
            status,
            gas_used,
            cumulative_gas_used: cumulative,
            contract_address: if matches!(tx.to(), TxKind::Create) {
                contract_address
            } else {
                None
            },
            logs,
            output,
        });
    }

    let mut state = evm.inner.ctx.journaled_state.database;
    state.merge_transitions(BundleRetention::PlainState);
    let bundle = state.take_bundle();
    let changes = bundle.to_plain_state(OriginalValuesKnown::Yes);
    let mut writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for (addr, info) in changes.accounts {
        let v = info.map(|i| {
            AccountRecord { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash }
                .encode_to_vec()
        });
        writes.insert(keys::account(&addr), v);
    }
    for s in changes.storage {
        // Since Cancun, SELFDESTRUCT only removes contracts created in the same transaction,
        // whose storage lives only inside this block; every slot it set is listed here.
        for (slot, value) in s.storage {
            let v = (!value.is_zero()).then(|| value.to_be_bytes::<32>().to_vec());
            writes.insert(keys::storage(&s.address, &slot), v);
        }
    }
    for (hash, code) in changes.contracts {
        writes.insert(keys::code(&hash), Some(code.original_bytes().to_vec()));
    }
    for (k, v) in random_ids {
        writes.insert(k, Some(v));
    }
    // Replay records whose blockLimit has passed can never match a valid transaction again:
    // the records with blockLimit `height - 1` go now (every height prunes its predecessor),
    // and this block's records join the lists of their blockLimits.
    // Values the replay-protection writes replace, for the ledger's history.
    let mut replaced: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for (limit, mut list) in expiring {
        let key = keys::random_expiry(limit);
        let old = parent.get(&key)?;
        if let Some(old) = &old {
            list = [old.as_slice(), &list].concat();
        }
        replaced.insert(key.clone(), old);
        writes.insert(key, Some(list));
    }
    if let Some(expired_at) = block.height.checked_sub(1) {
        let key = keys::random_expiry(expired_at);
        if let Some(list) = parent.get(&key)? {
            for record in list.chunks_exact(keys::RANDOM_ID_RECORD) {
                let k = [b"r".as_slice(), record].concat();
                // A record listed under blockLimit `expired_at` holds that blockLimit.
                replaced.insert(k.clone(), Some(expired_at.to_be_bytes().to_vec()));
                writes.insert(k, None);
            }
            writes.insert(key.clone(), None);
            replaced.insert(key, Some(list));
        }
    }
    let consensus_key = keys::account(&crate::system::CONSENSUS);
    let touched =
        writes.keys().any(|k| k.len() > 21 && k[0] == b's' && k[1..21] == consensus_key[1..]);
    let next_sealers = if touched {
        let before = crate::system::sealers(parent)?;
        let after = crate::system::sealers(&Overlay { base: parent, writes: &writes })?;
        (after != before).then_some(after)
    } else {
        None
    };
    let prior = writes
        .keys()
        .map(|k| prior_value(k, &bundle, &replaced, parent))
        .collect::<Result<Vec<_>, _>>()?;
    let write_set: Vec<(Vec<u8>, Option<Vec<u8>>)> = writes.into_iter().collect();
    let state_root = state_root(cfg.suite, block.parent_state_root, &write_set);
    let digested = sink.finish()?;
    Ok(BlockOutcome {
        receipts: digested.receipts,
        write_set,
        state_root,
        receipt_root: digested.root,
        gas_used: cumulative,
        logs_bloom: digested.bloom,
        next_sealers,
        prior,
    })
}

/// The value a written key held in the parent state, taken from what execution already
/// loaded; read from the parent only for a key execution did not track.
fn prior_value(
    key: &[u8],
    bundle: &revm::database::BundleState,
    replaced: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    parent: &dyn StateView,
) -> Result<Option<Vec<u8>>, StateError> {
    if let Some(v) = replaced.get(key) {
        return Ok(v.clone());
    }
    let account = |k: &[u8]| bundle.state.get(&Address::from_slice(&k[1..21]));
    match (key.first(), key.len()) {
        // Code is keyed by its hash and never changes: the ledger keeps no history of it.
        (Some(b'c'), _) => Ok(None),
        (Some(b'a'), 21) => match account(key) {
            Some(acc) => Ok(acc.original_info.as_ref().map(|i| {
                AccountRecord { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash }
                    .encode_to_vec()
            })),
            None => parent.get(key),
        },
        (Some(b's'), 53) => {
            let slot = U256::from_be_slice(&key[21..]);
            match account(key).and_then(|acc| acc.storage.get(&slot)) {
                Some(s) => {
                    let v = s.original_value();
                    Ok((!v.is_zero()).then(|| v.to_be_bytes::<32>().to_vec()))
                }
                None => parent.get(key),
            }
        }
        // A new randomid record: admission checked it was absent.
        (Some(b'r'), 53) => Ok(None),
        _ => parent.get(key),
    }
}

pub(crate) fn db_error(
    e: revm::database_interface::bal::EvmDatabaseError<StateError>,
) -> ExecError {
    match e {
        revm::database_interface::bal::EvmDatabaseError::Database(e) => ExecError::State(e),
        other => ExecError::Evm(format!("{other:?}")),
    }
}

pub(crate) fn tx_error(e: &InvalidTransaction) -> String {
    match e {
        InvalidTransaction::NonceTooHigh { tx, state }
        | InvalidTransaction::NonceTooLow { tx, state } => {
            format!("nonce {tx} but the account's next nonce is {state}")
        }
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => {
            format!("value {fee} exceeds the balance {balance}")
        }
        other => other.to_string(),
    }
}

/// `H(parent_root ‖ H(rlp(write set)))`: each entry is its key, then 1 and the value or 0
/// for a deletion, RLP-encoded, in key order.
pub fn state_root(
    suite: CryptoSuite,
    parent_root: B256,
    write_set: &[(Vec<u8>, Option<Vec<u8>>)],
) -> B256 {
    let mut encoded = Vec::new();
    for (k, v) in write_set {
        k.as_slice().encode(&mut encoded);
        match v {
            Some(v) => {
                1u8.encode(&mut encoded);
                v.as_slice().encode(&mut encoded);
            }
            None => 0u8.encode(&mut encoded),
        }
    }
    suite.hash_parts(&[parent_root.as_slice(), suite.hash(&encoded).as_slice()])
}
