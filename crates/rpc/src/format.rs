//! Blocks, transactions, receipts and logs as Ethereum clients expect them in JSON
//! (quantities as `0x` hex without leading zeros, data as `0x` hex). Consortium transactions
//! also show their own fields (`randomId`, `blockLimit`, `groupId`, `extraData`).

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{
    Block, Header, Receipt, RecoveredTx, Transaction, TxBody, TxSignature, TxType,
};
use serde_json::{Value, json};

/// A quantity.
pub fn qty(n: u64) -> String {
    format!("{n:#x}")
}

/// A 256-bit quantity.
pub fn qty256(n: U256) -> String {
    format!("{n:#x}")
}

/// Bytes as `0x` hex.
pub fn data(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// A 32-byte hash.
pub fn h256(h: &B256) -> String {
    format!("{h:#x}")
}

/// An address (lower case; clients checksum it themselves).
pub fn addr(a: &Address) -> String {
    format!("{a:#x}")
}

/// The Ethereum type number a client sees (consortium transactions show as legacy, 0).
pub fn type_number(tx: &Transaction) -> u64 {
    match tx.tx_type() {
        TxType::Eip2930 => 1,
        TxType::Eip1559 => 2,
        TxType::Legacy | TxType::Consortium => 0,
    }
}

/// Where a committed transaction is.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    /// Block hash.
    pub block_hash: B256,
    /// Height.
    pub height: u64,
    /// Index in the block.
    pub index: u64,
}

fn to_value(to: TxKind) -> Value {
    match to {
        TxKind::Call(a) => addr(&a).into(),
        TxKind::Create => Value::Null,
    }
}

