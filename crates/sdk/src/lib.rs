//! Jinlian's Rust SDK.
//!
//! - Keys of both suites ([`KeyPair`], [`KeyFile`]).
//! - Transactions: the consortium envelope ([`tx::consortium`]: a random id instead of a
//!   nonce, so concurrent senders from one account just work) and Ethereum's
//!   ([`tx::ethereum`]).
//! - [`Client`]: JSON-RPC over HTTP or WebSocket, with typed contract calls
//!   (`alloy-sol-types`) and waiting for receipts.
//! - [`proof`]: offline verification of a transaction proof (`jinlian_getTransactionProof`)
//!   against sealers the verifier trusts.
//!
//! ```no_run
//! # async fn demo() -> Result<(), jinlian_sdk::Error> {
//! use jinlian_sdk::{Client, CryptoSuite, KeyPair, Signer};
//! let client = Client::connect("http://127.0.0.1:8545").await?;
//! let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[7; 32])?;
//! let signer = Signer::new(&client, key).await?;
//! let receipt = signer.transfer(alloy_primitives::Address::repeat_byte(1), alloy_primitives::U256::ZERO).await?;
//! assert!(receipt.success());
//! # Ok(()) }
//! ```

pub mod client;
pub mod proof;
pub mod tx;

pub use client::{Client, Receipt, Signer};
pub use jinlian_crypto::{CryptoError, CryptoSuite, KeyFile, KeyPair, PublicKey};
pub use proof::{ProofError, TxProof, Verified};

/// What can go wrong talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node answered with an error (code and message as sent).
    #[error("{message} (JSON-RPC error {code}{})", data.as_ref().map(|d| format!(", data {d}")).unwrap_or_default())]
    Rpc {
        /// JSON-RPC error code.
        code: i32,
        /// Message.
        message: String,
        /// Error data (revert data for code 3).
        data: Option<String>,
    },
    /// The connection or the transport failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The node's answer is not what the method returns.
    #[error("unexpected answer to {method}: {detail}")]
    Answer {
        /// Method.
        method: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Keys.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Building a transaction.
    #[error("transaction: {0}")]
    Tx(String),
    /// No receipt in time (the transaction may still be committed later).
    #[error("no receipt for {0} yet: it may still be committed; check later with its hash")]
    Timeout(alloy_primitives::B256),
}
