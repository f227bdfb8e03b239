//! Transactions: the Ethereum envelopes (legacy with EIP-155, EIP-2930, EIP-1559) and the
//! FISCO-2.x-compatible consortium envelope, decoded from and encoded to their wire bytes.

use crate::{CodecError, ConsortiumTx};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rlp::{Decodable, Encodable, Header, RlpDecodable, RlpEncodable};
use jinlian_crypto::{CryptoError, CryptoSuite, KeyPair, Signature};

/// Largest raw transaction accepted by [`Transaction::decode`] (128 KiB, as geth's pool).
/// Contract creation code is limited to 48 KiB by EIP-3860, so this leaves room for
/// constructor arguments.
pub const MAX_TX_BYTES: usize = 128 * 1024;

/// One entry of an EIP-2930 access list.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct AccessListItem {
    /// The account.
    pub address: Address,
    /// Its storage slots.
    pub storage_keys: Vec<B256>,
}

/// An EIP-2930 access list.
pub type AccessList = Vec<AccessListItem>;

/// The signature fields of an Ethereum transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthSignature {
    /// r.
    pub r: U256,
    /// s.
    pub s: U256,
    /// Parity of R's y coordinate (the recovery id).
    pub y_parity: bool,
}

impl EthSignature {
    fn to_crypto(self) -> Signature {
        Signature::Ecdsa { r: B256::from(self.r), s: B256::from(self.s), y_parity: self.y_parity }
    }

    fn from_crypto(sig: &Signature) -> Result<Self, CodecError> {
        match *sig {
            Signature::Ecdsa { r, s, y_parity } => {
                Ok(Self { r: U256::from_be_bytes(r.0), s: U256::from_be_bytes(s.0), y_parity })
            }
            Signature::Sm { .. } => {
                Err(CodecError::SuiteNotAllowed { envelope: "ethereum", suite: CryptoSuite::Sm })
            }
        }
    }
}

/// A legacy Ethereum transaction (RLP list of 9), with EIP-155 replay protection when
/// `chain_id` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTx {
    /// Account nonce.
    pub nonce: u64,
    /// Gas price (accepted, never charged).
    pub gas_price: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient or contract creation.
    pub to: TxKind,
    /// Value transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// EIP-155 chain id; `None` for pre-EIP-155 transactions (which chains refuse).
    pub chain_id: Option<u64>,
}

/// An EIP-2930 transaction (type 0x01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip2930Tx {
    /// Chain id.
    pub chain_id: u64,
    /// Account nonce.
    pub nonce: u64,
    /// Gas price (accepted, never charged).
    pub gas_price: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient or contract creation.
    pub to: TxKind,
    /// Value transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Access list.
    pub access_list: AccessList,
}

/// An EIP-1559 transaction (type 0x02).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Tx {
    /// Chain id.
    pub chain_id: u64,
    /// Account nonce.
    pub nonce: u64,
    /// Priority fee (accepted, never charged).
    pub max_priority_fee_per_gas: u128,
    /// Fee cap (accepted, never charged).
    pub max_fee_per_gas: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient or contract creation.
    pub to: TxKind,
    /// Value transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Access list.
    pub access_list: AccessList,
}

/// The body of a transaction, without its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxBody {
    /// Ethereum legacy.
    Legacy(LegacyTx),
    /// Ethereum EIP-2930.
    Eip2930(Eip2930Tx),
    /// Ethereum EIP-1559.
    Eip1559(Eip1559Tx),
    /// FISCO-2.x-style consortium envelope.
    Consortium(ConsortiumTx),
}

/// A signed transaction with its wire bytes and hash; its signature is not yet checked
/// (see [`Transaction::recover_sender`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    body: TxBody,
    signature: TxSignature,
    encoded: Bytes,
    hash: B256,
}

