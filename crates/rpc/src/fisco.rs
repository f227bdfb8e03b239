//! FISCO BCOS 2.x methods (`groupId` first, numbers as `0x` hex strings, FISCO status codes
//! in receipts and calls), so FISCO's SDKs and consoles work against a Jinlian node, and the
//! `jinlian_` methods: node information and transaction proofs a third party can check
//! offline.

use crate::eth::{RpcResult, Snapshot, View, head, internal, locate_receipt, send_raw, view};
use crate::format::{Position, addr, data, h256, qty, qty256, receipt_logs};
use crate::params::{Args, address_of, b256_of, bool_of, bytes_of, err, invalid, u64_of};
use crate::{Group, Rpc};
use alloy_primitives::{Address, B256, TxKind, U256};
use jinlian_crypto::PublicKey;
use jinlian_executor::system::{NodeRole, consensus_nodes, read_config, sealers};
use jinlian_executor::{BlockContext, CallRequest};
use jinlian_primitives::{
    Block, Height, Receipt, RecoveredTx, Transaction, TxBody, TxSignature, merkle_proof,
    tx_item_hash,
};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};
use std::sync::Arc;

/// FISCO: the block does not exist.
const BLOCK_NOT_FOUND: i32 = -40004;
/// FISCO: a call needs `from`... and other call errors.
const CALL_ERROR: i32 = -40006;
/// FISCO: an invalid system configuration key.
const INVALID_CONFIG_KEY: i32 = -40008;

fn node_hex(id: &[u8; 64]) -> String {
    alloy_primitives::hex::encode(id)
}

/// The group named by the first parameter (an integer, a decimal or a hex string).
fn group_of(rpc: &Rpc, a: &Args) -> Result<Arc<Group>, ErrorObjectOwned> {
    rpc.group_by_id(group_number(a.get(0, "groupId")?)?)
}

/// A FISCO block number: decimal or `0x` hex, as a number or a string.
fn number_of(v: &Value) -> Result<u64, ErrorObjectOwned> {
    match v {
        Value::String(s) if !s.starts_with("0x") => {
            s.parse().map_err(|_| invalid(format!("block number {s:?} is not a number")))
        }
        _ => u64_of(v, "block number"),
    }
}

fn members(v: &View) -> Result<Vec<([u8; 64], NodeRole)>, ErrorObjectOwned> {
    consensus_nodes(&Snapshot(v, None)).map_err(internal)
}

fn fisco_tx(g: &Group, t: &RecoveredTx, at: Option<(B256, u64, u64)>) -> Value {
    let tx = &t.tx;
    let (random_id, block_limit, group_id, extra, gas_price) = match tx.body() {
        TxBody::Consortium(c) => (
            qty256(c.random_id),
            qty(c.block_limit),
            qty(c.group_id),
            data(&c.extra_data),
            qty256(c.gas_price),
        ),
        _ => (
            qty(tx.nonce().unwrap_or(0)),
            "0x0".into(),
            qty(u64::from(g.id)),
            "0x".into(),
            "0x0".into(),
        ),
    };
    let signature = match tx.signature() {
        TxSignature::Eth(s) => json!({
            "r": qty256(s.r), "s": qty256(s.s), "v": qty(u64::from(s.y_parity)),
        }),
        TxSignature::Consortium { v, r, s } => {
            let v_out = match g.exec.suite {
                // FISCO reports the recovery id (0/1) rather than 27/28.
                jinlian_crypto::CryptoSuite::Ecdsa => {
                    qty(v.first().map_or(0, |b| u64::from(b.saturating_sub(27))))
                }
                jinlian_crypto::CryptoSuite::Sm => data(v),
            };
            json!({ "r": data(r), "s": data(s), "v": v_out, "signature": data(&[&r[..], &s[..], &v[..]].concat()) })
        }
    };
    json!({
        "blockHash": at.map(|a| h256(&a.0)),
        "blockNumber": at.map(|a| qty(a.1)),
        "transactionIndex": at.map(|a| qty(a.2)),
        "blockLimit": block_limit,
        "chainId": tx.chain_id().map(qty),
        "extraData": extra,
        "from": addr(&t.sender),
        "gas": qty(tx.gas_limit()),
        "gasPrice": gas_price,
        "groupId": group_id,
        "hash": h256(&tx.hash()),
        "input": data(tx.input()),
        "nonce": random_id,
        "signature": signature,
        "to": match tx.to() { TxKind::Call(a) => Value::from(addr(&a)), TxKind::Create => Value::Null },
        "value": qty256(tx.value()),
    })
}