fn access_list_json(tx: &Transaction) -> Option<Value> {
    tx.access_list().map(|l| {
        l.iter()
            .map(|i| {
                json!({
                    "address": addr(&i.address),
                    "storageKeys": i.storage_keys.iter().map(h256).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
            .into()
    })
}

fn pad32(b: &Bytes) -> String {
    let mut out = [0u8; 32];
    let b = if b.len() > 32 { &b[b.len() - 32..] } else { &b[..] };
    out[32 - b.len()..].copy_from_slice(b);
    h256(&B256::from(out))
}

/// A transaction object (`eth_getTransactionByHash` and blocks with full transactions);
/// `at` is `None` for a transaction still in the pool.
pub fn tx_json(t: &RecoveredTx, at: Option<Position>, suite: CryptoSuite) -> Value {
    let tx = &t.tx;
    let mut o = json!({
        "hash": h256(&tx.hash()),
        "from": addr(&t.sender),
        "to": to_value(tx.to()),
        "value": qty256(tx.value()),
        "gas": qty(tx.gas_limit()),
        "input": data(tx.input()),
        "nonce": qty(tx.nonce().unwrap_or(0)),
        "type": qty(type_number(tx)),
        "blockHash": at.map(|p| h256(&p.block_hash)),
        "blockNumber": at.map(|p| qty(p.height)),
        "transactionIndex": at.map(|p| qty(p.index)),
    });
    let m = o.as_object_mut().expect("an object");
    if let Some(id) = tx.chain_id() {
        m.insert("chainId".into(), qty(id).into());
    }
    match tx.body() {
        TxBody::Legacy(b) => {
            m.insert("gasPrice".into(), qty256(U256::from(b.gas_price)).into());
        }
        TxBody::Eip2930(b) => {
            m.insert("gasPrice".into(), qty256(U256::from(b.gas_price)).into());
        }
        TxBody::Eip1559(b) => {
            m.insert("gasPrice".into(), qty256(U256::from(b.max_fee_per_gas)).into());
            m.insert("maxFeePerGas".into(), qty256(U256::from(b.max_fee_per_gas)).into());
            m.insert(
                "maxPriorityFeePerGas".into(),
                qty256(U256::from(b.max_priority_fee_per_gas)).into(),
            );
        }
        TxBody::Consortium(c) => {
            m.insert("gasPrice".into(), qty256(c.gas_price).into());
            m.insert("randomId".into(), qty256(c.random_id).into());
            m.insert("blockLimit".into(), qty(c.block_limit).into());
            m.insert("groupId".into(), qty(c.group_id).into());
            m.insert("extraData".into(), data(&c.extra_data).into());
        }
    }
    if let Some(list) = access_list_json(tx) {
        m.insert("accessList".into(), list);
    }
    match tx.signature() {
        TxSignature::Eth(s) => {
            let parity = u64::from(s.y_parity);
            let v = match (tx.tx_type(), tx.chain_id()) {
                (TxType::Legacy, Some(id)) => id * 2 + 35 + parity,
                (TxType::Legacy, None) => 27 + parity,
                _ => parity,
            };
            m.insert("v".into(), qty(v).into());
            m.insert("r".into(), qty256(s.r).into());
            m.insert("s".into(), qty256(s.s).into());
            if tx.tx_type() != TxType::Legacy {
                m.insert("yParity".into(), qty(parity).into());
            }
        }
        TxSignature::Consortium { v, r, s } => {
            m.insert("r".into(), pad32(r).into());
            m.insert("s".into(), pad32(s).into());
            match suite {
                CryptoSuite::Ecdsa => {
                    let v = v.first().copied().map_or(27, u64::from);
                    m.insert("v".into(), qty(v).into());
                }
                CryptoSuite::Sm => {
                    // The SM2 public key travels in `v`; clients expecting a parity get 0.
                    m.insert("v".into(), "0x0".into());
                    m.insert("publicKey".into(), data(v).into());
                }
            }
        }
    }
    o
}

/// A log object.
pub fn log_json(
    log: &alloy_primitives::Log,
    tx_hash: &B256,
    at: Position,
    log_index: u64,
) -> Value {
    json!({
        "address": addr(&log.address),
        "topics": log.topics().iter().map(h256).collect::<Vec<_>>(),
        "data": data(&log.data.data),
        "blockNumber": qty(at.height),
        "blockHash": h256(&at.block_hash),
        "transactionHash": h256(tx_hash),
        "transactionIndex": qty(at.index),
        "logIndex": qty(log_index),
        "removed": false,
    })
}

/// The log objects of a receipt; `first_log` is the block-wide index of its first log.
pub fn receipt_logs(r: &Receipt, tx_hash: &B256, at: Position, first_log: u64) -> Vec<Value> {
    r.logs.iter().enumerate().map(|(i, l)| log_json(l, tx_hash, at, first_log + i as u64)).collect()
}

/// A receipt object. `first_log` is the block-wide index of its first log.
pub fn receipt_json(r: &Receipt, t: &RecoveredTx, at: Position, first_log: u64) -> Value {
    let hash = t.tx.hash();
    let logs = receipt_logs(r, &hash, at, first_log);
    json!({
        "transactionHash": h256(&hash),
        "transactionIndex": qty(at.index),
        "blockHash": h256(&at.block_hash),
        "blockNumber": qty(at.height),
        "from": addr(&t.sender),
        "to": to_value(t.tx.to()),
        "cumulativeGasUsed": qty(r.cumulative_gas_used),
        "gasUsed": qty(r.gas_used),
        "effectiveGasPrice": "0x0",
        "contractAddress": r.contract_address.as_ref().map(addr),
        "logs": logs,
        "logsBloom": format!("{:#x}", r.logs_bloom()),
        "status": if r.is_success() { "0x1" } else { "0x0" },
        "type": qty(type_number(&t.tx)),
        "output": data(&r.output),
        "statusCode": qty(u64::from(r.status)),
    })
}

/// Keccak-256 of the RLP of an empty list: the `sha3Uncles` of a block without uncles.
const EMPTY_UNCLES: &str = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347";

/// The header fields of a block object (also what `newHeads` sends).
pub fn header_json(h: &Header, hash: &B256, size: u64) -> Value {
    json!({
        "number": qty(h.height.0),
        "hash": h256(hash),
        "parentHash": h256(&h.parent_hash),
        "nonce": "0x0000000000000000",
        "mixHash": h256(&B256::ZERO),
        "sha3Uncles": EMPTY_UNCLES,
        "logsBloom": format!("{:#x}", h.logs_bloom),
        "transactionsRoot": h256(&h.tx_root),
        "stateRoot": h256(&h.state_root),
        "receiptsRoot": h256(&h.receipt_root),
        "miner": addr(&Address::ZERO),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": data(&h.extra),
        "size": qty(size),
        "gasLimit": qty(h.gas_limit),
        "gasUsed": qty(h.gas_used),
        "timestamp": qty(h.timestamp_ms / 1000),
        "timestampMs": qty(h.timestamp_ms),
        "baseFeePerGas": "0x0",
        "groupId": qty(u64::from(h.group_id.0)),
        "proposer": qty(u64::from(h.proposer)),
    })
}

/// A block object with transaction hashes or (`full`) transaction objects.
pub fn block_json(block: &Block, txs: &[RecoveredTx], full: bool, suite: CryptoSuite) -> Value {
    let hash = block.hash(suite);
    let mut v = header_json(&block.header, &hash, block.encode_to_vec().len() as u64);
    let list: Vec<Value> = txs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if full {
                let at =
                    Position { block_hash: hash, height: block.header.height.0, index: i as u64 };
                tx_json(t, Some(at), suite)
            } else {
                h256(&t.tx.hash()).into()
            }
        })
        .collect();
    let m = v.as_object_mut().expect("an object");
    m.insert("transactions".into(), list.into());
    m.insert("uncles".into(), Value::Array(Vec::new()));
    m.insert("view".into(), qty(block.certificate.view.0).into());
    m.insert("signatures".into(), qty(block.certificate.signatures.len() as u64).into());
    v
}

/// An ABI value as people read it: checksummed addresses, decimal numbers, quoted strings,
/// hex bytes, `[…]` for arrays and tuples.
pub fn show_value(v: &alloy_dyn_abi::DynSolValue) -> String {
    use alloy_dyn_abi::DynSolValue;
    match v {
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Bytes(b) => format!("0x{}", alloy_primitives::hex::encode(b)),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", alloy_primitives::hex::encode(&w[..*n])),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!("[{}]", items.iter().map(show_value).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}
