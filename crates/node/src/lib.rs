//! Jinlian's node: generating a chain for real hosts (CAs, node certificates, keys, genesis,
//! configuration), and — being built — the TLS network, the transaction pool, the consensus
//! host, block sync and a minimal RPC.

pub mod chain;
pub mod config;
pub mod files;
pub mod genesis;
pub mod host;
pub mod metrics;
pub mod net;
pub mod pki;
pub mod pool;
pub mod rpc;
pub mod run;
pub mod wire;
