//! The Ethereum namespace and `net_`, `web3_`, `txpool_`.

use crate::backend::{PoolQuery, SubmitError};
use crate::filters::LogFilter;
use crate::format::{Position, addr, block_json, data, h256, qty, qty256, receipt_json, tx_json};
use crate::params::{
    Args, BlockId, address_of, b256_of, block_id_of, bool_of, bytes_of, err, invalid, u64_of,
    u256_of,
};
use crate::{Group, Rpc};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use jinlian_executor::state::keys;
use jinlian_executor::{
    AccountOverride, AccountRecord, BlockContext, CallRequest, EstimateError, StateError, StateView,
};
use jinlian_primitives::{Block, Height, RecoveredTx, Transaction};
use jinlian_storage::{KvStore, LedgerView, RedbStore};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};

pub(crate) type RpcResult = Result<Value, ErrorObjectOwned>;
/// A consistent snapshot of a group's ledger.
pub(crate) type View = LedgerView<<RedbStore as KvStore>::Snapshot>;

/// The client version string.
pub const CLIENT_VERSION: &str = concat!("jinlian/v", env!("CARGO_PKG_VERSION"), "/rust");

/// A local failure (storage): JSON-RPC internal error.
pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(-32603, e.to_string())
}

/// The state of a snapshot, for the executor: the head's, or (`Some`) that after an earlier
/// block still in the kept window.
pub(crate) struct Snapshot<'a>(pub &'a View, pub Option<Height>);

impl StateView for Snapshot<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.1 {
            None => self.0.state(key),
            Some(h) => self.0.state_at(key, h),
        }
        .map_err(|e| StateError(e.to_string()))
    }

    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError> {
        let h = self.0.header(Height(height)).map_err(|e| StateError(e.to_string()))?;
        Ok(h.map(|h| h.hash(self.0.suite())))
    }
}

pub(crate) fn view(g: &Group) -> Result<View, ErrorObjectOwned> {
    g.ledger.view().map_err(internal)
}

pub(crate) fn head(v: &View) -> Result<u64, ErrorObjectOwned> {
    Ok(v.head().map_err(internal)?.map_or(0, |h| h.height.0))
}

/// The height a block id names, if that block exists.
pub(crate) fn resolve(v: &View, id: BlockId) -> Result<Option<u64>, ErrorObjectOwned> {
    let head = head(v)?;
    Ok(match id {
        BlockId::Latest => Some(head),
        BlockId::Number(n) => (n <= head).then_some(n),
        BlockId::Hash(h) => v.height_of(&h).map_err(internal)?.map(|h| h.0),
    })
}

/// The state after the block `id` names: the head's, or an earlier one the ledger still keeps
/// (its `state_history_blocks` window).
fn state_of(v: &View, id: BlockId) -> Result<(u64, Snapshot<'_>), ErrorObjectOwned> {
    let head = head(v)?;
    match resolve(v, id)? {
        Some(h) if h == head => Ok((head, Snapshot(v, None))),
        Some(h) => {
            let oldest = v.history_base().map_err(internal)?.0;
            if h < oldest {
                return Err(err(
                    -32000,
                    format!(
                        "the state of block {h} is not kept: this node keeps the state of \
                         blocks {oldest} to {head} (storage.state_history_blocks)"
                    ),
                ));
            }
            Ok((h, Snapshot(v, Some(Height(h)))))
        }
        None => Err(err(-32000, format!("header not found: the chain's head is block {head}"))),
    }
}

fn account(s: &Snapshot<'_>, a: &Address) -> Result<AccountRecord, ErrorObjectOwned> {
    match s.get(&keys::account(a)).map_err(internal)? {
        Some(b) => AccountRecord::decode_bytes(&b).map_err(internal),
        None => Ok(AccountRecord::default()),
    }
}