/// The signature part of a transaction as carried on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxSignature {
    /// Ethereum envelopes.
    Eth(EthSignature),
    /// Consortium envelope: `v`, `r`, `s` as big-endian byte strings, kept exactly as
    /// received so the transaction hash is of the bytes the client sent. Decoding accepts one
    /// form per value (see [`Transaction::decode`]), except that an SM2 key with leading zero
    /// bytes may come minimal (FISCO's Python SDK) or as all 64 bytes.
    Consortium {
        /// ECDSA: 27 + recovery id. SM2: the public key (64 bytes, or minimal).
        v: Bytes,
        /// r.
        r: Bytes,
        /// s.
        s: Bytes,
    },
}

/// A transaction whose signature has been verified once, with its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The transaction.
    pub tx: Transaction,
    /// Its sender.
    pub sender: Address,
}

/// Which envelope a transaction uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxType {
    /// Ethereum legacy (type 0).
    Legacy,
    /// Ethereum EIP-2930 (type 1).
    Eip2930,
    /// Ethereum EIP-1559 (type 2).
    Eip1559,
    /// Consortium envelope.
    Consortium,
}

impl Transaction {
    /// Decodes wire bytes.
    ///
    /// Typed Ethereum transactions start with their type byte (0x01, 0x02; 0x03 blob and 0x04
    /// EIP-7702 transactions are refused); an RLP list of 9 items is a legacy Ethereum
    /// transaction and a list of 13 items a consortium transaction. Decoding is strict (one
    /// canonical encoding, no trailing bytes) and bounded by [`MAX_TX_BYTES`]; it never panics.
    /// The hash is computed with `suite`'s hash for consortium transactions and Keccak-256 for
    /// Ethereum ones. Signatures are not checked here.
    pub fn decode(raw: &[u8], suite: CryptoSuite) -> Result<Self, CodecError> {
        if raw.len() > MAX_TX_BYTES {
            return Err(CodecError::TooLarge { len: raw.len(), max: MAX_TX_BYTES });
        }
        let first = *raw.first().ok_or(CodecError::Empty)?;
        let (body, signature) = match first {
            0x01 => decode_typed(&raw[1..], TxType::Eip2930)?,
            0x02 => decode_typed(&raw[1..], TxType::Eip1559)?,
            0x03 => {
                return Err(CodecError::UnsupportedType(3, "blob transactions (EIP-4844)"));
            }
            0x04 => {
                return Err(CodecError::UnsupportedType(4, "set-code transactions (EIP-7702)"));
            }
            0x00..=0x7f => return Err(CodecError::UnsupportedType(first, "unknown type")),
            0xc0..=0xff => decode_list(raw, suite)?,
            _ => {
                return Err(CodecError::Rlp(
                    "a transaction must be an RLP list or a typed envelope".into(),
                ));
            }
        };
        let hash = match body {
            TxBody::Consortium(_) => suite.hash(raw),
            _ if suite == CryptoSuite::Sm => {
                return Err(CodecError::SuiteNotAllowed { envelope: "ethereum", suite });
            }
            _ => CryptoSuite::Ecdsa.hash(raw),
        };
        Ok(Self { body, signature, encoded: Bytes::copy_from_slice(raw), hash })
    }

    /// Signs `body` with `key`. Ethereum envelopes need an `ecdsa` key; consortium envelopes
    /// take either suite and are hashed with the key's suite.
    pub fn sign(body: TxBody, key: &KeyPair) -> Result<Self, CodecError> {
        let suite = key.suite();
        let digest = signing_hash_of(&body, suite);
        let sig = key.sign(&digest);
        let signature = match &body {
            TxBody::Consortium(_) => consortium_signature(&sig),
            _ => TxSignature::Eth(EthSignature::from_crypto(&sig)?),
        };
        Self::from_parts(body, signature, suite)
    }

    /// Assembles a transaction from a body and wire signature fields (for example from a
    /// client that signs elsewhere), encoding it; `suite` hashes consortium transactions.
    pub fn from_parts(
        body: TxBody,
        signature: TxSignature,
        suite: CryptoSuite,
    ) -> Result<Self, CodecError> {
        let encoded = Bytes::from(encode_with(&body, &signature)?);
        let hash = match body {
            TxBody::Consortium(_) => suite.hash(&encoded),
            _ => CryptoSuite::Ecdsa.hash(&encoded),
        };
        Ok(Self { body, signature, encoded, hash })
    }