fn fisco_receipt(r: &Receipt, t: &RecoveredTx, at: Position, first_log: u64) -> Value {
    let hash = t.tx.hash();
    let logs = receipt_logs(r, &hash, at, first_log);
    let (block_hash, height, index) = (at.block_hash, at.height, at.index);
    json!({
        "blockHash": h256(&block_hash),
        "blockNumber": qty(height),
        "contractAddress": addr(&r.contract_address.unwrap_or(Address::ZERO)),
        "from": addr(&t.sender),
        "gasUsed": qty(r.gas_used),
        "input": data(t.tx.input()),
        "logs": logs,
        "logsBloom": format!("{:#x}", r.logs_bloom()),
        "output": data(&r.output),
        "status": qty(u64::from(r.status)),
        "message": jinlian_primitives::status::name(r.status),
        "to": match t.tx.to() { TxKind::Call(a) => Value::from(addr(&a)), TxKind::Create => Value::Null },
        "transactionHash": h256(&hash),
        "transactionIndex": qty(index),
    })
}

fn fisco_block(g: &Group, v: &View, block: &Block, full: bool) -> Result<Value, ErrorObjectOwned> {
    let suite = g.exec.suite;
    let hash = block.hash(suite);
    let h = &block.header;
    let txs = block.transactions(suite).map_err(internal)?;
    let list: Vec<Value> = txs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if full {
                fisco_tx(g, t, Some((hash, h.height.0, i as u64)))
            } else {
                h256(&t.tx.hash()).into()
            }
        })
        .collect();
    let sealer_list = sealer_list_of(v, block)?;
    Ok(json!({
        "dbHash": h256(&h.state_root),
        "extraData": [],
        "gasLimit": qty(h.gas_limit),
        "gasUsed": qty(h.gas_used),
        "hash": h256(&hash),
        "logsBloom": format!("{:#x}", h.logs_bloom),
        "number": qty(h.height.0),
        "parentHash": h256(&h.parent_hash),
        "receiptsRoot": h256(&h.receipt_root),
        "sealer": qty(u64::from(h.proposer)),
        "sealerList": sealer_list.map(|l| l.iter().map(|k| node_hex(&k.0)).collect::<Vec<_>>()),
        "signatureList": block.certificate.signatures.iter().map(|s| json!({
            "index": qty(u64::from(s.sealer_index)),
            "signature": data(&s.signature),
        })).collect::<Vec<_>>(),
        "stateRoot": h256(&h.state_root),
        "timestamp": qty(h.timestamp_ms),
        "transactions": list,
        "transactionsRoot": h256(&h.tx_root),
        "view": qty(block.certificate.view.0),
    }))
}

/// The sealers of a block, if they can be known: the current ones when the block's sealer
/// set hash is theirs (the sealer lists of earlier sets are not kept yet).
/// The sealers that certified `block`: those of the state before it while that state is kept
/// (`[storage] state_history_blocks`), else the current ones if the block names them.
fn sealer_list_of(v: &View, block: &Block) -> Result<Option<Vec<PublicKey>>, ErrorObjectOwned> {
    let head = head(v)?;
    let before = block
        .header
        .height
        .0
        .checked_sub(1)
        .filter(|p| *p != head && v.history_base().is_ok_and(|b| *p >= b.0))
        .map(Height);
    // The state before the block, then (history pruned, or the block right after genesis)
    // the current one; each looked at once.
    let candidates: &[Option<Height>] = if before.is_some() { &[before, None] } else { &[None] };
    for &at in candidates {
        let list: Vec<PublicKey> =
            sealers(&Snapshot(v, at)).map_err(internal)?.into_iter().map(PublicKey).collect();
        if jinlian_primitives::sealer_set_hash(v.suite(), &list) == block.header.sealer_set_hash {
            return Ok(Some(list));
        }
    }
    Ok(None)
}

