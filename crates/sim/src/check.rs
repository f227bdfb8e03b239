//! Checkers: the properties a run must have, restated from the stored chains alone.
//!
//! They do not call the consensus crate's predicates (quorum, certificate verification):
//! counting signers, hashing headers and comparing chains is done here again, so a bug in
//! the production rule cannot hide itself.

use alloy_primitives::B256;
use alloy_rlp::Encodable;
use jinlian_crypto::{CryptoSuite, PublicKey, Signature};
use jinlian_primitives::Block;
use std::collections::{BTreeMap, BTreeSet};

/// What an honest replica durably committed.
#[derive(Debug, Clone, Copy)]
pub struct HonestView<'a> {
    /// Its index in the sealer list.
    pub index: usize,
    /// Blocks at heights 1, 2, … in order.
    pub chain: &'a [Block],
    /// The state root its host computed after each block.
    pub state_roots: &'a [B256],
}

fn header_hash(suite: CryptoSuite, block: &Block) -> B256 {
    let mut bytes = Vec::new();
    block.header.encode(&mut bytes);
    suite.hash(&bytes)
}

/// Every safety property; returns one line per violation.
pub fn safety(
    suite: CryptoSuite,
    genesis: &B256,
    sealers: &[PublicKey],
    honest: &[HonestView<'_>],
    submitted: &BTreeSet<u64>,
) -> Vec<String> {
    let mut v = Vec::new();
    // Byzantine quorum restated: more than two thirds of the sealers.
    let n = sealers.len();
    let need = (2 * n) / 3 + 1;

    // Agreement and equal state: one block hash and one state root per height.
    let mut by_height: BTreeMap<usize, BTreeMap<B256, Vec<usize>>> = BTreeMap::new();
    let mut roots: BTreeMap<usize, BTreeSet<B256>> = BTreeMap::new();
    for h in honest {
        for (k, b) in h.chain.iter().enumerate() {
            by_height
                .entry(k + 1)
                .or_default()
                .entry(header_hash(suite, b))
                .or_default()
                .push(h.index);
            if let Some(r) = h.state_roots.get(k) {
                roots.entry(k + 1).or_default().insert(*r);
            }
        }
    }
    for (height, hashes) in &by_height {
        if hashes.len() > 1 {
            v.push(format!(
                "agreement: height {height} has {} different blocks: {hashes:?}",
                hashes.len()
            ));
        }
    }
    for (height, r) in &roots {
        if r.len() > 1 {
            v.push(format!("state: height {height} has {} different state roots", r.len()));
        }
    }

    for h in honest {
        let mut parent = *genesis;
        let mut seen_txs = BTreeSet::new();
        for (k, b) in h.chain.iter().enumerate() {
            let height = k as u64 + 1;
            // Prefix order: consecutive heights, each on its parent.
            if b.header.height.0 != height {
                v.push(format!(
                    "order: replica {} has height {} at position {height}",
                    h.index, b.header.height
                ));
            }
            if b.header.parent_hash != parent {
                v.push(format!(
                    "order: replica {} block {height} does not extend its parent",
                    h.index
                ));
            }
            let hash = header_hash(suite, b);
            parent = hash;
            // Certificate: signatures of distinct sealers over the commit digest of the block
            // in the certificate's view, > 2n/3.
            let view = b.certificate.view.0.to_be_bytes();
            let digest = suite.hash_parts(&[b"jinlian/commit/v1", hash.as_slice(), &view]);
            let mut signers = BTreeSet::new();
            for s in &b.certificate.signatures {
                let Some(key) = sealers.get(s.sealer_index as usize) else {
                    continue;
                };
                let Ok(sig) = Signature::from_bytes(suite, &s.signature) else {
                    continue;
                };
                if suite.recover(&digest, &sig).ok() == Some(*key) {
                    signers.insert(s.sealer_index);
                }
            }
            if signers.len() < need {
                v.push(format!(
                    "certificate: replica {} block {height} has {} valid signers, needs {need}",
                    h.index,
                    signers.len()
                ));
            }
            // Validity: only submitted transactions, each once in the chain.
            for t in &b.txs {
                let id = <[u8; 8]>::try_from(t.raw.as_ref()).map(u64::from_be_bytes);
                match id {
                    Ok(id) if submitted.contains(&id) => {
                        if !seen_txs.insert(id) {
                            v.push(format!(
                                "validity: replica {} committed transaction {id} twice",
                                h.index
                            ));
                        }
                    }
                    _ => v.push(format!(
                        "validity: replica {} block {height} holds a transaction nobody submitted",
                        h.index
                    )),
                }
            }
            if b.txs.is_empty() {
                v.push(format!(
                    "validity: replica {} committed an empty block at {height}",
                    h.index
                ));
            }
        }
    }
    v
}

/// No honest replica ever sent two different prepare (or commit) hashes for one (height,
/// view), restarts included: `votes` maps (replica, height, view, kind) to the hashes it sent.
pub fn votes(votes: &BTreeMap<(usize, u64, u64, u8), BTreeSet<B256>>) -> Vec<String> {
    votes
        .iter()
        .filter(|(_, hashes)| hashes.len() > 1)
        .map(|((node, height, view, kind), hashes)| {
            let kind = if *kind == 1 { "prepare" } else { "commit" };
            format!(
                "double vote: replica {node} sent {} different {kind} hashes at height {height} view {view}",
                hashes.len()
            )
        })
        .collect()
}
