//! Builds chains of well-formed blocks for storage tests.

#![allow(dead_code, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bloom, Bytes, TxKind, U256};
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::*;
use jinlian_storage::{ChainHead, StateWrite};

/// A consortium transaction with a syntactically valid but unverified signature (storage
/// does not check signatures; signing thousands of transactions would only slow tests).
pub fn tx(suite: CryptoSuite, height: u64, i: u32) -> Transaction {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(height) << 32 | U256::from(i),
        gas_price: U256::ZERO,
        gas_limit: 100_000,
        block_limit: height + 500,
        to: TxKind::Call(Address::repeat_byte(0x10)),
        value: U256::ZERO,
        input: Bytes::from(vec![0xab; 68]),
        chain_id: 1,
        group_id: 1,
        extra_data: Bytes::new(),
    });
    let sig = TxSignature::Consortium {
        v: Bytes::from_static(&[27]),
        r: Bytes::from(vec![0x11; 32]),
        s: Bytes::from(vec![0x22; 32]),
    };
    Transaction::from_parts(body, sig, suite).unwrap()
}

pub fn sender(i: u32) -> Address {
    Address::from(
        U256::from(i + 1).to_be_bytes::<32>()[12..].try_into().map(|a: [u8; 20]| a).unwrap(),
    )
}

pub fn receipt(height: u64, i: u32) -> Receipt {
    Receipt {
        status: if i % 7 == 3 { status::REVERT_INSTRUCTION } else { status::OK },
        gas_used: 21_000 + u64::from(i),
        cumulative_gas_used: (21_000 + u64::from(i)) * (u64::from(i) + 1),
        contract_address: None,
        // 0, 1 or 2 logs, so log indexes within a block are uneven.
        logs: (0..i % 3)
            .map(|k| {
                alloy_primitives::Log::new_unchecked(
                    alloy_primitives::Address::repeat_byte(k as u8),
                    vec![],
                    Bytes::from(vec![k as u8]),
                )
            })
            .collect(),
        output: Bytes::from(height.to_be_bytes().to_vec()),
    }
}

/// State key written by every block: the latest height.
pub const HEIGHT_KEY: &[u8] = b"test/height";

pub fn block_key(height: u64) -> Vec<u8> {
    format!("test/block/{height:012}").into_bytes()
}

/// Block `height` on top of `parent`, with `ntx` transactions, receipts, and state writes:
/// `HEIGHT_KEY` = height, `block_key(height)` = tx count, `block_key(height - 2)` deleted.
pub fn make_block(
    suite: CryptoSuite,
    parent: Option<ChainHead>,
    height: u64,
    ntx: u32,
) -> (Block, Vec<Receipt>, Vec<StateWrite>) {
    let txs: Vec<Transaction> = (0..ntx).map(|i| tx(suite, height, i)).collect();
    let receipts: Vec<Receipt> = (0..ntx).map(|i| receipt(height, i)).collect();
    let header = Header {
        parent_hash: parent.map_or(B256::ZERO, |p| p.hash),
        height: Height(height),
        timestamp_ms: 1_764_000_000_000 + height,
        group_id: GroupId(1),
        chain_id: 1,
        proposer: (height % 4) as u32,
        sealer_set_hash: B256::repeat_byte(5),
        tx_root: tx_root(suite, txs.iter().enumerate().map(|(i, t)| (t.hash(), sender(i as u32)))),
        receipt_root: merkle_root(
            suite,
            &receipts.iter().map(|r| r.hash(suite)).collect::<Vec<_>>(),
        ),
        state_root: B256::repeat_byte(height as u8),
        gas_used: receipts.last().map_or(0, |r| r.cumulative_gas_used),
        gas_limit: 300_000_000,
        logs_bloom: Bloom::ZERO,
        extra: Bytes::new(),
    };
    let block = Block {
        header,
        txs: txs
            .iter()
            .enumerate()
            .map(|(i, t)| BlockTx { raw: t.encoded().clone(), sender: sender(i as u32) })
            .collect(),
        certificate: Certificate {
            view: View(height),
            signatures: vec![CommitSignature {
                sealer_index: 0,
                signature: Bytes::from(vec![1u8; 65]),
            }],
        },
    };
    let mut writes: Vec<StateWrite> = vec![
        (HEIGHT_KEY.to_vec(), Some(height.to_be_bytes().to_vec())),
        (block_key(height), Some(ntx.to_be_bytes().to_vec())),
    ];
    if height >= 2 {
        writes.push((block_key(height - 2), None));
    }
    (block, receipts, writes)
}