    /// The hash that was signed.
    pub fn signing_hash(&self, suite: CryptoSuite) -> B256 {
        signing_hash_of(&self.body, suite)
    }

    /// The transaction hash: Keccak-256 of the wire bytes for Ethereum envelopes; the chain's
    /// hash of the wire bytes for consortium ones.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The wire bytes.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }

    /// The body.
    pub fn body(&self) -> &TxBody {
        &self.body
    }

    /// The signature fields as carried on the wire.
    pub fn signature(&self) -> &TxSignature {
        &self.signature
    }

    /// The envelope.
    pub fn tx_type(&self) -> TxType {
        match self.body {
            TxBody::Legacy(_) => TxType::Legacy,
            TxBody::Eip2930(_) => TxType::Eip2930,
            TxBody::Eip1559(_) => TxType::Eip1559,
            TxBody::Consortium(_) => TxType::Consortium,
        }
    }

    /// The signature as a crypto-suite signature.
    pub fn crypto_signature(&self, suite: CryptoSuite) -> Result<Signature, CodecError> {
        match &self.signature {
            TxSignature::Eth(sig) => {
                if suite != CryptoSuite::Ecdsa {
                    return Err(CodecError::SuiteNotAllowed { envelope: "ethereum", suite });
                }
                Ok(sig.to_crypto())
            }
            TxSignature::Consortium { v, r, s } => consortium_to_crypto(suite, v, r, s),
        }
    }

    /// Verifies the signature and returns the sender. Ethereum envelopes are only valid on
    /// `ecdsa` chains.
    pub fn recover_sender(&self, suite: CryptoSuite) -> Result<Address, CodecError> {
        let sig = self.crypto_signature(suite)?;
        let digest = self.signing_hash(suite);
        Ok(suite.recover_address(&digest, &sig)?)
    }

    /// Verifies the signature once and keeps the sender with the transaction.
    pub fn into_recovered(self, suite: CryptoSuite) -> Result<RecoveredTx, CodecError> {
        let sender = self.recover_sender(suite)?;
        Ok(RecoveredTx { tx: self, sender })
    }

    /// Chain id the transaction is bound to (`None` for pre-EIP-155 legacy transactions).
    pub fn chain_id(&self) -> Option<u64> {
        match &self.body {
            TxBody::Legacy(t) => t.chain_id,
            TxBody::Eip2930(t) => Some(t.chain_id),
            TxBody::Eip1559(t) => Some(t.chain_id),
            TxBody::Consortium(t) => Some(t.chain_id),
        }
    }

    /// Gas limit.
    pub fn gas_limit(&self) -> u64 {
        match &self.body {
            TxBody::Legacy(t) => t.gas_limit,
            TxBody::Eip2930(t) => t.gas_limit,
            TxBody::Eip1559(t) => t.gas_limit,
            TxBody::Consortium(t) => t.gas_limit,
        }
    }

    /// Recipient or contract creation.
    pub fn to(&self) -> TxKind {
        match &self.body {
            TxBody::Legacy(t) => t.to,
            TxBody::Eip2930(t) => t.to,
            TxBody::Eip1559(t) => t.to,
            TxBody::Consortium(t) => t.to,
        }
    }

    /// Value transferred.
    pub fn value(&self) -> U256 {
        match &self.body {
            TxBody::Legacy(t) => t.value,
            TxBody::Eip2930(t) => t.value,
            TxBody::Eip1559(t) => t.value,
            TxBody::Consortium(t) => t.value,
        }
    }

    /// Call data or init code.
    pub fn input(&self) -> &Bytes {
        match &self.body {
            TxBody::Legacy(t) => &t.input,
            TxBody::Eip2930(t) => &t.input,
            TxBody::Eip1559(t) => &t.input,
            TxBody::Consortium(t) => &t.input,
        }
    }

