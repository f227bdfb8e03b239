//! Shared fixtures of the system-contract tests: chain id 5, group 1.

#![allow(dead_code, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use jinlian_crypto::KeyPair;
use jinlian_executor::{BlockContext, ExecConfig};
use jinlian_primitives::{ConsortiumTx, RecoveredTx, Transaction, TxBody};

/// Chain id of the fixtures.
pub const CHAIN: u64 = 5;

pub fn cfg() -> ExecConfig {
    ExecConfig { chain_id: CHAIN, ..ExecConfig::default() }
}

pub fn ctx(height: u64) -> BlockContext {
    BlockContext {
        height,
        timestamp_ms: height * 1000,
        gas_limit: 1_000_000_000,
        coinbase: Address::ZERO,
        parent_state_root: B256::ZERO,
    }
}

/// A signed consortium transaction valid at `height` (blockLimit `height + 10`).
pub fn consortium(
    key: &KeyPair,
    id: u64,
    height: u64,
    to: TxKind,
    gas: u64,
    data: Vec<u8>,
) -> RecoveredTx {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(id),
        gas_price: U256::ZERO,
        gas_limit: gas,
        block_limit: height + 10,
        to,
        value: U256::ZERO,
        input: Bytes::from(data),
        chain_id: CHAIN,
        group_id: 1,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}
