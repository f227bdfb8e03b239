//! The node's minimal JSON-RPC (HTTP and WebSocket on one port): `eth_chainId`,
//! `eth_blockNumber`, `eth_sendRawTransaction`, `eth_getTransactionReceipt`,
//! `eth_getBlockByNumber` and `eth_call` (on the latest state; no history is kept). The full
//! surface is the JSON-RPC issue's.

use crate::host::{HostEvent, LedgerState, NodeLedger};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use anyhow::{Context, Result};
use jinlian_crypto::CryptoSuite;
use jinlian_executor::{BlockContext, CallRequest, ExecConfig};
use jinlian_primitives::{Height, Receipt, Transaction, TxBody};
use jsonrpsee::RpcModule;
use jsonrpsee::server::{ServerBuilder, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

/// What the RPC methods share.
pub struct RpcContext {
    /// The ledger (read through snapshots).
    pub ledger: Arc<NodeLedger>,
    /// The host, for new transactions.
    pub host: SyncSender<HostEvent>,
    /// Execution settings (for `eth_call`).
    pub exec: ExecConfig,
    /// Block gas limit.
    pub block_gas_limit: u64,
}

type RpcResult = Result<Value, ErrorObjectOwned>;

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(-32603, e.to_string())
}

fn qty(n: u64) -> String {
    format!("{n:#x}")
}

fn suite(ctx: &RpcContext) -> CryptoSuite {
    ctx.exec.suite
}

/// Starts the server on `addr`.
pub async fn start(addr: SocketAddr, ctx: RpcContext) -> Result<(ServerHandle, SocketAddr)> {
    let config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(4 * 1024 * 1024)
        .max_response_body_size(32 * 1024 * 1024)
        .max_connections(512)
        .build();
    let server = ServerBuilder::with_config(config)
        .build(addr)
        .await
        .with_context(|| format!("cannot serve JSON-RPC on {addr}"))?;
    let local = server.local_addr()?;
    let mut m = RpcModule::new(ctx);
    m.register_method("eth_chainId", |_, ctx, _| -> RpcResult {
        Ok(qty(ctx.exec.chain_id).into())
    })?;
    m.register_method("net_version", |_, ctx, _| -> RpcResult {
        Ok(ctx.exec.chain_id.to_string().into())
    })?;
    m.register_method("eth_blockNumber", |_, ctx, _| -> RpcResult {
        let head = ctx.ledger.head().map_err(internal)?.map_or(0, |h| h.height.0);
        Ok(qty(head).into())
    })?;
    m.register_async_method("eth_sendRawTransaction", |params, ctx, _| async move {
        send_raw(params, &ctx).await
    })?;
    m.register_blocking_method("eth_getTransactionReceipt", |params, ctx, _| {
        receipt(params, &ctx)
    })?;
    m.register_blocking_method("eth_getBlockByNumber", |params, ctx, _| {
        block_by_number(params, &ctx)
    })?;
    m.register_blocking_method("eth_call", |params, ctx, _| eth_call(params, &ctx))?;
    Ok((server.start(m), local))
}

fn parse_hex(s: &str, what: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(s).map_err(|_| err(-32602, format!("{what} is not 0x-prefixed hex")))
}

async fn send_raw(params: Params<'static>, ctx: &RpcContext) -> RpcResult {
    let (raw,): (String,) = params.parse()?;
    let raw = parse_hex(&raw, "the transaction")?;
    let suite = suite(ctx);
    let tx = Transaction::decode(&raw, suite)
        .map_err(|e| err(-32602, format!("malformed transaction: {e}")))?;
    let tx = tx.into_recovered(suite).map_err(|e| err(-32602, format!("bad signature: {e}")))?;
    let (reply, rx) = tokio::sync::oneshot::channel();
    ctx.host
        .try_send(HostEvent::Submit(Box::new(tx), reply))
        .map_err(|_| err(-32005, "the node is busy; try again later"))?;
    match tokio::time::timeout(Duration::from_secs(10), rx).await {
        Ok(Ok(Ok(hash))) => Ok(format!("{hash:#x}").into()),
        Ok(Ok(Err(why))) => Err(err(-32000, why)),
        _ => Err(err(-32005, "the node did not answer in time; try again")),
    }
}