    /// The account nonce of Ethereum envelopes (`None` for consortium transactions, which use
    /// `blockLimit` and `randomid` instead).
    pub fn nonce(&self) -> Option<u64> {
        match &self.body {
            TxBody::Legacy(t) => Some(t.nonce),
            TxBody::Eip2930(t) => Some(t.nonce),
            TxBody::Eip1559(t) => Some(t.nonce),
            TxBody::Consortium(_) => None,
        }
    }

    /// The access list of typed Ethereum transactions.
    pub fn access_list(&self) -> Option<&AccessList> {
        match &self.body {
            TxBody::Eip2930(t) => Some(&t.access_list),
            TxBody::Eip1559(t) => Some(&t.access_list),
            _ => None,
        }
    }
}

fn consortium_signature(sig: &Signature) -> TxSignature {
    let minimal = |b: &[u8]| {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        Bytes::copy_from_slice(&b[start..])
    };
    match sig {
        Signature::Ecdsa { r, s, y_parity } => TxSignature::Consortium {
            v: Bytes::copy_from_slice(&[27 + u8::from(*y_parity)]),
            r: minimal(r.as_slice()),
            s: minimal(s.as_slice()),
        },
        // FISCO's python SDK sends the public key as a minimal integer; do the same.
        Signature::Sm { r, s, public } => TxSignature::Consortium {
            v: minimal(public.as_bytes()),
            r: minimal(r.as_slice()),
            s: minimal(s.as_slice()),
        },
    }
}

fn left_pad<const N: usize>(b: &[u8], what: &'static str) -> Result<[u8; N], CodecError> {
    if b.len() > N {
        return Err(CodecError::BadSignatureField(what));
    }
    let mut out = [0u8; N];
    out[N - b.len()..].copy_from_slice(b);
    Ok(out)
}

fn consortium_to_crypto(
    suite: CryptoSuite,
    v: &[u8],
    r: &[u8],
    s: &[u8],
) -> Result<Signature, CodecError> {
    let r = B256::from(left_pad::<32>(r, "r longer than 32 bytes")?);
    let s = B256::from(left_pad::<32>(s, "s longer than 32 bytes")?);
    match suite {
        CryptoSuite::Ecdsa => {
            let y_parity = match v {
                [27] => false,
                [28] => true,
                _ => return Err(CodecError::BadSignatureField("ECDSA v must be 27 or 28")),
            };
            Ok(Signature::Ecdsa { r, s, y_parity })
        }
        CryptoSuite::Sm => {
            let public = left_pad::<64>(v, "SM2 v (public key) longer than 64 bytes")?;
            Ok(Signature::Sm { r, s, public: jinlian_crypto::PublicKey(public) })
        }
    }
}

fn signing_hash_of(body: &TxBody, suite: CryptoSuite) -> B256 {
    let mut buf = Vec::with_capacity(256);
    match body {
        TxBody::Legacy(t) => {
            let mut payload = Vec::with_capacity(256);
            legacy_fields(t, &mut payload);
            if let Some(id) = t.chain_id {
                id.encode(&mut payload);
                0u8.encode(&mut payload);
                0u8.encode(&mut payload);
            }
            list_into(&payload, &mut buf);
            CryptoSuite::Ecdsa.hash(&buf)
        }
        TxBody::Eip2930(t) => {
            buf.push(1);
            let mut payload = Vec::with_capacity(256);
            eip2930_fields(t, &mut payload);
            list_into(&payload, &mut buf);
            CryptoSuite::Ecdsa.hash(&buf)
        }
        TxBody::Eip1559(t) => {
            buf.push(2);
            let mut payload = Vec::with_capacity(256);
            eip1559_fields(t, &mut payload);
            list_into(&payload, &mut buf);
            CryptoSuite::Ecdsa.hash(&buf)
        }
        TxBody::Consortium(t) => {
            let mut payload = Vec::with_capacity(256);
            t.encode_unsigned_fields(&mut payload);
            list_into(&payload, &mut buf);
            suite.hash(&buf)
        }
    }
}

