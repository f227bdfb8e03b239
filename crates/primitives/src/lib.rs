//! Jinlian's core types and their canonical encodings: transactions (Ethereum and consortium
//! envelopes), block headers, blocks, commit certificates, receipts, and Merkle trees.
//!
//! Everything is RLP (via `alloy-rlp`) and hashed with the chain's [`CryptoSuite`]; Ethereum
//! transactions are always hashed with Keccak-256, as Ethereum tools expect.
//!
//! - [`Transaction::decode`] tells the envelopes apart by their first bytes, decodes strictly
//!   and within [`MAX_TX_BYTES`], and never panics on hostile input.
//!   [`Transaction::recover_sender`] checks the signature; [`RecoveredTx`] keeps the sender so
//!   signatures are checked once per node.
//! - [`Header::hash`] is the block hash; a [`Block`]'s [`Certificate`] holds a quorum of
//!   sealer signatures over [`commit_digest`] and is verifiable with just the sealer list.
//! - [`merkle_root`] and [`MerkleProof`] give `tx_root`/`receipt_root` and offline proofs.
//!
//! ```
//! use jinlian_crypto::{CryptoSuite, KeyPair};
//! use jinlian_primitives::{ConsortiumTx, Transaction, TxBody};
//! use alloy_primitives::{Bytes, TxKind, U256, Address};
//!
//! let key = KeyPair::from_secret(CryptoSuite::Sm, &[1u8; 32]).unwrap();
//! let body = TxBody::Consortium(ConsortiumTx {
//!     random_id: U256::from(42), gas_price: U256::ZERO, gas_limit: 300_000, block_limit: 500,
//!     to: TxKind::Call(Address::repeat_byte(0x11)), value: U256::ZERO, input: Bytes::new(),
//!     chain_id: 1, group_id: 1, extra_data: Bytes::new(),
//! });
//! let tx = Transaction::sign(body, &key).unwrap();
//! let decoded = Transaction::decode(tx.encoded(), CryptoSuite::Sm).unwrap();
//! assert_eq!(decoded.hash(), tx.hash());
//! assert_eq!(decoded.recover_sender(CryptoSuite::Sm).unwrap(), key.address());
//! ```

mod block;
mod consortium;
mod ids;
mod merkle;
mod receipt;
mod transaction;

pub use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData, TxKind, U256};
pub use block::{
    Block, BlockTx, Certificate, CertificateError, CommitSignature, Header, MAX_BLOCK_BYTES,
    commit_digest, quorum, sealer_set_hash, tx_item_hash, tx_root,
};
pub use consortium::ConsortiumTx;
pub use ids::{GroupId, Height, View};
pub use merkle::{MerkleBuilder, MerkleProof, merkle_proof, merkle_root};
pub use receipt::{Receipt, status};
pub use transaction::{
    AccessList, AccessListItem, Eip1559Tx, Eip2930Tx, EthSignature, LegacyTx, MAX_TX_BYTES,
    RecoveredTx, Transaction, TxBody, TxSignature, TxType,
};

use jinlian_crypto::{CryptoError, CryptoSuite};

/// Why bytes could not be decoded or a transaction's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// No bytes.
    #[error("empty input")]
    Empty,
    /// Over the size limit.
    #[error("{len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Malformed RLP.
    #[error("malformed RLP: {0}")]
    Rlp(String),
    /// Bytes after the value.
    #[error("trailing bytes after the encoded value")]
    TrailingBytes,
    /// Transaction types we refuse.
    #[error("transaction type {0:#04x} is not supported: {1}")]
    UnsupportedType(u8, &'static str),
    /// A malformed signature field.
    #[error("bad signature field: {0}")]
    BadSignatureField(&'static str),
    /// The envelope cannot be used with the chain's suite.
    #[error("{envelope} transactions are not accepted on a {suite} chain")]
    SuiteNotAllowed {
        /// Envelope.
        envelope: &'static str,
        /// The chain's suite.
        suite: CryptoSuite,
    },
    /// The signature does not verify.
    #[error("invalid signature: {0}")]
    Signature(CryptoError),
    /// A Merkle root in a header does not match the body.
    #[error("{what} root mismatch: header {header}, computed {computed}")]
    RootMismatch {
        /// Which root.
        what: &'static str,
        /// In the header.
        header: B256,
        /// From the body.
        computed: B256,
    },
}

impl From<alloy_rlp::Error> for CodecError {
    fn from(e: alloy_rlp::Error) -> Self {
        CodecError::Rlp(e.to_string())
    }
}
