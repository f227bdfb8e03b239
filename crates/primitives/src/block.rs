//! Block headers, blocks and commit certificates.

use crate::merkle::merkle_root;
use crate::{CodecError, GroupId, Height, RecoveredTx, Transaction, View};
use alloy_primitives::{Address, B256, Bloom, Bytes};
use alloy_rlp::{Decodable, RlpDecodable, RlpEncodable};
use jinlian_crypto::{CryptoError, CryptoSuite, PublicKey, Signature};

/// Largest encoded block [`Block::decode`] accepts (64 MiB).
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;

/// A block header. Its RLP encoding is hashed with the chain's hash to give the block hash.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Header {
    /// Hash of the parent block (zero for genesis).
    pub parent_hash: B256,
    /// Height (genesis is 0).
    pub height: Height,
    /// Proposal time, milliseconds since the Unix epoch (EVM `block.timestamp` is seconds).
    pub timestamp_ms: u64,
    /// Group (ledger) id.
    pub group_id: GroupId,
    /// Chain id of the group.
    pub chain_id: u64,
    /// Index of the proposer in the sorted sealer list.
    pub proposer: u32,
    /// Hash of the sealer list that certifies this block.
    pub sealer_set_hash: B256,
    /// Merkle root over H(tx_hash ‖ sender) of the block's transactions.
    pub tx_root: B256,
    /// Merkle root over the receipt hashes.
    pub receipt_root: B256,
    /// H(parent state root ‖ H(rlp(sorted write set))).
    pub state_root: B256,
    /// Gas used by all transactions.
    pub gas_used: u64,
    /// Gas limit of the block.
    pub gas_limit: u64,
    /// Bloom filter of all logs.
    pub logs_bloom: Bloom,
    /// Extra data (genesis: the chain configuration).
    pub extra: Bytes,
}

impl Header {
    /// The block hash: the chain's hash of the header's RLP encoding.
    pub fn hash(&self, suite: CryptoSuite) -> B256 {
        suite.hash(&alloy_rlp::encode(self))
    }
}

/// A transaction as carried in a block: its wire bytes and the sender fixed by the block's
/// certificate (through the transaction root), so nodes that trust the certificate need not
/// recover signatures again.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockTx {
    /// Wire bytes of the transaction.
    pub raw: Bytes,
    /// Its sender.
    pub sender: Address,
}

/// One sealer's commit signature.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct CommitSignature {
    /// Index of the sealer in the sorted sealer list.
    pub sealer_index: u32,
    /// Its signature over [`commit_digest`] of the block in the certificate's view (65 or
    /// 128 bytes, see [`Signature`]).
    pub signature: Bytes,
}

/// Proof that a quorum of sealers committed a block. Not part of the block hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, RlpEncodable, RlpDecodable)]
pub struct Certificate {
    /// View in which the block was committed.
    pub view: View,
    /// At least a quorum of signatures, by strictly increasing sealer index.
    pub signatures: Vec<CommitSignature>,
}

/// What sealers sign to commit a block in a view: H("jinlian/commit/v1" ‖ block hash ‖
/// u64be(view)).
///
/// The view is signed so that a certificate is a quorum of commits from **one** view, as
/// PBFT's safety argument needs: commits gathered from different views could certify a block
/// that no quorum ever prepared in the same view, which a later view change may then replace.
pub fn commit_digest(suite: CryptoSuite, block_hash: &B256, view: View) -> B256 {
    suite.hash_parts(&[b"jinlian/commit/v1", block_hash.as_slice(), &view.0.to_be_bytes()])
}

/// Signatures needed among `n` sealers: n - f with f = (n - 1) / 3.
pub fn quorum(n: usize) -> usize {
    n - n.saturating_sub(1) / 3
}

/// The hash identifying a sealer list (sorted node ids).
pub fn sealer_set_hash(suite: CryptoSuite, sealers: &[PublicKey]) -> B256 {
    let mut h = suite.hasher();
    h.update(b"jinlian/sealers/v1");
    for s in sealers {
        h.update(s.as_bytes());
    }
    h.finalize()
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// No sealers to check against: a block cannot be certified by nobody.
    #[error("the sealer list is empty")]
    NoSealers,
    /// Fewer signatures than a quorum.
    #[error("certificate has {got} signatures, quorum is {quorum} of {sealers}")]
    NoQuorum {
        /// Valid distinct signatures.
        got: usize,
        /// Needed.
        quorum: usize,
        /// Sealer count.
        sealers: usize,
    },
    /// Indices are not strictly increasing (duplicates) or out of range.
    #[error("certificate sealer index {0} is out of range or out of order")]
    BadIndex(u32),
    /// A signature does not verify.
    #[error("certificate signature of sealer {index} is invalid: {error}")]
    BadSignature {
        /// The sealer index.
        index: u32,
        /// Why.
        error: CryptoError,
    },
    /// The header names another sealer list.
    #[error("header sealer set hash {header} != hash of the given sealers {given}")]
    WrongSealerSet {
        /// In the header.
        header: B256,
        /// Of the sealers given.
        given: B256,
    },
}