pub(crate) fn list_into(payload: &[u8], out: &mut Vec<u8>) {
    Header { list: true, payload_length: payload.len() }.encode(out);
    out.extend_from_slice(payload);
}

fn legacy_fields(t: &LegacyTx, out: &mut Vec<u8>) {
    t.nonce.encode(out);
    t.gas_price.encode(out);
    t.gas_limit.encode(out);
    t.to.encode(out);
    t.value.encode(out);
    t.input.encode(out);
}

fn eip2930_fields(t: &Eip2930Tx, out: &mut Vec<u8>) {
    t.chain_id.encode(out);
    t.nonce.encode(out);
    t.gas_price.encode(out);
    t.gas_limit.encode(out);
    t.to.encode(out);
    t.value.encode(out);
    t.input.encode(out);
    t.access_list.encode(out);
}

fn eip1559_fields(t: &Eip1559Tx, out: &mut Vec<u8>) {
    t.chain_id.encode(out);
    t.nonce.encode(out);
    t.max_priority_fee_per_gas.encode(out);
    t.max_fee_per_gas.encode(out);
    t.gas_limit.encode(out);
    t.to.encode(out);
    t.value.encode(out);
    t.input.encode(out);
    t.access_list.encode(out);
}

fn encode_with(body: &TxBody, sig: &TxSignature) -> Result<Vec<u8>, CodecError> {
    let mut payload = Vec::with_capacity(256);
    let mut out = Vec::with_capacity(300);
    let eth = match sig {
        TxSignature::Eth(s) => Some(*s),
        TxSignature::Consortium { .. } => None,
    };
    match (body, eth) {
        (TxBody::Legacy(t), Some(s)) => {
            legacy_fields(t, &mut payload);
            let parity = u64::from(s.y_parity);
            let v = match t.chain_id {
                Some(id) => id.saturating_mul(2).saturating_add(35 + parity),
                None => 27 + parity,
            };
            v.encode(&mut payload);
            s.r.encode(&mut payload);
            s.s.encode(&mut payload);
        }
        (TxBody::Eip2930(t), Some(s)) => {
            out.push(1);
            eip2930_fields(t, &mut payload);
            s.y_parity.encode(&mut payload);
            s.r.encode(&mut payload);
            s.s.encode(&mut payload);
        }
        (TxBody::Eip1559(t), Some(s)) => {
            out.push(2);
            eip1559_fields(t, &mut payload);
            s.y_parity.encode(&mut payload);
            s.r.encode(&mut payload);
            s.s.encode(&mut payload);
        }
        (TxBody::Consortium(t), None) => {
            t.encode_unsigned_fields(&mut payload);
            if let TxSignature::Consortium { v, r, s } = sig {
                v.encode(&mut payload);
                r.encode(&mut payload);
                s.encode(&mut payload);
            }
        }
        _ => {
            return Err(CodecError::BadSignatureField(
                "signature fields do not belong to this envelope",
            ));
        }
    }
    list_into(&payload, &mut out);
    Ok(out)
}

/// Reads a list header and returns its payload, checking that nothing follows it.
pub(crate) fn list_payload<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], CodecError> {
    let header = Header::decode(buf)?;
    if !header.list {
        return Err(CodecError::Rlp("expected an RLP list".into()));
    }
    if buf.len() < header.payload_length {
        return Err(CodecError::Rlp("list shorter than its header says".into()));
    }
    let (payload, rest) = buf.split_at(header.payload_length);
    *buf = rest;
    Ok(payload)
}

/// Counts the items of an RLP list payload without decoding them.
fn count_items(mut payload: &[u8]) -> Result<usize, CodecError> {
    let mut n = 0;
    while !payload.is_empty() {
        let h = Header::decode(&mut payload)?;
        if payload.len() < h.payload_length {
            return Err(CodecError::Rlp("item longer than its list".into()));
        }
        payload = &payload[h.payload_length..];
        n += 1;
    }
    Ok(n)
}

