//! secp256k1 through libsecp256k1.

use crate::{CryptoError, PublicKey, Signature};
use alloy_primitives::B256;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, SECP256K1, SecretKey};

/// The curve order n, big-endian.
pub(crate) const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// n / 2, big-endian: the largest `s` a canonical (low-S) signature may have.
pub(crate) const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

pub(crate) fn secret_key(secret: &[u8; 32]) -> Result<SecretKey, CryptoError> {
    SecretKey::from_byte_array(*secret).map_err(|_| CryptoError::InvalidSecretKey)
}

pub(crate) fn public_of(sk: &SecretKey) -> PublicKey {
    to_public(&secp256k1::PublicKey::from_secret_key_global(sk))
}

fn to_public(pk: &secp256k1::PublicKey) -> PublicKey {
    let full = pk.serialize_uncompressed();
    let mut out = [0u8; 64];
    out.copy_from_slice(&full[1..]);
    PublicKey(out)
}

pub(crate) fn validate_public(public: &PublicKey) -> bool {
    let mut full = [4u8; 65];
    full[1..].copy_from_slice(public.as_bytes());
    secp256k1::PublicKey::from_byte_array_uncompressed(full).is_ok()
}

pub(crate) fn sign(sk: &SecretKey, digest: &B256) -> Signature {
    let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), sk);
    let (recid, rs) = sig.serialize_compact();
    // libsecp256k1 always produces low-S signatures, so the result passes our own checks.
    Signature::Ecdsa {
        r: B256::from_slice(&rs[..32]),
        s: B256::from_slice(&rs[32..]),
        y_parity: i32::from(recid) == 1,
    }
}

pub(crate) fn recover(
    digest: &B256,
    r: &B256,
    s: &B256,
    y_parity: bool,
) -> Result<PublicKey, CryptoError> {
    if r.is_zero() || s.is_zero() {
        return Err(CryptoError::MalformedSignature("r and s must be non-zero"));
    }
    if r.0 >= ORDER || s.0 >= ORDER {
        return Err(CryptoError::MalformedSignature("r and s must be below the curve order"));
    }
    if s.0 > HALF_ORDER {
        return Err(CryptoError::HighS);
    }
    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(r.as_slice());
    rs[32..].copy_from_slice(s.as_slice());
    let recid = if y_parity { RecoveryId::One } else { RecoveryId::Zero };
    let sig = RecoverableSignature::from_compact(&rs, recid)
        .map_err(|_| CryptoError::MalformedSignature("not a valid secp256k1 signature"))?;
    let pk = SECP256K1
        .recover_ecdsa(Message::from_digest(digest.0), &sig)
        .map_err(|_| CryptoError::BadSignature)?;
    Ok(to_public(&pk))
}
