//! Jinlian's two crypto suites behind one API: `ecdsa` (secp256k1 + Keccak-256, Ethereum
//! compatible) and `sm` (SM2 + SM3, the Chinese national standards, 国密).
//!
//! A chain picks its suite in genesis and never mixes them. Everything that hashes or signs
//! goes through [`CryptoSuite`], so the rest of the system does not care which one is in use:
//!
//! - [`CryptoSuite::hash`]: Keccak-256 or SM3.
//! - [`KeyPair::sign`]: secp256k1 ECDSA with a recovery id (always low-S), or SM2 with the
//!   default distinguishing id `1234567812345678`, carrying the signer's public key because SM2
//!   has no public-key recovery (FISCO BCOS does the same).
//! - [`CryptoSuite::recover`]: the signer's public key of a signature over a 32-byte digest.
//!   For secp256k1 this recovers the key and refuses high-S (malleated) signatures; for SM2 it
//!   verifies the signature against the key it carries.
//! - [`CryptoSuite::address_of`]: the last 20 bytes of the hash of the 64-byte public key.
//! - The node id of a node is its 64-byte public key ([`PublicKey`]).
//!
//! The crate is pure: no I/O, no clock, no global random number generator. Key generation
//! takes the caller's RNG.
//!
//! ```
//! use jinlian_crypto::{CryptoSuite, KeyPair};
//! let key = KeyPair::from_secret(CryptoSuite::Sm, &[7u8; 32]).unwrap();
//! let digest = CryptoSuite::Sm.hash(b"transfer 100 to bank B");
//! let sig = key.sign(&digest);
//! assert_eq!(CryptoSuite::Sm.recover(&digest, &sig).unwrap(), key.public());
//! assert_eq!(CryptoSuite::Sm.address_of(&key.public()), key.address());
//! ```

mod keypair;
mod secp;
mod signature;
mod sm;
mod suite;

pub use alloy_primitives::{Address, B256};
pub use keypair::{KeyFile, KeyPair, PublicKey, SecretBytes};
pub use signature::Signature;
pub use sm::{SM2_DEFAULT_ID, sm2_message_digest, sm2_verify_message};
pub use suite::{CryptoSuite, Hasher};

/// A node's identity: its suite public key, shown as 128 hex characters (as in FISCO BCOS).
pub type NodeId = PublicKey;

/// Why a key, signature or key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The secret key is zero or not below the curve order.
    #[error("invalid secret key: must be a non-zero scalar below the curve order")]
    InvalidSecretKey,
    /// The 64 bytes are not a point on the suite's curve.
    #[error("invalid public key: not a point on the {suite} curve")]
    InvalidPublicKey {
        /// The suite whose curve was expected.
        suite: CryptoSuite,
    },
    /// Malformed signature bytes (wrong length, r or s zero or not below the order).
    #[error("malformed signature: {0}")]
    MalformedSignature(&'static str),
    /// A secp256k1 signature whose `s` is in the upper half of the order (EIP-2).
    #[error("signature s value is not low (s > n/2): malleated or non-canonical signature")]
    HighS,
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A signature of one suite was given to the other.
    #[error("signature of suite {got} presented to a {expected} chain")]
    WrongSuite {
        /// The chain's suite.
        expected: CryptoSuite,
        /// The signature's suite.
        got: CryptoSuite,
    },
    /// A key file that cannot be read.
    #[error("invalid key file: {0}")]
    InvalidKeyFile(String),
}