pub(crate) fn finish(payload: &[u8], what: &'static str) -> Result<(), CodecError> {
    if payload.is_empty() {
        Ok(())
    } else {
        Err(CodecError::Rlp(format!("{what} has extra items")))
    }
}

fn decode_list(raw: &[u8], suite: CryptoSuite) -> Result<(TxBody, TxSignature), CodecError> {
    let mut buf = raw;
    let payload = list_payload(&mut buf)?;
    if !buf.is_empty() {
        return Err(CodecError::TrailingBytes);
    }
    match count_items(payload)? {
        9 => decode_legacy(payload),
        13 => ConsortiumTx::decode_fields(payload, suite),
        n => Err(CodecError::Rlp(format!(
            "a transaction list has 9 (Ethereum legacy) or 13 (consortium) items, got {n}"
        ))),
    }
}

fn decode_legacy(mut p: &[u8]) -> Result<(TxBody, TxSignature), CodecError> {
    let nonce = u64::decode(&mut p)?;
    let gas_price = u128::decode(&mut p)?;
    let gas_limit = u64::decode(&mut p)?;
    let to = TxKind::decode(&mut p)?;
    let value = U256::decode(&mut p)?;
    let input = Bytes::decode(&mut p)?;
    let v = u64::decode(&mut p)?;
    let r = U256::decode(&mut p)?;
    let s = U256::decode(&mut p)?;
    finish(p, "legacy transaction")?;
    let (chain_id, y_parity) = match v {
        27 | 28 => (None, v == 28),
        35.. => (Some((v - 35) / 2), (v - 35) % 2 == 1),
        _ => {
            return Err(CodecError::BadSignatureField("legacy v must be 27, 28 or >= 35"));
        }
    };
    let body = TxBody::Legacy(LegacyTx { nonce, gas_price, gas_limit, to, value, input, chain_id });
    Ok((body, TxSignature::Eth(EthSignature { r, s, y_parity })))
}

fn decode_y_parity(p: &mut &[u8]) -> Result<bool, CodecError> {
    match u8::decode(p)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(CodecError::BadSignatureField("y parity must be 0 or 1")),
    }
}

fn decode_typed(raw: &[u8], ty: TxType) -> Result<(TxBody, TxSignature), CodecError> {
    let mut buf = raw;
    let mut p = list_payload(&mut buf)?;
    if !buf.is_empty() {
        return Err(CodecError::TrailingBytes);
    }
    let chain_id = u64::decode(&mut p)?;
    let nonce = u64::decode(&mut p)?;
    let body = if ty == TxType::Eip2930 {
        let gas_price = u128::decode(&mut p)?;
        let gas_limit = u64::decode(&mut p)?;
        let to = TxKind::decode(&mut p)?;
        let value = U256::decode(&mut p)?;
        let input = Bytes::decode(&mut p)?;
        let access_list = AccessList::decode(&mut p)?;
        TxBody::Eip2930(Eip2930Tx {
            chain_id,
            nonce,
            gas_price,
            gas_limit,
            to,
            value,
            input,
            access_list,
        })
    } else {
        let max_priority_fee_per_gas = u128::decode(&mut p)?;
        let max_fee_per_gas = u128::decode(&mut p)?;
        let gas_limit = u64::decode(&mut p)?;
        let to = TxKind::decode(&mut p)?;
        let value = U256::decode(&mut p)?;
        let input = Bytes::decode(&mut p)?;
        let access_list = AccessList::decode(&mut p)?;
        TxBody::Eip1559(Eip1559Tx {
            chain_id,
            nonce,
            max_priority_fee_per_gas,
            max_fee_per_gas,
            gas_limit,
            to,
            value,
            input,
            access_list,
        })
    };
    let y_parity = decode_y_parity(&mut p)?;
    let r = U256::decode(&mut p)?;
    let s = U256::decode(&mut p)?;
    finish(p, "typed transaction")?;
    Ok((body, TxSignature::Eth(EthSignature { r, s, y_parity })))
}

impl From<CryptoError> for CodecError {
    fn from(e: CryptoError) -> Self {
        CodecError::Signature(e)
    }
}