fn log_json(
    r: &Receipt,
    tx_hash: B256,
    block_hash: B256,
    height: u64,
    index: u64,
    first_log: u64,
) -> Vec<Value> {
    r.logs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "address": format!("{:#x}", l.address),
                "topics": l.topics().iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
                "data": format!("0x{}", hex::encode(&l.data.data)),
                "blockNumber": qty(height),
                "blockHash": format!("{block_hash:#x}"),
                "transactionHash": format!("{tx_hash:#x}"),
                "transactionIndex": qty(index),
                "logIndex": qty(first_log + i as u64),
                "removed": false,
            })
        })
        .collect()
}

fn tx_type(body: &TxBody) -> u64 {
    match body {
        TxBody::Eip2930(_) => 1,
        TxBody::Eip1559(_) => 2,
        _ => 0,
    }
}

fn receipt(params: Params, ctx: &RpcContext) -> RpcResult {
    let (hash,): (B256,) = params.parse()?;
    let view = ctx.ledger.view().map_err(internal)?;
    let Some((r, loc)) = view.receipt(&hash).map_err(internal)? else { return Ok(Value::Null) };
    let tx = view.tx_at(loc).map_err(internal)?.ok_or_else(|| internal("transaction missing"))?;
    let header =
        view.header(loc.height).map_err(internal)?.ok_or_else(|| internal("header missing"))?;
    let block_hash = header.hash(suite(ctx));
    let receipts = view.block_receipts(loc.height).map_err(internal)?;
    let first_log: u64 =
        receipts.iter().take(loc.index as usize).map(|r| r.logs.len() as u64).sum();
    let to = match tx.tx.to() {
        TxKind::Call(a) => Value::from(format!("{a:#x}")),
        TxKind::Create => Value::Null,
    };
    Ok(json!({
        "transactionHash": format!("{hash:#x}"),
        "transactionIndex": qty(u64::from(loc.index)),
        "blockHash": format!("{block_hash:#x}"),
        "blockNumber": qty(loc.height.0),
        "from": format!("{:#x}", tx.sender),
        "to": to,
        "cumulativeGasUsed": qty(r.cumulative_gas_used),
        "gasUsed": qty(r.gas_used),
        "effectiveGasPrice": "0x0",
        "contractAddress": r.contract_address.map(|a| format!("{a:#x}")),
        "logs": log_json(&r, hash, block_hash, loc.height.0, u64::from(loc.index), first_log),
        "logsBloom": format!("{:#x}", r.logs_bloom()),
        "status": if r.is_success() { "0x1" } else { "0x0" },
        "type": qty(tx_type(tx.tx.body())),
        "output": format!("0x{}", hex::encode(&r.output)),
        "statusCode": qty(u64::from(r.status)),
    }))
}

fn block_number(tag: Option<&Value>, head: u64) -> Result<u64, ErrorObjectOwned> {
    match tag.and_then(Value::as_str) {
        None | Some("latest" | "safe" | "finalized" | "pending") => Ok(head),
        Some("earliest") => Ok(0),
        Some(s) => {
            let digits = s
                .strip_prefix("0x")
                .ok_or_else(|| err(-32602, format!("bad block number {s:?}")))?;
            u64::from_str_radix(digits, 16)
                .map_err(|_| err(-32602, format!("bad block number {s:?}")))
        }
    }
}