fn code(s: &Snapshot<'_>, a: &Address) -> Result<Vec<u8>, ErrorObjectOwned> {
    let acc = account(s, a)?;
    if acc.code_hash.is_zero() {
        return Ok(Vec::new());
    }
    Ok(s.get(&keys::code(&acc.code_hash)).map_err(internal)?.unwrap_or_default())
}

/// Registers a method that reads the ledger (runs on a blocking thread).
fn blocking(
    m: &mut RpcModule<Rpc>,
    name: &'static str,
    f: fn(&Rpc, &Group, Args) -> RpcResult,
) -> Result<(), RegisterMethodError> {
    m.register_blocking_method(name, move |p, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let args = Args::new(name, &p)?;
        f(&rpc, &g, args)
    })?;
    Ok(())
}

/// Registers a method with a constant or cheap answer.
fn simple(
    m: &mut RpcModule<Rpc>,
    name: &'static str,
    f: fn(&Group, Args) -> RpcResult,
) -> Result<(), RegisterMethodError> {
    m.register_method(name, move |p, rpc, ext| {
        let g = rpc.group(ext)?;
        let args = Args::new(name, &p)?;
        f(&g, args)
    })?;
    Ok(())
}

pub(crate) fn register(m: &mut RpcModule<Rpc>) -> Result<(), RegisterMethodError> {
    simple(m, "eth_chainId", |g, _| Ok(qty(g.exec.chain_id).into()))?;
    simple(m, "net_version", |g, _| Ok(g.exec.chain_id.to_string().into()))?;
    simple(m, "net_listening", |_, _| Ok(true.into()))?;
    simple(m, "net_peerCount", |g, _| Ok(qty(g.backend.status().peers.len() as u64).into()))?;
    simple(m, "web3_clientVersion", |_, _| Ok(CLIENT_VERSION.into()))?;
    simple(m, "web3_sha3", |_, a| {
        let d = bytes_of(a.get(0, "data")?, "data")?;
        Ok(h256(&keccak256(&d)).into())
    })?;
    simple(m, "eth_gasPrice", |_, _| Ok("0x0".into()))?;
    simple(m, "eth_maxPriorityFeePerGas", |_, _| Ok("0x0".into()))?;
    simple(m, "eth_blobBaseFee", |_, _| Ok("0x0".into()))?;
    simple(m, "eth_accounts", |_, _| Ok(json!([])))?;
    simple(m, "eth_coinbase", |_, _| Ok(addr(&Address::ZERO).into()))?;
    simple(m, "eth_mining", |_, _| Ok(false.into()))?;
    simple(m, "eth_hashrate", |_, _| Ok("0x0".into()))?;
    simple(m, "eth_protocolVersion", |_, _| Ok("0x41".into()))?;
    simple(m, "eth_syncing", |g, _| {
        let s = g.backend.status();
        Ok(match s.sync_start {
            Some(start) => {
                let current = g.ledger.head().map_err(internal)?.map_or(0, |h| h.height.0);
                json!({
                    "startingBlock": qty(start),
                    "currentBlock": qty(current),
                    "highestBlock": qty(s.highest_known.max(current)),
                })
            }
            None => false.into(),
        })
    })?;
    m.register_async_method("txpool_status", |_p, rpc, ext| async move {
        let g = rpc.group(&ext)?.clone();
        let ans = g.backend.pool(PoolQuery::default()).await;
        let size = g.backend.status().pool_size;
        Ok::<Value, ErrorObjectOwned>(json!({
            "pending": qty(size.saturating_sub(ans.queued_count) as u64),
            "queued": qty(ans.queued_count as u64),
        }))
    })?;
    for name in ["eth_sendTransaction", "eth_sign", "eth_signTransaction", "eth_signTypedData_v4"] {
        simple(m, name, |_, _| {
            Err(err(
                -32601,
                "this node holds no keys: sign locally and send with eth_sendRawTransaction",
            ))
        })?;
    }
    blocking(m, "eth_blockNumber", |_, g, _| Ok(qty(head(&view(g)?)?).into()))?;
    blocking(m, "eth_getBalance", |_, g, a| {
        let who = address_of(a.get(0, "address")?, "address")?;
        let v = view(g)?;
        let (_, state) = state_of(&v, block_id_of(a.opt(1))?)?;
        Ok(qty256(account(&state, &who)?.balance).into())
    })?;
    blocking(m, "eth_getCode", |_, g, a| {
        let who = address_of(a.get(0, "address")?, "address")?;
        let v = view(g)?;
        let (_, state) = state_of(&v, block_id_of(a.opt(1))?)?;
        Ok(data(&code(&state, &who)?).into())
    })?;
    blocking(m, "eth_getStorageAt", |_, g, a| {
        let who = address_of(a.get(0, "address")?, "address")?;
        let slot = u256_of(a.get(1, "slot")?, "slot")?;
        let v = view(g)?;
        let (_, state) = state_of(&v, block_id_of(a.opt(2))?)?;
        let word = state.get(&keys::storage(&who, &slot)).map_err(internal)?;
        let value = word.map_or(U256::ZERO, |w| U256::from_be_slice(&w));
        Ok(h256(&B256::from(value)).into())
    })?;
    blocking(m, "eth_call", |_, g, a| eth_call(g, &a))?;
    blocking(m, "eth_estimateGas", |_, g, a| estimate_gas(g, &a))?;
    blocking(m, "eth_getBlockByNumber", |_, g, a| {
        let full = bool_of(a.opt(1), "the full-transactions flag")?;
        block_by(g, block_id_of(Some(a.get(0, "block")?))?, full)
    })?;
    blocking(m, "eth_getBlockByHash", |_, g, a| {
        let full = bool_of(a.opt(1), "the full-transactions flag")?;
        block_by(g, BlockId::Hash(b256_of(a.get(0, "block hash")?, "block hash")?), full)
    })?;
    blocking(m, "eth_getBlockTransactionCountByNumber", |_, g, a| {
        tx_count(g, block_id_of(Some(a.get(0, "block")?))?)
    })?;
    blocking(m, "eth_getBlockTransactionCountByHash", |_, g, a| {
        tx_count(g, BlockId::Hash(b256_of(a.get(0, "block hash")?, "block hash")?))
    })?;
    blocking(m, "eth_getUncleCountByBlockNumber", |_, g, a| {
        uncle_count(g, block_id_of(Some(a.get(0, "block")?))?)
    })?;
    blocking(m, "eth_getUncleCountByBlockHash", |_, g, a| {
        uncle_count(g, BlockId::Hash(b256_of(a.get(0, "block hash")?, "block hash")?))
    })?;
    simple(m, "eth_getUncleByBlockNumberAndIndex", |_, _| Ok(Value::Null))?;
    simple(m, "eth_getUncleByBlockHashAndIndex", |_, _| Ok(Value::Null))?;
    blocking(m, "eth_getTransactionByBlockNumberAndIndex", |_, g, a| {
        let id = block_id_of(Some(a.get(0, "block")?))?;
        tx_by_block(g, id, u64_of(a.get(1, "index")?, "index")?)
    })?;
    blocking(m, "eth_getTransactionByBlockHashAndIndex", |_, g, a| {
        let id = BlockId::Hash(b256_of(a.get(0, "block hash")?, "block hash")?);
        tx_by_block(g, id, u64_of(a.get(1, "index")?, "index")?)
    })?;
    blocking(m, "eth_getTransactionReceipt", |_, g, a| {
        receipt(g, &b256_of(a.get(0, "transaction hash")?, "transaction hash")?)
    })?;
    blocking(m, "eth_getBlockReceipts", |_, g, a| {
        block_receipts(g, block_id_of(Some(a.get(0, "block")?))?)
    })?;
    blocking(m, "eth_getLogs", |rpc, g, a| {
        let f = LogFilter::parse(a.get(0, "filter")?)?;
        let v = view(g)?;
        Ok(Value::Array(f.logs(g, &v, rpc.cfg.max_log_range, rpc.cfg.max_logs)?))
    })?;
    blocking(m, "eth_feeHistory", |_, g, a| fee_history(g, &a))?;
    blocking(m, "debug_traceCall", |_, g, a| trace_call(g, &a))?;
    blocking(m, "debug_traceTransaction", |_, g, a| trace_transaction(g, &a))?;
    m.register_async_method("eth_sendRawTransaction", |p, rpc, ext| async move {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("eth_sendRawTransaction", &p)?;
        let raw = bytes_of(a.get(0, "signed transaction")?, "signed transaction")?;
        send_raw(&g, &raw).await
    })?;
    m.register_async_method("eth_getTransactionCount", |p, rpc, ext| async move {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("eth_getTransactionCount", &p)?;
        let who = address_of(a.get(0, "address")?, "address")?;
        let pending = a.opt(1).and_then(Value::as_str) == Some("pending");
        let nonce = {
            let v = view(&g)?;
            let (_, state) = state_of(&v, block_id_of(a.opt(1))?)?;
            account(&state, &who)?.nonce
        };
        if !pending {
            return Ok::<Value, ErrorObjectOwned>(qty(nonce).into());
        }
        let q = PoolQuery { nonce_of: Some((who, nonce)), ..PoolQuery::default() };
        let ans = g.backend.pool(q).await;
        Ok(qty(ans.next_nonce.unwrap_or(nonce).max(nonce)).into())
    })?;
    m.register_async_method("eth_getTransactionByHash", |p, rpc, ext| async move {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("eth_getTransactionByHash", &p)?;
        let hash = b256_of(a.get(0, "transaction hash")?, "transaction hash")?;
        if let Some(found) = committed_tx(&g, &hash)? {
            return Ok::<Value, ErrorObjectOwned>(found);
        }
        let ans = g.backend.pool(PoolQuery { tx: Some(hash), ..PoolQuery::default() }).await;
        if let Some(t) = ans.tx {
            return Ok(tx_json(&t, None, g.exec.suite));
        }
        // Committed while the pool was asked.
        Ok(committed_tx(&g, &hash)?.unwrap_or(Value::Null))
    })?;
    m.register_async_method("txpool_content", |_p, rpc, ext| async move {
        let g = rpc.group(&ext)?.clone();
        let ans = g.backend.pool(PoolQuery { list: 1_000, ..PoolQuery::default() }).await;
        let by_sender = |txs: &[RecoveredTx]| {
            let mut out = serde_json::Map::new();
            for t in txs {
                let entry = out
                    .entry(addr(&t.sender))
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(m) = entry {
                    let key = t.tx.nonce().map_or_else(|| h256(&t.tx.hash()), |n| n.to_string());
                    m.insert(key, tx_json(t, None, g.exec.suite));
                }
            }
            Value::Object(out)
        };
        Ok::<Value, ErrorObjectOwned>(
            json!({ "pending": by_sender(&ans.pending), "queued": by_sender(&ans.queued) }),
        )
    })?;
    Ok(())
}