fn block_at(v: &View, n: u64) -> Result<Block, ErrorObjectOwned> {
    v.block(Height(n))
        .map_err(internal)?
        .ok_or_else(|| err(BLOCK_NOT_FOUND, format!("block {n} does not exist")))
}

fn block_by_hash(v: &View, hash: &B256) -> Result<Block, ErrorObjectOwned> {
    v.block_by_hash(hash)
        .map_err(internal)?
        .ok_or_else(|| err(-40003, format!("block {hash} does not exist")))
}

/// Registers a FISCO method that reads (blocking thread) with its group resolved.
fn fisco(
    m: &mut RpcModule<Rpc>,
    name: &'static str,
    f: fn(&Rpc, &Group, &Args) -> RpcResult,
) -> Result<(), RegisterMethodError> {
    m.register_blocking_method(name, move |p, rpc, _| {
        let a = Args::new(name, &p)?;
        let g = group_of(&rpc, &a)?;
        f(&rpc, &g, &a)
    })?;
    Ok(())
}

fn receipt_at(g: &Group, v: &View, hash: &B256) -> Result<Option<Value>, ErrorObjectOwned> {
    Ok(locate_receipt(g, v, hash)?
        .map(|(r, t, at, first_log)| fisco_receipt(&r, &t, at, first_log)))
}

/// A FISCO header object (a block without its transactions; signatures if asked).
fn fisco_header(g: &Group, v: &View, b: &Block, signatures: bool) -> RpcResult {
    let mut out = fisco_block(g, v, b, false)?;
    if let Some(o) = out.as_object_mut() {
        o.remove("transactions");
        if !signatures {
            o.remove("signatureList");
        }
    }
    Ok(out)
}

/// Everything a third party needs to check offline that a transaction is in a committed
/// block with a given receipt: the raw transaction and its sender, the receipt, Merkle paths
/// to the header's transaction and receipt roots, the header, the commit certificate and the
/// sealer set it is checked against.
fn proof(g: &Group, v: &View, hash: &B256) -> Result<Option<Value>, ErrorObjectOwned> {
    let suite = g.exec.suite;
    let Some(loc) = v.tx_location(hash).map_err(internal)? else { return Ok(None) };
    let block = block_at(v, loc.height.0)?;
    let receipts = v.block_receipts(loc.height).map_err(internal)?;
    let index = loc.index as usize;
    let mut tx_items = Vec::with_capacity(block.txs.len());
    for bt in &block.txs {
        let h = Transaction::decode(&bt.raw, suite).map_err(internal)?.hash();
        tx_items.push(tx_item_hash(suite, &h, &bt.sender));
    }
    let receipt_items: Vec<B256> = receipts.iter().map(|r| r.hash(suite)).collect();
    let tx_proof =
        merkle_proof(suite, &tx_items, index).ok_or_else(|| internal("index out of range"))?;
    let receipt_proof =
        merkle_proof(suite, &receipt_items, index).ok_or_else(|| internal("index out of range"))?;
    let sealer_list = sealer_list_of(v, &block)?.ok_or_else(|| {
        err(
            -32000,
            format!(
                "block {} was sealed by a sealer set older than the state this node keeps \
                 ([storage] state_history_blocks); ask a node that keeps more",
                loc.height.0
            ),
        )
    })?;
    let (Some(bt), Some(receipt)) = (block.txs.get(index), receipts.get(index)) else {
        return Err(internal(format!("block {} has no transaction {index}", loc.height.0)));
    };
    Ok(Some(json!({
        "suite": suite.name(),
        "transaction": data(&bt.raw),
        "sender": addr(&bt.sender),
        "receipt": data(&alloy_rlp::encode(receipt)),
        "txProof": tx_proof,
        "receiptProof": receipt_proof,
        "header": data(&alloy_rlp::encode(&block.header)),
        "certificate": data(&alloy_rlp::encode(&block.certificate)),
        "sealers": sealer_list.iter().map(|k| format!("0x{}", node_hex(&k.0))).collect::<Vec<_>>(),
        "blockHash": h256(&block.hash(suite)),
        "blockNumber": qty(loc.height.0),
        "transactionIndex": qty(u64::from(loc.index)),
    })))
}

