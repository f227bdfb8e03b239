//! Signatures of both suites and their byte forms.

use crate::{CryptoError, CryptoSuite, PublicKey};
use alloy_primitives::B256;

/// A signature of one of the two suites.
///
/// Byte forms (as FISCO BCOS): secp256k1 `r ‖ s ‖ v` (65 bytes, `v` = recovery id 0 or 1);
/// SM2 `r ‖ s ‖ public key` (128 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signature {
    /// secp256k1 ECDSA with recovery id.
    Ecdsa {
        /// r, big-endian.
        r: B256,
        /// s, big-endian.
        s: B256,
        /// Recovery id: parity of the y coordinate of R.
        y_parity: bool,
    },
    /// SM2 with the signer's public key attached.
    Sm {
        /// r, big-endian.
        r: B256,
        /// s, big-endian.
        s: B256,
        /// The signer's public key (64 bytes, x ‖ y).
        public: PublicKey,
    },
}

impl Signature {
    /// Length of the secp256k1 byte form.
    pub const ECDSA_LEN: usize = 65;
    /// Length of the SM2 byte form.
    pub const SM_LEN: usize = 128;

    /// The suite this signature belongs to.
    pub fn suite(&self) -> CryptoSuite {
        match self {
            Self::Ecdsa { .. } => CryptoSuite::Ecdsa,
            Self::Sm { .. } => CryptoSuite::Sm,
        }
    }

    /// r, big-endian.
    pub fn r(&self) -> B256 {
        match self {
            Self::Ecdsa { r, .. } | Self::Sm { r, .. } => *r,
        }
    }

    /// s, big-endian.
    pub fn s(&self) -> B256 {
        match self {
            Self::Ecdsa { s, .. } | Self::Sm { s, .. } => *s,
        }
    }

    /// The byte form (65 bytes for secp256k1, 128 for SM2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::SM_LEN);
        out.extend_from_slice(self.r().as_slice());
        out.extend_from_slice(self.s().as_slice());
        match self {
            Self::Ecdsa { y_parity, .. } => out.push(u8::from(*y_parity)),
            Self::Sm { public, .. } => out.extend_from_slice(public.as_bytes()),
        }
        out
    }

    /// Parses the byte form of `suite`. Only the layout is checked here; the values are
    /// checked by [`CryptoSuite::recover`].
    pub fn from_bytes(suite: CryptoSuite, bytes: &[u8]) -> Result<Self, CryptoError> {
        match suite {
            CryptoSuite::Ecdsa => {
                if bytes.len() != Self::ECDSA_LEN {
                    return Err(CryptoError::MalformedSignature(
                        "secp256k1 signature must be 65 bytes",
                    ));
                }
                let y_parity = match bytes[64] {
                    0 => false,
                    1 => true,
                    _ => {
                        return Err(CryptoError::MalformedSignature("recovery id must be 0 or 1"));
                    }
                };
                Ok(Self::Ecdsa {
                    r: B256::from_slice(&bytes[..32]),
                    s: B256::from_slice(&bytes[32..64]),
                    y_parity,
                })
            }
            CryptoSuite::Sm => {
                if bytes.len() != Self::SM_LEN {
                    return Err(CryptoError::MalformedSignature("SM2 signature must be 128 bytes"));
                }
                let mut public = [0u8; 64];
                public.copy_from_slice(&bytes[64..]);
                Ok(Self::Sm {
                    r: B256::from_slice(&bytes[..32]),
                    s: B256::from_slice(&bytes[32..64]),
                    public: PublicKey(public),
                })
            }
        }
    }
}