fn committed_tx(g: &Group, hash: &B256) -> Result<Option<Value>, ErrorObjectOwned> {
    let v = view(g)?;
    let Some((t, loc)) = v.transaction(hash).map_err(internal)? else { return Ok(None) };
    let header =
        v.header(loc.height).map_err(internal)?.ok_or_else(|| internal("header missing"))?;
    let at = Position {
        block_hash: header.hash(g.exec.suite),
        height: loc.height.0,
        index: u64::from(loc.index),
    };
    Ok(Some(tx_json(&t, Some(at), g.exec.suite)))
}

/// Decodes, checks the signature of and submits a raw transaction.
pub(crate) async fn send_raw(g: &Group, raw: &[u8]) -> RpcResult {
    let suite = g.exec.suite;
    let tx = Transaction::decode(raw, suite)
        .map_err(|e| invalid(format!("malformed transaction: {e}")))?;
    let tx = tx.into_recovered(suite).map_err(|e| invalid(format!("bad signature: {e}")))?;
    match g.backend.submit(tx).await {
        Ok(hash) => Ok(h256(&hash).into()),
        Err(SubmitError::Refused(why)) => Err(err(-32000, why)),
        Err(SubmitError::Busy(why)) => Err(err(-32005, why)),
    }
}

fn load_block(v: &View, id: BlockId) -> Result<Option<Block>, ErrorObjectOwned> {
    match resolve(v, id)? {
        Some(h) => v.block(Height(h)).map_err(internal),
        None => Ok(None),
    }
}

