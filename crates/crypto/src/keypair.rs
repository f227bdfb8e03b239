//! Key pairs, public keys (node ids) and the key file format.

use crate::{CryptoError, CryptoSuite, Signature, secp, sm};
use alloy_primitives::{Address, B256, hex};
use std::fmt;
use std::str::FromStr;

/// A 64-byte public key (x ‖ y, uncompressed without the 0x04 prefix) of either suite.
///
/// It is also a node's identity ("node id"), shown as 128 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 64]);

impl PublicKey {
    /// The 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// From a slice of exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 64]>::try_from(bytes).ok().map(Self)
    }

    /// 128 lowercase hex characters, no prefix (FISCO's node id form).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}…)", &self.to_hex()[..16])
    }
}

impl FromStr for PublicKey {
    type Err = CryptoError;
    /// Accepts 128 hex characters, with or without `0x`, and the 130-character form with the
    /// uncompressed-point prefix `04`.
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let s = if s.len() == 130 { s.strip_prefix("04").unwrap_or(s) } else { s };
        let bytes = hex::decode(s)
            .map_err(|e| CryptoError::InvalidKeyFile(format!("public key is not hex: {e}")))?;
        Self::from_slice(&bytes).ok_or_else(|| {
            CryptoError::InvalidKeyFile(format!(
                "public key must be 64 bytes (128 hex characters), got {} bytes",
                bytes.len()
            ))
        })
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// 32 secret bytes, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub [u8; 32]);

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<hidden>)")
    }
}

#[derive(Clone)]
enum Signer {
    Secp(secp256k1::SecretKey),
    Sm(Box<sm2::dsa::SigningKey>),
}

/// A secret key of one suite with its public key and address.
#[derive(Clone)]
pub struct KeyPair {
    suite: CryptoSuite,
    secret: SecretBytes,
    signer: Signer,
    public: PublicKey,
    address: Address,
}

impl KeyPair {
    /// A key pair from 32 secret bytes (big-endian scalar in `[1, n-1]`).
    pub fn from_secret(suite: CryptoSuite, secret: &[u8; 32]) -> Result<Self, CryptoError> {
        let (signer, public) = match suite {
            CryptoSuite::Ecdsa => {
                let sk = secp::secret_key(secret)?;
                let public = secp::public_of(&sk);
                (Signer::Secp(sk), public)
            }
            CryptoSuite::Sm => {
                let sk = sm::signing_key(secret)?;
                let public = sm::public_of(&sk);
                (Signer::Sm(Box::new(sk)), public)
            }
        };
        Ok(Self {
            suite,
            secret: SecretBytes(*secret),
            signer,
            public,
            address: suite.address_of(&public),
        })
    }

    /// A fresh key pair from the caller's cryptographically secure RNG.
    pub fn generate<R: rand_core::RngCore + rand_core::CryptoRng>(
        suite: CryptoSuite,
        rng: &mut R,
    ) -> Self {
        loop {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            // A random 32-byte string is a valid scalar except with probability ~2^-32 (SM2)
            // or ~2^-128 (secp256k1); draw again in that case.
            if let Ok(key) = Self::from_secret(suite, &secret) {
                return key;
            }
        }
    }

    /// Signs a 32-byte digest.
    ///
    /// secp256k1 signs the digest itself; SM2 signs it as the message `M` of
    /// `e = SM3(Z_A ‖ M)`, as FISCO BCOS does with transaction hashes.
    pub fn sign(&self, digest: &B256) -> Signature {
        match &self.signer {
            Signer::Secp(sk) => secp::sign(sk, digest),
            Signer::Sm(sk) => sm::sign(sk, &self.public, digest.as_slice()),
        }
    }

    /// The suite.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// The public key, which is also the node id.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The account address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The secret bytes.
    pub fn secret(&self) -> &SecretBytes {
        &self.secret
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("suite", &self.suite)
            .field("address", &self.address)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The JSON key file written by `jinlian keygen` and read by nodes and tools.
///
/// ```json
/// { "suite": "sm", "secret_key": "0x…", "address": "0x…", "node_id": "…" }
/// ```
/// `address` and `node_id` are informative; when present they must match the secret key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// `ecdsa` or `sm`.
    pub suite: CryptoSuite,
    /// 32 bytes, hex with `0x`.
    pub secret_key: String,
    /// The account address (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// The node id (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<PublicKey>,
}

impl KeyFile {
    /// The key file of a key pair.
    pub fn new(key: &KeyPair) -> Self {
        Self {
            suite: key.suite(),
            secret_key: format!("0x{}", hex::encode(key.secret().0)),
            address: Some(key.address()),
            node_id: Some(key.public()),
        }
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        // Serialising a struct of strings and hex values cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses key file text and checks that it is consistent.
    pub fn parse(text: &str) -> Result<KeyPair, CryptoError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| CryptoError::InvalidKeyFile(e.to_string()))?;
        file.key_pair()
    }

    /// The key pair this file holds, after checking address and node id.
    pub fn key_pair(&self) -> Result<KeyPair, CryptoError> {
        let s = self.secret_key.strip_prefix("0x").unwrap_or(&self.secret_key);
        let bytes = hex::decode(s)
            .map_err(|e| CryptoError::InvalidKeyFile(format!("secret_key is not hex: {e}")))?;
        let secret = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            CryptoError::InvalidKeyFile(format!("secret_key must be 32 bytes, got {}", bytes.len()))
        })?;
        let key = KeyPair::from_secret(self.suite, &secret)?;
        if let Some(a) = self.address
            && a != key.address()
        {
            return Err(CryptoError::InvalidKeyFile(format!(
                "address {a} does not belong to the secret key (expected {})",
                key.address()
            )));
        }
        if let Some(n) = &self.node_id
            && *n != key.public()
        {
            return Err(CryptoError::InvalidKeyFile(
                "node_id does not belong to the secret key".into(),
            ));
        }
        Ok(key)
    }
}
