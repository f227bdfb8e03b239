//! SM2 signatures (GB/T 32918) with SM3 (GB/T 32905), through RustCrypto's `sm2`.
//!
//! We compute the signed digest `e = SM3(Z_A ‖ M)` ourselves (with
//! `Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)`) and hand it to the crate's
//! prehash signer and verifier, so the part that decides compatibility with FISCO BCOS and
//! other SM2 implementations is ours and is checked against the standard's example.

use crate::{CryptoError, PublicKey, Signature};
use alloy_primitives::B256;
use sm2::dsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sm2::dsa::{Signature as Sm2Signature, SigningKey, VerifyingKey};
use sm3::{Digest, Sm3};

/// The default distinguishing identifier of GB/T 35276 (and FISCO BCOS): `1234567812345678`.
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

// Curve parameters of sm2p256v1 (GB/T 32918.5), big-endian.
const CURVE_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const CURVE_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const GEN_X: [u8; 32] = hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const GEN_Y: [u8; 32] = hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex in constant"),
    }
}

/// `Z_A` of GB/T 32918.2 §5.5 for a distinguishing id and a public key.
pub(crate) fn z_a(id: &[u8], public: &PublicKey) -> [u8; 32] {
    // ENTL is the id's length in bits as two bytes; ids are short constants, never peer input.
    let entl = u16::try_from(id.len() * 8).unwrap_or(u16::MAX);
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(id);
    h.update(CURVE_A);
    h.update(CURVE_B);
    h.update(GEN_X);
    h.update(GEN_Y);
    h.update(public.as_bytes());
    h.finalize().into()
}

/// The digest SM2 signs for message `msg` by the holder of `public`, with the default id:
/// `e = SM3(Z_A ‖ msg)`.
pub fn sm2_message_digest(public: &PublicKey, msg: &[u8]) -> B256 {
    let z = z_a(SM2_DEFAULT_ID.as_bytes(), public);
    let mut h = Sm3::new();
    h.update(z);
    h.update(msg);
    B256::from_slice(&h.finalize())
}

fn verifying_key(public: &PublicKey) -> Result<VerifyingKey, CryptoError> {
    let mut sec1 = [4u8; 65];
    sec1[1..].copy_from_slice(public.as_bytes());
    VerifyingKey::from_sec1_bytes(SM2_DEFAULT_ID, &sec1)
        .map_err(|_| CryptoError::InvalidPublicKey { suite: crate::CryptoSuite::Sm })
}

pub(crate) fn validate_public(public: &PublicKey) -> bool {
    verifying_key(public).is_ok()
}

/// Verifies an SM2 signature `(r, s)` by `public` over message `msg` (default id).
pub fn sm2_verify_message(
    public: &PublicKey,
    msg: &[u8],
    r: &B256,
    s: &B256,
) -> Result<(), CryptoError> {
    let sig = Sm2Signature::from_scalars(r.0, s.0)
        .map_err(|_| CryptoError::MalformedSignature("SM2 r and s must be in [1, n-1]"))?;
    let vk = verifying_key(public)?;
    let e = sm2_message_digest(public, msg);
    vk.verify_prehash(e.as_slice(), &sig).map_err(|_| CryptoError::BadSignature)
}

/// n − 1 of sm2p256v1: the one non-zero scalar below n that is not a valid SM2 secret key,
/// because signing inverts 1 + d (GB/T 32918.1 requires d in [1, n − 2]).
const ORDER_MINUS_ONE: [u8; 32] =
    hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122");

pub(crate) fn signing_key(secret: &[u8; 32]) -> Result<SigningKey, CryptoError> {
    if *secret >= ORDER_MINUS_ONE {
        return Err(CryptoError::InvalidSecretKey);
    }
    SigningKey::from_slice(SM2_DEFAULT_ID, secret).map_err(|_| CryptoError::InvalidSecretKey)
}

pub(crate) fn public_of(sk: &SigningKey) -> PublicKey {
    let sec1 = sk.verifying_key().to_sec1_bytes();
    let mut out = [0u8; 64];
    out.copy_from_slice(&sec1[1..65]);
    PublicKey(out)
}

pub(crate) fn sign(sk: &SigningKey, public: &PublicKey, msg: &[u8]) -> Signature {
    let e = sm2_message_digest(public, msg);
    // With d in [1, n-2] (checked in `signing_key`) and a 32-byte digest, the crate fails only
    // if its deterministic nonce gives r = 0 or r + k = n, which happens with probability
    // about 2^-255: not a case any input can steer us into.
    #[allow(clippy::expect_used)]
    let sig: Sm2Signature = sk.sign_prehash(e.as_slice()).expect("SM2 signing of a 32-byte digest");
    Signature::Sm {
        r: B256::from_slice(&sig.r_bytes()),
        s: B256::from_slice(&sig.s_bytes()),
        public: *public,
    }
}