fn block_by(g: &Group, id: BlockId, full: bool) -> RpcResult {
    let v = view(g)?;
    let Some(block) = load_block(&v, id)? else { return Ok(Value::Null) };
    let txs = block.transactions(g.exec.suite).map_err(internal)?;
    Ok(block_json(&block, &txs, full, g.exec.suite))
}

fn tx_count(g: &Group, id: BlockId) -> RpcResult {
    let v = view(g)?;
    match resolve(&v, id)? {
        Some(h) => Ok(qty(v.block_txs(Height(h)).map_err(internal)?.len() as u64).into()),
        None => Ok(Value::Null),
    }
}

fn uncle_count(g: &Group, id: BlockId) -> RpcResult {
    let v = view(g)?;
    Ok(resolve(&v, id)?.map_or(Value::Null, |_| "0x0".into()))
}

fn tx_by_block(g: &Group, id: BlockId, index: u64) -> RpcResult {
    let v = view(g)?;
    let Some(block) = load_block(&v, id)? else { return Ok(Value::Null) };
    let Some(bt) = usize::try_from(index).ok().and_then(|i| block.txs.get(i)) else {
        return Ok(Value::Null);
    };
    let tx = Transaction::decode(&bt.raw, g.exec.suite).map_err(internal)?;
    let t = RecoveredTx { tx, sender: bt.sender };
    let at =
        Position { block_hash: block.hash(g.exec.suite), height: block.header.height.0, index };
    Ok(tx_json(&t, Some(at), g.exec.suite))
}

