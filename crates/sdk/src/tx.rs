//! Building and signing transactions.

use crate::Error;
use alloy_primitives::{Bytes, TxKind, U256};
use jinlian_crypto::KeyPair;
use jinlian_primitives::{ConsortiumTx, LegacyTx, Transaction, TxBody};

/// Gas limit used when none is given (enough for deployments of ordinary contracts).
pub const DEFAULT_GAS: u64 = 3_000_000;
/// How many blocks ahead a consortium transaction stays valid (FISCO's SDKs use 500).
pub const BLOCK_LIMIT_AHEAD: u64 = 500;

/// What a consortium transaction carries besides its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// Chain id.
    pub chain_id: u64,
    /// Group id.
    pub group_id: u64,
    /// Last height at which it may be included (head + [`BLOCK_LIMIT_AHEAD`] is usual).
    pub block_limit: u64,
}

/// A signed consortium transaction with a fresh random id (no nonce to manage: any number of
/// them from one key can be in flight at once). Works with both suites.
pub fn consortium(
    key: &KeyPair,
    env: Envelope,
    to: TxKind,
    value: U256,
    input: impl Into<Bytes>,
    gas_limit: u64,
) -> Result<Transaction, Error> {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(rand::random::<u128>()),
        gas_price: U256::ZERO,
        gas_limit,
        block_limit: env.block_limit,
        to,
        value,
        input: input.into(),
        chain_id: env.chain_id,
        group_id: env.group_id,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).map_err(|e| Error::Tx(e.to_string()))
}

/// A signed Ethereum (EIP-155 legacy) transaction; secp256k1 keys only.
pub fn ethereum(
    key: &KeyPair,
    chain_id: u64,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: impl Into<Bytes>,
    gas_limit: u64,
) -> Result<Transaction, Error> {
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit,
        to,
        value,
        input: input.into(),
        chain_id: Some(chain_id),
    });
    Transaction::sign(body, key).map_err(|e| Error::Tx(e.to_string()))
}

/// `0x`-prefixed hex of a transaction's wire bytes (for `eth_sendRawTransaction`).
pub fn raw_hex(tx: &Transaction) -> String {
    format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
}