pub(crate) fn register(m: &mut RpcModule<Rpc>) -> Result<(), RegisterMethodError> {
    m.register_method("getClientVersion", |_, rpc, _| {
        let chain = rpc.group_by_id(rpc.first).map_or(0, |g| g.exec.chain_id);
        Ok::<Value, ErrorObjectOwned>(json!({
            "Build Time": "",
            "Build Type": "Linux/Rust/Release",
            "Chain Id": chain.to_string(),
            "FISCO-BCOS Version": "2.11.0",
            "Git Branch": "",
            "Git Commit Hash": "",
            "Supported Version": "2.11.0",
            "Jinlian Version": env!("CARGO_PKG_VERSION"),
        }))
    })?;
    m.register_method("getGroupList", |_, rpc, _| {
        Ok::<Value, ErrorObjectOwned>(json!(rpc.group_ids()))
    })?;
    register_group_admin(m)?;
    fisco(m, "getBlockNumber", |_, g, _| Ok(qty(head(&view(g)?)?).into()))?;
    fisco(m, "getPbftView", |_, g, _| Ok(qty(g.backend.status().view).into()))?;
    fisco(m, "getSealerList", |_, g, _| {
        let v = view(g)?;
        let s = sealers(&Snapshot(&v, None)).map_err(internal)?;
        Ok(json!(s.iter().map(node_hex).collect::<Vec<_>>()))
    })?;
    fisco(m, "getObserverList", |_, g, _| {
        let v = view(g)?;
        let list: Vec<String> = members(&v)?
            .iter()
            .filter(|(_, r)| *r == NodeRole::Observer)
            .map(|(id, _)| node_hex(id))
            .collect();
        Ok(json!(list))
    })?;
    fisco(m, "getGroupPeers", |_, g, _| {
        let v = view(g)?;
        Ok(json!(members(&v)?.iter().map(|(id, _)| node_hex(id)).collect::<Vec<_>>()))
    })?;
    fisco(m, "getNodeIDList", |_, g, _| {
        let s = g.backend.status();
        let mut ids = vec![node_hex(&s.node_id)];
        ids.extend(s.peers.iter().map(|p| node_hex(&p.node_id)));
        Ok(json!(ids))
    })?;
    fisco(m, "getPeers", |_, g, _| {
        let s = g.backend.status();
        Ok(json!(
            s.peers
                .iter()
                .map(|p| json!({"nodeId": node_hex(&p.node_id), "IPAndPort": "", "Topic": []}))
                .collect::<Vec<_>>()
        ))
    })?;
    fisco(m, "getSyncStatus", |_, g, _| {
        let s = g.backend.status();
        let v = view(g)?;
        let head_block = v.head().map_err(internal)?;
        let genesis = v.genesis_hash().map_err(internal)?.unwrap_or_default();
        let (height, latest) = head_block.map_or((0, B256::ZERO), |h| (h.height.0, h.hash));
        Ok(json!({
            "blockNumber": height,
            "genesisHash": format!("{genesis:x}"),
            "isSyncing": s.sync_start.is_some(),
            "knownHighestNumber": s.highest_known.max(height),
            "knownLatestHash": format!("{latest:x}"),
            "latestHash": format!("{latest:x}"),
            "nodeId": node_hex(&s.node_id),
            "protocolId": g.id,
            "txPoolSize": s.pool_size.to_string(),
            "peers": s.peers.iter().map(|p| json!({
                "blockNumber": p.height,
                "genesisHash": format!("{genesis:x}"),
                "latestHash": format!("{:x}", p.head),
                "nodeId": node_hex(&p.node_id),
            })).collect::<Vec<_>>(),
        }))
    })?;
    fisco(m, "getConsensusStatus", |_, g, _| {
        let s = g.backend.status();
        let v = view(g)?;
        let list = sealers(&Snapshot(&v, None)).map_err(internal)?;
        let head_block = v.head().map_err(internal)?;
        let mut base = json!({
            "accountType": if s.sealer { 1 } else { 0 },
            "allowFutureBlocks": true,
            "cfgErr": false,
            "connectedNodes": s.peers.len(),
            "consensusedBlockNumber": head_block.map_or(0, |h| h.height.0 + 1),
            "currentView": s.view,
            "groupId": g.id,
            "highestblockHash": head_block.map_or(String::new(), |h| format!("{:#x}", h.hash)),
            "highestblockNumber": head_block.map_or(0, |h| h.height.0),
            "leaderFailed": false,
            "max_faulty_leader": list.len().saturating_sub(1) / 3,
            "nodeId": node_hex(&s.node_id),
            "nodeNum": list.len(),
            "node_index": list.iter().position(|k| *k == s.node_id).map_or(-1, |i| i as i64),
            "omitEmptyBlock": true,
            "protocolId": g.id,
        });
        for (i, k) in list.iter().enumerate() {
            base[format!("sealer.{i}")] = node_hex(k).into();
        }
        Ok(json!([base, [{"nodeId": node_hex(&s.node_id), "view": s.view}]]))
    })?;
    fisco(m, "getBlockByNumber", |_, g, a| {
        let v = view(g)?;
        let b = block_at(&v, number_of(a.get(1, "block number")?)?)?;
        fisco_block(g, &v, &b, bool_of(a.opt(2), "includeTransactions")?)
    })?;
    fisco(m, "getBlockByHash", |_, g, a| {
        let v = view(g)?;
        let b = block_by_hash(&v, &b256_of(a.get(1, "block hash")?, "block hash")?)?;
        fisco_block(g, &v, &b, bool_of(a.opt(2), "includeTransactions")?)
    })?;
    fisco(m, "getBlockHeaderByNumber", |_, g, a| {
        let v = view(g)?;
        let b = block_at(&v, number_of(a.get(1, "block number")?)?)?;
        fisco_header(g, &v, &b, bool_of(a.opt(2), "includeSignatures")?)
    })?;
    fisco(m, "getBlockHeaderByHash", |_, g, a| {
        let v = view(g)?;
        let b = block_by_hash(&v, &b256_of(a.get(1, "block hash")?, "block hash")?)?;
        fisco_header(g, &v, &b, bool_of(a.opt(2), "includeSignatures")?)
    })?;
    fisco(m, "getBlockHashByNumber", |_, g, a| {
        let v = view(g)?;
        let n = number_of(a.get(1, "block number")?)?;
        let h = v
            .header(Height(n))
            .map_err(internal)?
            .ok_or_else(|| err(BLOCK_NOT_FOUND, format!("block {n} does not exist")))?;
        Ok(h256(&h.hash(g.exec.suite)).into())
    })?;
    fisco(m, "getTransactionByHash", |_, g, a| {
        let v = view(g)?;
        let hash = b256_of(a.get(1, "transaction hash")?, "transaction hash")?;
        let Some((t, loc)) = v.transaction(&hash).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let header =
            v.header(loc.height).map_err(internal)?.ok_or_else(|| internal("header missing"))?;
        Ok(fisco_tx(g, &t, Some((header.hash(g.exec.suite), loc.height.0, u64::from(loc.index)))))
    })?;
    for name in ["getTransactionByBlockNumberAndIndex", "getTransactionByBlockHashAndIndex"] {
        fisco(m, name, |_, g, a| {
            let v = view(g)?;
            let b = match a.get(1, "block")? {
                Value::String(s) if s.len() == 66 => {
                    block_by_hash(&v, &b256_of(a.get(1, "block hash")?, "block hash")?)?
                }
                other => block_at(&v, number_of(other)?)?,
            };
            let i = number_of(a.get(2, "index")?)?;
            let bt = usize::try_from(i)
                .ok()
                .and_then(|i| b.txs.get(i))
                .ok_or_else(|| err(-40005, format!("transaction index {i} is out of range")))?;
            let tx = Transaction::decode(&bt.raw, g.exec.suite).map_err(internal)?;
            Ok(fisco_tx(
                g,
                &RecoveredTx { tx, sender: bt.sender },
                Some((b.hash(g.exec.suite), b.header.height.0, i)),
            ))
        })?;
    }
    fisco(m, "getTransactionReceipt", |_, g, a| {
        let v = view(g)?;
        let hash = b256_of(a.get(1, "transaction hash")?, "transaction hash")?;
        Ok(receipt_at(g, &v, &hash)?.unwrap_or(Value::Null))
    })?;
    fisco(m, "getCode", |_, g, a| {
        let v = view(g)?;
        let who = address_of(a.get(1, "address")?, "address")?;
        let key = jinlian_executor::state::keys::account(&who);
        let code = match v.state(&key).map_err(internal)? {
            Some(b) => {
                let acc = jinlian_executor::AccountRecord::decode_bytes(&b).map_err(internal)?;
                v.state(&jinlian_executor::state::keys::code(&acc.code_hash))
                    .map_err(internal)?
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        Ok(data(&code).into())
    })?;
    fisco(m, "getTotalTransactionCount", |_, g, _| {
        let v = view(g)?;
        let t = v.totals().map_err(internal)?;
        Ok(
            json!({ "blockNumber": qty(head(&v)?), "failedTxSum": qty(t.failed), "txSum": qty(t.txs) }),
        )
    })?;
    fisco(m, "getSystemConfigByKey", |_, g, a| {
        let key = a.get(1, "key")?.as_str().ok_or_else(|| invalid("the key must be a string"))?;
        let v = view(g)?;
        match read_config(&Snapshot(&v, None), key).map_err(internal)? {
            Some((value, _)) => Ok(value.into()),
            None => Err(err(
                INVALID_CONFIG_KEY,
                format!("{key:?} is not a system configuration key that is set"),
            )),
        }
    })?;
    fisco(m, "call", |_, g, a| {
        let c =
            a.get(1, "call")?.as_object().ok_or_else(|| invalid("the call must be an object"))?;
        let from =
            c.get("from").filter(|v| !v.is_null()).map(|v| address_of(v, "from")).transpose()?;
        let to = address_of(c.get("to").ok_or_else(|| err(CALL_ERROR, "a call needs to"))?, "to")?;
        let input = match c.get("data") {
            Some(d) => bytes_of(d, "data")?,
            None => Default::default(),
        };
        let value = match c.get("value") {
            None | Some(Value::Null) => U256::ZERO,
            Some(v) => crate::params::u256_of(v, "value")?,
        };
        let v = view(g)?;
        let n = head(&v)?;
        let header =
            v.header(Height(n)).map_err(internal)?.ok_or_else(|| internal("head missing"))?;
        let block = BlockContext {
            height: n + 1,
            timestamp_ms: header.timestamp_ms,
            gas_limit: g.block_gas_limit,
            coinbase: Address::ZERO,
            parent_state_root: header.state_root,
        };
        let req = CallRequest {
            from,
            to: TxKind::Call(to),
            gas: None,
            value,
            data: input,
            overrides: Vec::new(),
        };
        let out = jinlian_executor::call(&g.exec, &Snapshot(&v, None), &block, &req)
            .map_err(|e| err(CALL_ERROR, e.to_string()))?;
        Ok(
            json!({ "currentBlockNumber": qty(n), "output": data(&out.output), "status": qty(u64::from(out.status)) }),
        )
    })?;
    m.register_async_method("sendRawTransaction", |p, rpc, _| async move {
        let a = Args::new("sendRawTransaction", &p)?;
        let g = group_of(&rpc, &a)?;
        let raw = bytes_of(a.get(1, "signed transaction")?, "signed transaction")?;
        send_raw(&g, &raw).await
    })?;
    m.register_async_method("getPendingTxSize", |p, rpc, _| async move {
        let a = Args::new("getPendingTxSize", &p)?;
        let g = group_of(&rpc, &a)?;
        Ok::<Value, ErrorObjectOwned>(qty(g.backend.status().pool_size as u64).into())
    })?;
    m.register_async_method("getPendingTransactions", |p, rpc, _| async move {
        let a = Args::new("getPendingTransactions", &p)?;
        let g = group_of(&rpc, &a)?;
        let ans = g.backend.pool(crate::PoolQuery { list: 1_000, ..Default::default() }).await;
        Ok::<Value, ErrorObjectOwned>(json!(
            ans.pending.iter().map(|t| fisco_tx(&g, t, None)).collect::<Vec<_>>()
        ))
    })?;
    fisco(m, "getTransactionByHashWithProof", |_, g, a| {
        let v = view(g)?;
        let hash = b256_of(a.get(1, "transaction hash")?, "transaction hash")?;
        let Some(p) = proof(g, &v, &hash)? else { return Ok(Value::Null) };
        let Some((t, loc)) = v.transaction(&hash).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let header =
            v.header(loc.height).map_err(internal)?.ok_or_else(|| internal("header missing"))?;
        Ok(
            json!({ "transaction": fisco_tx(g, &t, Some((header.hash(g.exec.suite), loc.height.0, u64::from(loc.index)))), "txProof": p }),
        )
    })?;
    fisco(m, "getTransactionReceiptByHashWithProof", |_, g, a| {
        let v = view(g)?;
        let hash = b256_of(a.get(1, "transaction hash")?, "transaction hash")?;
        let Some(p) = proof(g, &v, &hash)? else { return Ok(Value::Null) };
        Ok(json!({ "transactionReceipt": receipt_at(g, &v, &hash)?, "receiptProof": p }))
    })?;
    // jinlian_: the path's group.
    m.register_blocking_method("jinlian_getTransactionProof", |p, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let a = Args::new("jinlian_getTransactionProof", &p)?;
        let hash = b256_of(a.get(0, "transaction hash")?, "transaction hash")?;
        let v = view(&g)?;
        Ok::<Value, ErrorObjectOwned>(proof(&g, &v, &hash)?.unwrap_or(Value::Null))
    })?;
    m.register_blocking_method("jinlian_nodeInfo", |_, rpc, ext| {
        let g = rpc.group(&ext)?.clone();
        let s = g.backend.status();
        let v = view(&g)?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "nodeId": format!("0x{}", node_hex(&s.node_id)),
            "version": crate::eth::CLIENT_VERSION,
            "suite": g.exec.suite.name(),
            "chainId": g.exec.chain_id,
            "groupId": g.id,
                        "groups": rpc.group_ids(),
            "sealer": s.sealer,
            "view": s.view,
            "blockNumber": head(&v)?,
            "peers": s.peers.len(),
            "pendingTransactions": s.pool_size,
            "syncing": s.sync_start.is_some(),
        }))
    })?;
    Ok(())
}