/// A committed transaction's receipt, the transaction, where it is, and the block-wide index
/// of its first log.
pub(crate) type Located = (jinlian_primitives::Receipt, RecoveredTx, Position, u64);

pub(crate) fn locate_receipt(
    g: &Group,
    v: &View,
    hash: &B256,
) -> Result<Option<Located>, ErrorObjectOwned> {
    let Some((r, loc)) = v.receipt(hash).map_err(internal)? else { return Ok(None) };
    let t = v.tx_at(loc).map_err(internal)?.ok_or_else(|| internal("transaction missing"))?;
    let header =
        v.header(loc.height).map_err(internal)?.ok_or_else(|| internal("header missing"))?;
    let first_log = v.first_log_index(loc).map_err(internal)?;
    let at = Position {
        block_hash: header.hash(g.exec.suite),
        height: loc.height.0,
        index: u64::from(loc.index),
    };
    Ok(Some((r, t, at, first_log)))
}

fn receipt(g: &Group, hash: &B256) -> RpcResult {
    let v = view(g)?;
    Ok(locate_receipt(g, &v, hash)?
        .map_or(Value::Null, |(r, t, at, first_log)| receipt_json(&r, &t, at, first_log)))
}

fn block_receipts(g: &Group, id: BlockId) -> RpcResult {
    let v = view(g)?;
    let Some(block) = load_block(&v, id)? else { return Ok(Value::Null) };
    let receipts = v.block_receipts(block.header.height).map_err(internal)?;
    let txs = block.transactions(g.exec.suite).map_err(internal)?;
    let hash = block.hash(g.exec.suite);
    let mut first_log = 0;
    let mut out = Vec::with_capacity(receipts.len());
    for (i, (r, t)) in receipts.iter().zip(&txs).enumerate() {
        let at = Position { block_hash: hash, height: block.header.height.0, index: i as u64 };
        out.push(receipt_json(r, t, at, first_log));
        first_log += r.logs.len() as u64;
    }
    Ok(Value::Array(out))
}

