//! The flat state layout and the read interface the executor needs.

use alloy_primitives::{Address, B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use std::collections::BTreeMap;

/// Reads the state of the parent block. Implemented by the ledger (one consistent snapshot)
/// and by [`MemState`] in tests.
pub trait StateView {
    /// The value under a state key (see [`keys`]).
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// The hash of the block at `height`, for the `BLOCKHASH` opcode.
    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError>;
}

/// A state read failed; execution stops (it never becomes a failed receipt).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state: {0}")]
pub struct StateError(pub String);

impl revm::database_interface::DBErrorMarker for StateError {}

/// State keys. One flat keyspace: `a‖address` accounts, `s‖address‖slot` storage, `c‖hash`
/// code, `r‖sender‖randomid` consortium replay protection, and `x‖blockLimit` the lists that
/// prune those records once their blockLimit has passed.
pub mod keys {
    use alloy_primitives::{Address, B256, U256};

    /// Account record key.
    pub fn account(a: &Address) -> Vec<u8> {
        let mut k = Vec::with_capacity(21);
        k.push(b'a');
        k.extend_from_slice(a.as_slice());
        k
    }

    /// Storage slot key.
    pub fn storage(a: &Address, slot: &U256) -> Vec<u8> {
        let mut k = Vec::with_capacity(53);
        k.push(b's');
        k.extend_from_slice(a.as_slice());
        k.extend_from_slice(&slot.to_be_bytes::<32>());
        k
    }

    /// Contract code key.
    pub fn code(hash: &B256) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(b'c');
        k.extend_from_slice(hash.as_slice());
        k
    }

    /// Length of a `randomid` record key without its `r` prefix (sender ‖ randomid).
    pub const RANDOM_ID_RECORD: usize = 20 + 32;

    /// The list of `randomid` records (sender ‖ randomid, concatenated) whose blockLimit is
    /// `block_limit`, pruned at height `block_limit + 1`.
    pub fn random_expiry(block_limit: u64) -> Vec<u8> {
        let mut k = Vec::with_capacity(9);
        k.push(b'x');
        k.extend_from_slice(&block_limit.to_be_bytes());
        k
    }

    /// Consortium `randomid` record of a sender.
    pub fn random_id(sender: &Address, random_id: &U256) -> Vec<u8> {
        let mut k = Vec::with_capacity(53);
        k.push(b'r');
        k.extend_from_slice(sender.as_slice());
        k.extend_from_slice(&random_id.to_be_bytes::<32>());
        k
    }
}

/// The stored form of an account.
#[derive(Debug, Clone, PartialEq, Eq, Default, RlpEncodable, RlpDecodable)]
pub struct AccountRecord {
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Hash of its code (Keccak-256 of the bytecode; the empty-code hash for none).
    pub code_hash: B256,
}

impl AccountRecord {
    /// Encoded bytes.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }

    /// Decodes stored bytes.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let mut b = bytes;
        let r = <Self as alloy_rlp::Decodable>::decode(&mut b)
            .map_err(|e| StateError(format!("account record: {e}")))?;
        if !b.is_empty() {
            return Err(StateError("account record: trailing bytes".into()));
        }
        Ok(r)
    }
}

/// An in-memory state, for tests, genesis building and the simulator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemState {
    /// Key → value.
    pub entries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Height → block hash.
    pub block_hashes: BTreeMap<u64, B256>,
}

impl MemState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an account's balance and nonce (no code).
    pub fn set_account(&mut self, a: Address, nonce: u64, balance: U256) {
        let rec = AccountRecord { nonce, balance, code_hash: revm::primitives::KECCAK_EMPTY };
        self.entries.insert(keys::account(&a), rec.encode_to_vec());
    }

    /// Applies a block's write set.
    pub fn apply(&mut self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        for (k, v) in writes {
            match v {
                Some(v) => self.entries.insert(k.clone(), v.clone()),
                None => self.entries.remove(k),
            };
        }
    }

    /// An account's record, if it exists.
    pub fn account(&self, a: &Address) -> Option<AccountRecord> {
        self.entries.get(&keys::account(a)).and_then(|v| AccountRecord::decode_bytes(v).ok())
    }

    /// A storage slot (zero if unset).
    pub fn storage(&self, a: &Address, slot: U256) -> U256 {
        self.entries.get(&keys::storage(a, &slot)).map_or(U256::ZERO, |v| U256::from_be_slice(v))
    }
}

impl StateView for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.entries.get(key).cloned())
    }

    fn block_hash(&self, height: u64) -> Result<Option<B256>, StateError> {
        Ok(self.block_hashes.get(&height).copied())
    }
}