/// The node's group lifecycle, or why it may not be changed through this server (or by
/// this caller: a request a web page could have sent is refused).
fn admin<'a>(
    rpc: &'a Rpc,
    ext: &jsonrpsee::Extensions,
) -> Result<&'a Arc<dyn crate::Admin>, ErrorObjectOwned> {
    let admin = rpc.admin.as_ref().ok_or_else(|| {
        err(-32601, "group management is off on this node (set [rpc] admin = true to allow it)")
    })?;
    if ext.get::<crate::AdminCaller>().is_some_and(|c| !c.allowed) {
        return Err(err(
            -32601,
            "group management is refused to browser pages (an Origin header, or a Host that is \
             not this machine's address)",
        ));
    }
    Ok(admin)
}

/// A group number from a FISCO `groupId` argument.
fn group_number(v: &Value) -> Result<u32, ErrorObjectOwned> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        },
        _ => None,
    }
    .and_then(|n| u32::try_from(n).ok())
    .filter(|n| *n > 0)
    .ok_or_else(|| invalid(format!("groupId must be a group number from 1, got {v}")))
}

/// FISCO's answer to a group operation: `{code, message}`.
fn outcome(r: Result<(), crate::GroupError>, done: String) -> Value {
    match r {
        Ok(()) => json!({ "code": "0x0", "message": done }),
        Err(e) => json!({ "code": format!("{:#x}", e.code), "message": e.message }),
    }
}