fn fee_history(g: &Group, a: &Args) -> RpcResult {
    let count = u64_of(a.get(0, "block count")?, "block count")?.min(1024);
    let v = view(g)?;
    let newest = resolve(&v, block_id_of(Some(a.get(1, "newest block")?))?)?
        .ok_or_else(|| invalid("the newest block does not exist"))?;
    let percentiles: Option<Vec<f64>> = match a.opt(2) {
        None => None,
        Some(p) => Some(
            serde_json::from_value(p.clone())
                .map_err(|_| invalid("reward percentiles must be a list of numbers"))?,
        ),
    };
    let oldest = newest.saturating_add(1).saturating_sub(count);
    let mut ratios = Vec::new();
    for h in oldest..=newest {
        let header = v.header(Height(h)).map_err(internal)?;
        ratios.push(header.map_or(0.0, |h| {
            if h.gas_limit == 0 { 0.0 } else { h.gas_used as f64 / h.gas_limit as f64 }
        }));
    }
    let n = ratios.len();
    let mut out = json!({
        "oldestBlock": qty(oldest),
        "baseFeePerGas": vec!["0x0"; n + 1],
        "gasUsedRatio": ratios,
    });
    if let Some(p) = percentiles {
        out["reward"] = json!(vec![vec!["0x0"; p.len()]; n]);
    }
    Ok(out)
}

