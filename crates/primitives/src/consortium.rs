//! The consortium (FISCO-2.x-compatible) transaction envelope.

use crate::CodecError;
use crate::transaction::{TxBody, TxSignature, finish};
use alloy_primitives::{Bytes, TxKind, U256};
use alloy_rlp::{Decodable, Encodable};
use jinlian_crypto::CryptoSuite;

/// The FISCO-2.x-style transaction: an RLP list of 13 items
/// `[randomid, gasPrice, gasLimit, blockLimit, to, value, data, chainId, groupId, extraData,
/// v, r, s]`. This struct holds the first ten; the signature travels in [`TxSignature`].
///
/// Replay protection does not use account nonces: the transaction is valid only while
/// `head < block_limit <= head + 1000`, and `random_id` must be unique per sender among the
/// transactions of the last 1000 blocks and the pool. Any number of clients can therefore
/// send from one account concurrently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsortiumTx {
    /// Client-chosen random id (FISCO's "nonce"); replay protection, not a counter.
    pub random_id: U256,
    /// Gas price (accepted, never charged).
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Last height (exclusive of the head at submission) at which the transaction is valid.
    pub block_limit: u64,
    /// Recipient or contract creation (empty).
    pub to: TxKind,
    /// Value transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Chain id.
    pub chain_id: u64,
    /// Group id.
    pub group_id: u64,
    /// Free-form extra data.
    pub extra_data: Bytes,
}

impl ConsortiumTx {
    pub(crate) fn encode_unsigned_fields(&self, out: &mut Vec<u8>) {
        self.random_id.encode(out);
        self.gas_price.encode(out);
        self.gas_limit.encode(out);
        self.block_limit.encode(out);
        self.to.encode(out);
        self.value.encode(out);
        self.input.encode(out);
        self.chain_id.encode(out);
        self.group_id.encode(out);
        self.extra_data.encode(out);
    }

    pub(crate) fn decode_fields(
        mut p: &[u8],
        suite: CryptoSuite,
    ) -> Result<(TxBody, TxSignature), CodecError> {
        let tx = ConsortiumTx {
            random_id: U256::decode(&mut p)?,
            gas_price: U256::decode(&mut p)?,
            gas_limit: u64::decode(&mut p)?,
            block_limit: u64::decode(&mut p)?,
            to: TxKind::decode(&mut p)?,
            value: U256::decode(&mut p)?,
            input: Bytes::decode(&mut p)?,
            chain_id: u64::decode(&mut p)?,
            group_id: u64::decode(&mut p)?,
            extra_data: Bytes::decode(&mut p)?,
        };
        // v, r and s are read as byte strings and kept as sent, so the hash is of exactly the
        // client's bytes; their form is checked so each has one encoding.
        let v = Bytes::decode(&mut p)?;
        let r = Bytes::decode(&mut p)?;
        let s = Bytes::decode(&mut p)?;
        finish(p, "consortium transaction")?;
        for (field, name) in [(&r, "r"), (&s, "s")] {
            if field.len() > 32 || field.first() == Some(&0) {
                return Err(CodecError::BadSignatureField(if name == "r" {
                    "r must be a minimal integer of at most 32 bytes"
                } else {
                    "s must be a minimal integer of at most 32 bytes"
                }));
            }
        }
        let v_ok = match suite {
            CryptoSuite::Ecdsa => matches!(v.as_ref(), [27] | [28]),
            CryptoSuite::Sm => v.len() == 64 || (v.len() < 64 && v.first() != Some(&0)),
        };
        if !v_ok {
            return Err(CodecError::BadSignatureField(match suite {
                CryptoSuite::Ecdsa => "ECDSA v must be 27 or 28",
                CryptoSuite::Sm => "SM2 v must be the 64-byte public key or its minimal form",
            }));
        }
        Ok((TxBody::Consortium(tx), TxSignature::Consortium { v, r, s }))
    }
}