/// `generateGroup`, `startGroup`, `stopGroup`, `queryGroupStatus` (FISCO 2.x, group first)
/// and `jinlian_groups`.
fn register_group_admin(m: &mut RpcModule<Rpc>) -> Result<(), RegisterMethodError> {
    m.register_blocking_method("generateGroup", |p, rpc, ext| {
        let a = Args::new("generateGroup", &p)?;
        let id = group_number(a.get(0, "groupId")?)?;
        let genesis = match a.get(1, "genesis")? {
            Value::String(s) => s.clone(),
            v @ Value::Object(_) => v.to_string(),
            v => return Err(invalid(format!("the genesis must be a JSON object, got {v}"))),
        };
        let r = admin(&rpc, &ext)?.generate_group(id, &genesis);
        Ok::<Value, ErrorObjectOwned>(outcome(r, format!("group {id} generated")))
    })?;
    m.register_blocking_method("startGroup", |p, rpc, ext| {
        let a = Args::new("startGroup", &p)?;
        let id = group_number(a.get(0, "groupId")?)?;
        let r = admin(&rpc, &ext)?.start_group(id);
        Ok::<Value, ErrorObjectOwned>(outcome(r, format!("group {id} started")))
    })?;
    m.register_blocking_method("stopGroup", |p, rpc, ext| {
        let a = Args::new("stopGroup", &p)?;
        let id = group_number(a.get(0, "groupId")?)?;
        let r = admin(&rpc, &ext)?.stop_group(id);
        Ok::<Value, ErrorObjectOwned>(outcome(r, format!("group {id} stopped")))
    })?;
    m.register_blocking_method("queryGroupStatus", |p, rpc, _| {
        let a = Args::new("queryGroupStatus", &p)?;
        let id = group_number(a.get(0, "groupId")?)?;
        let state = match &rpc.admin {
            Some(a) => a.group_state(id),
            None if rpc.group_ids().contains(&id) => crate::GroupState::Running,
            None => crate::GroupState::Inexistent,
        };
        Ok::<Value, ErrorObjectOwned>(
            json!({ "code": "0x0", "message": "", "status": state.as_str() }),
        )
    })?;
    m.register_blocking_method("jinlian_groups", |_, rpc, _| {
        let list: Vec<Value> = match &rpc.admin {
            Some(a) => a
                .groups()
                .into_iter()
                .map(|(id, s)| json!({ "groupId": id, "status": s.as_str() }))
                .collect(),
            None => rpc
                .group_ids()
                .into_iter()
                .map(|id| json!({ "groupId": id, "status": "RUNNING" }))
                .collect(),
        };
        Ok::<Value, ErrorObjectOwned>(Value::Array(list))
    })?;
    Ok(())
}