impl Certificate {
    /// Checks that a quorum of `sealers` (sorted node ids) signed commits of `block_hash` in
    /// the certificate's view.
    pub fn verify(
        &self,
        suite: CryptoSuite,
        block_hash: &B256,
        sealers: &[PublicKey],
    ) -> Result<(), CertificateError> {
        if sealers.is_empty() {
            return Err(CertificateError::NoSealers);
        }
        let need = quorum(sealers.len());
        if self.signatures.len() < need {
            return Err(CertificateError::NoQuorum {
                got: self.signatures.len(),
                quorum: need,
                sealers: sealers.len(),
            });
        }
        let digest = commit_digest(suite, block_hash, self.view);
        let mut last: Option<u32> = None;
        for cs in &self.signatures {
            if last.is_some_and(|l| cs.sealer_index <= l) {
                return Err(CertificateError::BadIndex(cs.sealer_index));
            }
            last = Some(cs.sealer_index);
            let Some(sealer) = sealers.get(cs.sealer_index as usize) else {
                return Err(CertificateError::BadIndex(cs.sealer_index));
            };
            let bad = |error| CertificateError::BadSignature { index: cs.sealer_index, error };
            let sig = Signature::from_bytes(suite, &cs.signature).map_err(bad)?;
            suite.verify(&digest, &sig, sealer).map_err(bad)?;
        }
        Ok(())
    }
}

/// A block: header, transactions with their senders, and the commit certificate.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions in execution order.
    pub txs: Vec<BlockTx>,
    /// Commit certificate (empty for genesis and for proposals).
    pub certificate: Certificate,
}

impl Block {
    /// Encoded bytes.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }

    /// Decodes a block, strictly and within [`MAX_BLOCK_BYTES`]. Transactions stay as bytes;
    /// see [`Block::transactions`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(CodecError::TooLarge { len: bytes.len(), max: MAX_BLOCK_BYTES });
        }
        let mut buf = bytes;
        let block = <Block as Decodable>::decode(&mut buf)?;
        if !buf.is_empty() {
            return Err(CodecError::TrailingBytes);
        }
        Ok(block)
    }

    /// The block hash.
    pub fn hash(&self, suite: CryptoSuite) -> B256 {
        self.header.hash(suite)
    }

    /// Decodes the transactions, pairing each with the sender recorded in the block (no
    /// signature recovery: the certificate vouches for the senders through `tx_root`).
    pub fn transactions(&self, suite: CryptoSuite) -> Result<Vec<RecoveredTx>, CodecError> {
        self.txs
            .iter()
            .map(|t| Ok(RecoveredTx { tx: Transaction::decode(&t.raw, suite)?, sender: t.sender }))
            .collect()
    }

    /// Checks that the transactions and senders match the header's `tx_root`.
    pub fn verify_tx_root(&self, suite: CryptoSuite) -> Result<(), CodecError> {
        let txs = self.transactions(suite)?;
        let root = tx_root(suite, txs.iter().map(|t| (t.tx.hash(), t.sender)));
        if root == self.header.tx_root {
            Ok(())
        } else {
            Err(CodecError::RootMismatch {
                what: "tx",
                header: self.header.tx_root,
                computed: root,
            })
        }
    }

    /// Checks the certificate against `sealers` and the header's sealer set hash.
    pub fn verify_certificate(
        &self,
        suite: CryptoSuite,
        sealers: &[PublicKey],
    ) -> Result<(), CertificateError> {
        let given = sealer_set_hash(suite, sealers);
        if given != self.header.sealer_set_hash {
            return Err(CertificateError::WrongSealerSet {
                header: self.header.sealer_set_hash,
                given,
            });
        }
        self.certificate.verify(suite, &self.hash(suite), sealers)
    }
}

/// The Merkle item of a transaction: H(tx_hash ‖ sender).
pub fn tx_item_hash(suite: CryptoSuite, tx_hash: &B256, sender: &Address) -> B256 {
    suite.hash_parts(&[tx_hash.as_slice(), sender.as_slice()])
}

/// The transaction root of (tx hash, sender) pairs.
pub fn tx_root(suite: CryptoSuite, txs: impl IntoIterator<Item = (B256, Address)>) -> B256 {
    let items: Vec<B256> = txs.into_iter().map(|(h, s)| tx_item_hash(suite, &h, &s)).collect();
    merkle_root(suite, &items)
}