/// A call object (`eth_call`, `eth_estimateGas`) with optional geth-style overrides.
fn call_request(c: &Value, overrides: Option<&Value>) -> Result<CallRequest, ErrorObjectOwned> {
    let o = c.as_object().ok_or_else(|| invalid("the call must be an object"))?;
    let field = |k: &str| o.get(k).filter(|v| !v.is_null());
    let from = field("from").map(|v| address_of(v, "from")).transpose()?;
    let to = match field("to") {
        Some(v) => TxKind::Call(address_of(v, "to")?),
        None => TxKind::Create,
    };
    let gas = field("gas").map(|v| u64_of(v, "gas")).transpose()?;
    let value = field("value").map(|v| u256_of(v, "value")).transpose()?.unwrap_or_default();
    let input = match (field("input"), field("data")) {
        (Some(i), Some(d)) if i != d => {
            return Err(invalid("input and data are both set and differ"));
        }
        (Some(i), _) => bytes_of(i, "input")?,
        (None, Some(d)) => bytes_of(d, "data")?,
        (None, None) => Bytes::new(),
    };
    let mut req = CallRequest { from, to, gas, value, data: input, overrides: Vec::new() };
    if let Some(ov) = overrides {
        let ov = ov.as_object().ok_or_else(|| invalid("state overrides must be an object"))?;
        if ov.len() > 256 {
            return Err(invalid("at most 256 accounts may be overridden"));
        }
        for (k, v) in ov {
            let who = address_of(&Value::String(k.clone()), "override address")?;
            let f =
                v.as_object().ok_or_else(|| invalid("an account override must be an object"))?;
            let slots = |key: &str| -> Result<Option<Vec<(U256, U256)>>, ErrorObjectOwned> {
                let Some(m) = f.get(key) else { return Ok(None) };
                let m = m.as_object().ok_or_else(|| invalid(format!("{key} must be an object")))?;
                if m.len() > 10_000 {
                    return Err(invalid(format!("{key}: at most 10,000 slots")));
                }
                m.iter()
                    .map(|(s, val)| {
                        Ok((u256_of(&Value::String(s.clone()), "slot")?, u256_of(val, "value")?))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            };
            let o = AccountOverride {
                balance: f.get("balance").map(|v| u256_of(v, "balance")).transpose()?,
                nonce: f.get("nonce").map(|v| u64_of(v, "nonce")).transpose()?,
                code: f.get("code").map(|v| bytes_of(v, "code")).transpose()?,
                state: slots("state")?,
                state_diff: slots("stateDiff")?.unwrap_or_default(),
            };
            req.overrides.push((who, o));
        }
    }
    Ok(req)
}

/// The block a call on the state after `height` runs in: the next one, timed as it was
/// committed if it exists, else now.
fn call_block(g: &Group, v: &View, height: u64) -> Result<BlockContext, ErrorObjectOwned> {
    let header =
        v.header(Height(height)).map_err(internal)?.ok_or_else(|| internal("block missing"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let next = v.header(Height(height + 1)).map_err(internal)?;
    Ok(BlockContext {
        height: height + 1,
        timestamp_ms: next.map_or(now.max(header.timestamp_ms), |n| n.timestamp_ms),
        gas_limit: g.block_gas_limit,
        coinbase: Address::ZERO,
        parent_state_root: header.state_root,
    })
}

/// A revert as clients expect it: code 3, the reason in the message, the data as `data`.
fn revert_error(output: &[u8]) -> ErrorObjectOwned {
    let msg = match alloy_sol_types::decode_revert_reason(output) {
        Some(r) => format!("execution reverted: {}", r.strip_prefix("revert: ").unwrap_or(&r)),
        None => "execution reverted".to_string(),
    };
    ErrorObjectOwned::owned(3, msg, Some(data(output)))
}

fn eth_call(g: &Group, a: &Args) -> RpcResult {
    let req = call_request(a.get(0, "call")?, a.opt(2))?;
    let v = view(g)?;
    let (height, state) = state_of(&v, block_id_of(a.opt(1))?)?;
    let block = call_block(g, &v, height)?;
    let out = jinlian_executor::call(&g.exec, &state, &block, &req)
        .map_err(|e| err(-32000, e.to_string()))?;
    if out.is_success() {
        return Ok(data(&out.output).into());
    }
    if out.status == jinlian_primitives::status::REVERT_INSTRUCTION {
        return Err(revert_error(&out.output));
    }
    Err(err(-32000, format!("execution failed: {}", jinlian_primitives::status::name(out.status))))
}

/// A call frame as geth's `callTracer` prints it.
fn frame_json(f: &jinlian_executor::CallFrame) -> Value {
    let mut v = json!({
        "type": f.kind,
        "from": addr(&f.from),
        "to": f.to.as_ref().map(addr),
        "value": qty256(f.value),
        "gas": qty(f.gas),
        "gasUsed": qty(f.gas_used),
        "input": data(&f.input),
        "output": data(&f.output),
    });
    if let Some(e) = &f.error {
        v["error"] = e.clone().into();
        if let Some(r) = alloy_sol_types::decode_revert_reason(&f.output) {
            v["revertReason"] = r.strip_prefix("revert: ").unwrap_or(&r).into();
        }
    }
    if !f.calls.is_empty() {
        v["calls"] = Value::Array(f.calls.iter().map(frame_json).collect());
    }
    v
}

/// Checks the tracer options: only geth's `callTracer` is offered.
fn call_tracer(opts: Option<&Value>) -> Result<(), ErrorObjectOwned> {
    let tracer = opts.and_then(|o| o.get("tracer")).and_then(Value::as_str);
    if tracer != Some("callTracer") {
        return Err(invalid("only {\"tracer\": \"callTracer\"} is offered"));
    }
    Ok(())
}

/// `debug_traceCall(call, block, {tracer: "callTracer"})`.
fn trace_call(g: &Group, a: &Args) -> RpcResult {
    let opts = a.opt(2);
    call_tracer(opts)?;
    let overrides = opts.and_then(|o| o.get("stateOverrides"));
    let req = call_request(a.get(0, "call")?, overrides)?;
    let v = view(g)?;
    let (height, state) = state_of(&v, block_id_of(a.opt(1))?)?;
    let block = call_block(g, &v, height)?;
    let (_, root) = jinlian_executor::trace_call(&g.exec, &state, &block, &req)
        .map_err(|e| err(-32000, e.to_string()))?;
    Ok(frame_json(&root))
}

/// `debug_traceTransaction(hash, {tracer: "callTracer"})`: re-executes the transaction's block
/// up to it, on the state before the block (which must still be kept).
fn trace_transaction(g: &Group, a: &Args) -> RpcResult {
    let hash = b256_of(a.get(0, "transaction hash")?, "transaction hash")?;
    call_tracer(a.opt(1))?;
    let v = view(g)?;
    let Some(loc) = v.tx_location(&hash).map_err(internal)? else {
        return Err(err(-32000, format!("transaction {hash} is not in a committed block")));
    };
    let height = loc.height;
    let parent = height.0.checked_sub(1).ok_or_else(|| internal("a transaction in block 0"))?;
    let (_, state) = state_of(&v, BlockId::Number(parent))?;
    let block = v.block(height).map_err(internal)?.ok_or_else(|| internal("block missing"))?;
    let txs = block.transactions(g.exec.suite).map_err(internal)?;
    let (receipt, _) =
        v.receipt(&hash).map_err(internal)?.ok_or_else(|| internal("receipt missing"))?;
    let sealers = jinlian_executor::system::sealers(&state).map_err(internal)?;
    let header = &block.header;
    let proposer = sealers.get(header.proposer as usize).ok_or_else(|| {
        internal(format!("proposer {} of block {height} unknown", header.proposer))
    })?;
    let parent_root = v
        .header(Height(parent))
        .map_err(internal)?
        .ok_or_else(|| internal("parent block missing"))?
        .state_root;
    let ctx = BlockContext {
        height: height.0,
        timestamp_ms: header.timestamp_ms,
        gas_limit: header.gas_limit,
        coinbase: g.exec.suite.address_of(&jinlian_crypto::PublicKey(*proposer)),
        parent_state_root: parent_root,
    };
    let root = jinlian_executor::trace_transaction(&g.exec, &state, &ctx, &txs, loc.index as usize)
        .map_err(|e| err(-32000, e.to_string()))?;
    // The replay must reproduce the committed execution; if it does not, say so.
    if root.gas_used != receipt.gas_used {
        return Err(internal(format!(
            "re-executing {hash} used {} gas, its receipt says {}",
            root.gas_used, receipt.gas_used
        )));
    }
    Ok(frame_json(&root))
}

fn estimate_gas(g: &Group, a: &Args) -> RpcResult {
    let req = call_request(a.get(0, "call")?, a.opt(2))?;
    let v = view(g)?;
    let (height, state) = state_of(&v, block_id_of(a.opt(1))?)?;
    let block = call_block(g, &v, height)?;
    match jinlian_executor::estimate_gas(&g.exec, &state, &block, &req) {
        Ok(gas) => Ok(qty(gas).into()),
        Err(EstimateError::Fails(out))
            if out.status == jinlian_primitives::status::REVERT_INSTRUCTION =>
        {
            Err(revert_error(&out.output))
        }
        Err(EstimateError::Fails(out)) => Err(err(
            -32000,
            format!(
                "gas required exceeds allowance or always failing transaction: {}",
                jinlian_primitives::status::name(out.status)
            ),
        )),
        Err(EstimateError::Exec(e)) => Err(err(-32000, e.to_string())),
    }
}