fn block_by_number(params: Params, ctx: &RpcContext) -> RpcResult {
    let args: Vec<Value> = params.parse()?;
    let view = ctx.ledger.view().map_err(internal)?;
    let head = view.head().map_err(internal)?.map_or(0, |h| h.height.0);
    let n = block_number(args.first(), head)?;
    let full = args.get(1).and_then(Value::as_bool).unwrap_or(false);
    let Some(block) = view.block(Height(n)).map_err(internal)? else { return Ok(Value::Null) };
    let s = suite(ctx);
    let hash = block.hash(s);
    let h = &block.header;
    let txs = block.transactions(s).map_err(internal)?;
    let tx_values: Vec<Value> = txs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let th = format!("{:#x}", t.tx.hash());
            if !full {
                return th.into();
            }
            json!({
                "hash": th,
                "from": format!("{:#x}", t.sender),
                "to": match t.tx.to() { TxKind::Call(a) => Value::from(format!("{a:#x}")), TxKind::Create => Value::Null },
                "value": format!("{:#x}", t.tx.value()),
                "gas": qty(t.tx.gas_limit()),
                "gasPrice": "0x0",
                "input": format!("0x{}", hex::encode(t.tx.input())),
                "nonce": qty(t.tx.nonce().unwrap_or_default()),
                "type": qty(tx_type(t.tx.body())),
                "chainId": t.tx.chain_id().map(qty),
                "blockHash": format!("{hash:#x}"),
                "blockNumber": qty(n),
                "transactionIndex": qty(i as u64),
            })
        })
        .collect();
    Ok(json!({
        "number": qty(n),
        "hash": format!("{hash:#x}"),
        "parentHash": format!("{:#x}", h.parent_hash),
        "nonce": "0x0000000000000000",
        "mixHash": format!("{:#x}", B256::ZERO),
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "logsBloom": format!("{:#x}", h.logs_bloom),
        "transactionsRoot": format!("{:#x}", h.tx_root),
        "stateRoot": format!("{:#x}", h.state_root),
        "receiptsRoot": format!("{:#x}", h.receipt_root),
        "miner": format!("{:#x}", Address::ZERO),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": if n == 0 { "0x".to_string() } else { format!("0x{}", hex::encode(&h.extra)) },
        "size": qty(alloy_rlp::encode(&block).len() as u64),
        "gasLimit": qty(h.gas_limit),
        "gasUsed": qty(h.gas_used),
        "timestamp": qty(h.timestamp_ms / 1000),
        "baseFeePerGas": "0x0",
        "transactions": tx_values,
        "uncles": [],
        "view": qty(block.certificate.view.0),
        "signatures": qty(block.certificate.signatures.len() as u64),
    }))
}

fn eth_call(params: Params, ctx: &RpcContext) -> RpcResult {
    let args: Vec<Value> = params.parse()?;
    let call = args.first().ok_or_else(|| err(-32602, "eth_call needs a call object"))?;
    let view = ctx.ledger.view().map_err(internal)?;
    let head = view.head().map_err(internal)?.map_or(0, |h| h.height.0);
    let n = block_number(args.get(1), head)?;
    if n != head {
        return Err(err(
            -32602,
            format!("only the latest state ({head}) is kept; call with \"latest\""),
        ));
    }
    let field = |k: &str| call.get(k).and_then(Value::as_str);
    let addr = |k: &str| -> Result<Option<Address>, ErrorObjectOwned> {
        field(k).map(|s| s.parse().map_err(|_| err(-32602, format!("bad {k} address")))).transpose()
    };
    let data = match field("input").or(field("data")) {
        Some(d) => parse_hex(d, "data")?,
        None => Vec::new(),
    };
    let value = match field("value") {
        Some(v) => v.parse::<U256>().map_err(|_| err(-32602, "bad value"))?,
        None => U256::ZERO,
    };
    let gas = match field("gas") {
        Some(g) => Some(
            u64::from_str_radix(g.trim_start_matches("0x"), 16)
                .map_err(|_| err(-32602, "bad gas"))?,
        ),
        None => None,
    };
    let header =
        view.header(Height(head)).map_err(internal)?.ok_or_else(|| internal("head missing"))?;
    let state = LedgerState(view);
    let block = BlockContext {
        height: head + 1,
        timestamp_ms: crate::host::now_ms(),
        gas_limit: ctx.block_gas_limit,
        coinbase: Address::ZERO,
        parent_state_root: header.state_root,
    };
    let req = CallRequest {
        from: addr("from")?,
        to: addr("to")?.map_or(TxKind::Create, TxKind::Call),
        gas,
        value,
        data: Bytes::from(data),
        overrides: Vec::new(),
    };
    let out = jinlian_executor::call(&ctx.exec, &state, &block, &req)
        .map_err(|e| err(-32000, e.to_string()))?;
    if out.is_success() {
        return Ok(format!("0x{}", hex::encode(&out.output)).into());
    }
    let reason = alloy_sol_types::decode_revert_reason(&out.output);
    let msg = match reason {
        Some(r) => format!("execution reverted: {}", r.strip_prefix("revert: ").unwrap_or(&r)),
        None => "execution reverted".to_string(),
    };
    Err(ErrorObjectOwned::owned(3, msg, Some(format!("0x{}", hex::encode(&out.output)))))
}
