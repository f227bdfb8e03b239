//! The suite selector: hashing, recovery and addresses.

use crate::{CryptoError, PublicKey, Signature, secp, sm};
use alloy_primitives::{Address, B256, Keccak256};
use sm3::{Digest, Sm3};
use std::fmt;
use std::str::FromStr;

/// The crypto suite of a chain, fixed in its genesis.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CryptoSuite {
    /// secp256k1 ECDSA and Keccak-256: Ethereum compatible.
    #[default]
    Ecdsa,
    /// SM2 signatures and SM3 hashes (GB/T 32918, GB/T 32905).
    Sm,
}

impl CryptoSuite {
    /// Hash of `data` with the suite's hash function.
    pub fn hash(self, data: &[u8]) -> B256 {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// Hash of the concatenation of `parts`, without building the concatenation.
    pub fn hash_parts(self, parts: &[&[u8]]) -> B256 {
        let mut h = self.hasher();
        for p in parts {
            h.update(p);
        }
        h.finalize()
    }

    /// An incremental hasher of the suite.
    pub fn hasher(self) -> Hasher {
        match self {
            Self::Ecdsa => Hasher::Keccak(Keccak256::new()),
            Self::Sm => Hasher::Sm3(Sm3::new()),
        }
    }

    /// Address of a public key: the last 20 bytes of the hash of its 64 bytes.
    pub fn address_of(self, public: &PublicKey) -> Address {
        Address::from_slice(&self.hash(public.as_bytes())[12..])
    }

    /// The public key that signed `digest`.
    ///
    /// secp256k1: recovers the key; refuses high-S signatures and out-of-range r or s.
    /// SM2: verifies the signature (with the default id) against the key it carries.
    pub fn recover(self, digest: &B256, sig: &Signature) -> Result<PublicKey, CryptoError> {
        match (self, sig) {
            (Self::Ecdsa, Signature::Ecdsa { r, s, y_parity }) => {
                secp::recover(digest, r, s, *y_parity)
            }
            (Self::Sm, Signature::Sm { r, s, public }) => {
                sm::sm2_verify_message(public, digest.as_slice(), r, s)?;
                Ok(*public)
            }
            (expected, sig) => Err(CryptoError::WrongSuite { expected, got: sig.suite() }),
        }
    }

    /// The address of the signer of `digest`.
    pub fn recover_address(self, digest: &B256, sig: &Signature) -> Result<Address, CryptoError> {
        self.recover(digest, sig).map(|p| self.address_of(&p))
    }

    /// Checks that `expected` signed `digest`.
    pub fn verify(
        self,
        digest: &B256,
        sig: &Signature,
        expected: &PublicKey,
    ) -> Result<(), CryptoError> {
        if self.recover(digest, sig)? == *expected {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Checks that `public` is a valid point on the suite's curve.
    pub fn validate_public_key(self, public: &PublicKey) -> Result<(), CryptoError> {
        let ok = match self {
            Self::Ecdsa => secp::validate_public(public),
            Self::Sm => sm::validate_public(public),
        };
        if ok { Ok(()) } else { Err(CryptoError::InvalidPublicKey { suite: self }) }
    }

    /// The suite's name as used in configuration files: `ecdsa` or `sm`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ecdsa => "ecdsa",
            Self::Sm => "sm",
        }
    }
}

impl fmt::Display for CryptoSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CryptoSuite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ecdsa" | "secp256k1" => Ok(Self::Ecdsa),
            "sm" | "sm2" | "gm" | "guomi" => Ok(Self::Sm),
            other => Err(format!("unknown crypto suite {other:?} (expected \"ecdsa\" or \"sm\")")),
        }
    }
}

/// An incremental hash of either suite.
// Hashers live on the stack for the length of one hash; boxing the larger one would cost an
// allocation per hash on the hottest path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Hasher {
    /// Keccak-256.
    Keccak(Keccak256),
    /// SM3.
    Sm3(Sm3),
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Keccak(h) => h.update(data),
            Self::Sm3(h) => Digest::update(h, data),
        }
    }

    /// The digest.
    pub fn finalize(self) -> B256 {
        match self {
            Self::Keccak(h) => h.finalize(),
            Self::Sm3(h) => B256::from_slice(&h.finalize()),
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keccak(_) => f.write_str("Hasher::Keccak"),
            Self::Sm3(_) => f.write_str("Hasher::Sm3"),
        }
    }
}
