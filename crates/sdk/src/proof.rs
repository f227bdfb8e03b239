//! Offline verification of a transaction proof.
//!
//! A proof (`jinlian_getTransactionProof`) carries the raw transaction and its sender, the
//! receipt, Merkle paths from both to the roots in the block header, the header, the block's
//! commit certificate and the sealer set. [`verify`] checks, with no node involved:
//!
//! 1. the sealer set is the one the verifier trusts, and it is the set the header names;
//! 2. a quorum of those sealers signed the header's hash (the certificate);
//! 3. the transaction's signature is by the sender, and (hash, sender) is in the header's
//!    transaction root at the claimed index;
//! 4. the receipt is in the header's receipt root at the same index.

use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::Decodable;
use jinlian_crypto::{CryptoSuite, PublicKey};
use jinlian_primitives::{
    Certificate, Header, MerkleProof, Receipt, RecoveredTx, Transaction, sealer_set_hash,
    tx_item_hash,
};
use serde::{Deserialize, Serialize};

/// A transaction proof as the node sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxProof {
    /// `ecdsa` or `sm`.
    pub suite: String,
    /// Raw transaction.
    pub transaction: Bytes,
    /// Its sender.
    pub sender: Address,
    /// RLP of the receipt.
    pub receipt: Bytes,
    /// Path to the header's transaction root.
    pub tx_proof: MerkleProof,
    /// Path to the header's receipt root.
    pub receipt_proof: MerkleProof,
    /// RLP of the block header.
    pub header: Bytes,
    /// RLP of the commit certificate.
    pub certificate: Bytes,
    /// The sealers the certificate is checked against, as the node reports them (a verifier
    /// passes the set it trusts to [`verify`]).
    pub sealers: Vec<String>,
}

/// What a valid proof establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The transaction and its sender.
    pub tx: RecoveredTx,
    /// Its receipt.
    pub receipt: Receipt,
    /// The header of the block it is in.
    pub header: Header,
    /// That block's hash.
    pub block_hash: B256,
    /// Its position in the block.
    pub index: u64,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A part does not decode.
    #[error("the proof's {0} does not decode")]
    Malformed(&'static str),
    /// The header names another sealer set than the trusted one.
    #[error("the block was not sealed by the trusted sealer set")]
    NotTrustedSealers,
    /// The certificate does not hold.
    #[error("the commit certificate does not hold: {0}")]
    Certificate(String),
    /// The transaction's signature is not its sender's.
    #[error("the transaction is not signed by the claimed sender")]
    Sender,
    /// A Merkle path does not lead to the header's root.
    #[error("the {0} is not in the block at the claimed position")]
    NotIncluded(&'static str),
}

fn decode<T: Decodable>(b: &[u8], what: &'static str) -> Result<T, ProofError> {
    let mut s = b;
    let v = T::decode(&mut s).map_err(|_| ProofError::Malformed(what))?;
    if !s.is_empty() {
        return Err(ProofError::Malformed(what));
    }
    Ok(v)
}

/// The sealer list in a proof (for verifiers that take it from the node they asked).
pub fn sealers_of(p: &TxProof) -> Result<Vec<PublicKey>, ProofError> {
    p.sealers
        .iter()
        .map(|s| {
            alloy_primitives::hex::decode(s.trim_start_matches("0x"))
                .ok()
                .and_then(|b| PublicKey::from_slice(&b))
                .ok_or(ProofError::Malformed("sealer list"))
        })
        .collect()
}

/// Checks `p` against the sealer set the verifier trusts (from the genesis, or the set it
/// followed since).
pub fn verify(p: &TxProof, trusted_sealers: &[PublicKey]) -> Result<Verified, ProofError> {
    let suite = match p.suite.as_str() {
        "ecdsa" => CryptoSuite::Ecdsa,
        "sm" => CryptoSuite::Sm,
        _ => return Err(ProofError::Malformed("suite")),
    };
    let header: Header = decode(&p.header, "header")?;
    let certificate: Certificate = decode(&p.certificate, "certificate")?;
    let mut sealers = trusted_sealers.to_vec();
    sealers.sort();
    if sealer_set_hash(suite, &sealers) != header.sealer_set_hash {
        return Err(ProofError::NotTrustedSealers);
    }
    let block_hash = header.hash(suite);
    certificate
        .verify(suite, &block_hash, &sealers)
        .map_err(|e| ProofError::Certificate(e.to_string()))?;
    let tx = Transaction::decode(&p.transaction, suite)
        .map_err(|_| ProofError::Malformed("transaction"))?;
    let sender = tx.recover_sender(suite).map_err(|_| ProofError::Sender)?;
    if sender != p.sender {
        return Err(ProofError::Sender);
    }
    let item = tx_item_hash(suite, &tx.hash(), &sender);
    if !p.tx_proof.verify(suite, &item, &header.tx_root) {
        return Err(ProofError::NotIncluded("transaction"));
    }
    let receipt =
        Receipt::decode_exact(&p.receipt).map_err(|_| ProofError::Malformed("receipt"))?;
    if p.receipt_proof.index != p.tx_proof.index
        || !p.receipt_proof.verify(suite, &receipt.hash(suite), &header.receipt_root)
    {
        return Err(ProofError::NotIncluded("receipt"));
    }
    Ok(Verified {
        tx: RecoveredTx { tx, sender },
        receipt,
        header,
        block_hash,
        index: p.tx_proof.index,
    })
}
