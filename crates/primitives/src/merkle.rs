//! Binary Merkle trees over item hashes, with proofs a third party can check offline.
//!
//! - leaf = H(0x00 ‖ item_hash), node = H(0x01 ‖ left ‖ right); a node without a sibling is
//!   promoted to the next level unchanged;
//! - root = H(0x02 ‖ u64be(leaf count) ‖ top), so the number of items is committed too and a
//!   proof cannot claim a position in a tree of another size.
//!
//! H is the chain's hash (Keccak-256 or SM3).

use alloy_primitives::B256;
use alloy_rlp::{RlpDecodable, RlpEncodable};
use jinlian_crypto::CryptoSuite;

const LEAF: u8 = 0;
const NODE: u8 = 1;
const ROOT: u8 = 2;

/// Largest tree a proof may describe; bounds the work of verifying hostile proofs.
const MAX_DEPTH: usize = 64;

fn leaf(suite: CryptoSuite, item: &B256) -> B256 {
    suite.hash_parts(&[&[LEAF], item.as_slice()])
}

fn node(suite: CryptoSuite, left: &B256, right: &B256) -> B256 {
    suite.hash_parts(&[&[NODE], left.as_slice(), right.as_slice()])
}

fn seal(suite: CryptoSuite, count: u64, top: &B256) -> B256 {
    suite.hash_parts(&[&[ROOT], &count.to_be_bytes(), top.as_slice()])
}

/// The root of the tree over `items` (item hashes, in order).
pub fn merkle_root(suite: CryptoSuite, items: &[B256]) -> B256 {
    let mut level: Vec<B256> = items.iter().map(|i| leaf(suite, i)).collect();
    while level.len() > 1 {
        level = next_level(suite, &level);
    }
    seal(suite, items.len() as u64, level.first().unwrap_or(&B256::ZERO))
}

/// Builds the same root as [`merkle_root`] one item at a time, so a tree can be hashed while
/// its items are still being produced. It keeps one pending node per level.
#[derive(Debug, Clone)]
pub struct MerkleBuilder {
    suite: CryptoSuite,
    count: u64,
    /// `pending[l]`: a complete subtree of 2^l leaves waiting for its right sibling.
    pending: Vec<Option<B256>>,
}

impl MerkleBuilder {
    /// An empty tree.
    pub fn new(suite: CryptoSuite) -> Self {
        Self { suite, count: 0, pending: Vec::new() }
    }

    /// Appends an item hash.
    pub fn push(&mut self, item: &B256) {
        let mut n = leaf(self.suite, item);
        let mut level = 0;
        loop {
            if level == self.pending.len() {
                self.pending.push(None);
            }
            match self.pending[level].take() {
                Some(left) => {
                    n = node(self.suite, &left, &n);
                    level += 1;
                }
                None => {
                    self.pending[level] = Some(n);
                    break;
                }
            }
        }
        self.count += 1;
    }

    /// The root. Going up, an unpaired node joins the partial subtree to its right, or is
    /// promoted alone, exactly as level-by-level hashing does.
    pub fn finish(self) -> B256 {
        let mut carry: Option<B256> = None;
        for slot in self.pending {
            carry = match (slot, carry) {
                (Some(left), Some(right)) => Some(node(self.suite, &left, &right)),
                (Some(only), None) => Some(only),
                (None, c) => c,
            };
        }
        seal(self.suite, self.count, &carry.unwrap_or(B256::ZERO))
    }
}

fn next_level(suite: CryptoSuite, level: &[B256]) -> Vec<B256> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node(suite, l, r),
            [only] => *only,
            _ => unreachable!("chunks(2) yields one or two items"),
        })
        .collect()
}

/// Proof that an item hash is at `index` among `leaf_count` items under a root.
#[derive(
    Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable, serde::Serialize, serde::Deserialize,
)]
pub struct MerkleProof {
    /// Position of the item.
    pub index: u64,
    /// Number of items in the tree.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf level up (levels where the node was promoted have none).
    pub siblings: Vec<B256>,
}

/// Proof for item `index` of `items`, or `None` if out of range.
pub fn merkle_proof(suite: CryptoSuite, items: &[B256], index: usize) -> Option<MerkleProof> {
    if index >= items.len() {
        return None;
    }
    let mut level: Vec<B256> = items.iter().map(|i| leaf(suite, i)).collect();
    let mut pos = index;
    let mut siblings = Vec::new();
    while level.len() > 1 {
        let sib = pos ^ 1;
        if sib < level.len() {
            siblings.push(level[sib]);
        }
        level = next_level(suite, &level);
        pos /= 2;
    }
    Some(MerkleProof { index: index as u64, leaf_count: items.len() as u64, siblings })
}

impl MerkleProof {
    /// The root this proof leads to for `item`, or `None` if the proof is malformed (index
    /// out of range, too many or too few siblings).
    pub fn compute_root(&self, suite: CryptoSuite, item: &B256) -> Option<B256> {
        if self.index >= self.leaf_count || self.siblings.len() > MAX_DEPTH {
            return None;
        }
        let mut acc = leaf(suite, item);
        let (mut pos, mut width) = (self.index, self.leaf_count);
        let mut sibs = self.siblings.iter();
        while width > 1 {
            let sib = pos ^ 1;
            if sib < width {
                let s = sibs.next()?;
                acc = if pos % 2 == 0 { node(suite, &acc, s) } else { node(suite, s, &acc) };
            }
            pos /= 2;
            width = width.div_ceil(2);
        }
        if sibs.next().is_some() {
            return None;
        }
        Some(seal(suite, self.leaf_count, &acc))
    }

    /// Whether `item` is at `self.index` under `root`.
    pub fn verify(&self, suite: CryptoSuite, item: &B256, root: &B256) -> bool {
        self.compute_root(suite, item).as_ref() == Some(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(n: usize) -> Vec<B256> {
        (0..n).map(|i| B256::from(alloy_primitives::U256::from(i + 1))).collect()
    }

    #[test]
    fn small_trees_by_hand() {
        let s = CryptoSuite::Ecdsa;
        let it = items(3);
        let (a, b, c) = (leaf(s, &it[0]), leaf(s, &it[1]), leaf(s, &it[2]));
        let top = node(s, &node(s, &a, &b), &c);
        assert_eq!(merkle_root(s, &it), seal(s, 3, &top));
        assert_eq!(merkle_root(s, &it[..1]), seal(s, 1, &a));
        assert_eq!(merkle_root(s, &[]), seal(s, 0, &B256::ZERO));
        // The promoted item's proof has one sibling only.
        assert_eq!(merkle_proof(s, &it, 2).unwrap().siblings, vec![node(s, &a, &b)]);
    }

    #[test]
    fn suites_give_different_roots() {
        let it = items(5);
        assert_ne!(merkle_root(CryptoSuite::Ecdsa, &it), merkle_root(CryptoSuite::Sm, &it));
    }

    #[test]
    fn leaf_count_is_committed() {
        // Without the count in the root, item 0 of [a, b, c] would have the same proof as
        // item 0 of a four-item tree whose right half hashes to leaf(c).
        let s = CryptoSuite::Ecdsa;
        let it = items(3);
        let root = merkle_root(s, &it);
        let mut p = merkle_proof(s, &it, 0).unwrap();
        p.leaf_count = 4;
        assert!(!p.verify(s, &it[0], &root));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_proof_verifies(n in 1usize..70, sm: bool) {
            let s = if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
            let it = items(n);
            let root = merkle_root(s, &it);
            for (i, item) in it.iter().enumerate() {
                let p = merkle_proof(s, &it, i).unwrap();
                prop_assert!(p.verify(s, item, &root));
            }
            prop_assert!(merkle_proof(s, &it, n).is_none());
        }

        #[test]
        fn any_tampered_proof_fails(n in 1usize..40, pick in any::<usize>(), what in 0u8..6, flip in any::<u8>()) {
            let s = CryptoSuite::Ecdsa;
            let it = items(n);
            let root = merkle_root(s, &it);
            let i = pick % n;
            let mut p = merkle_proof(s, &it, i).unwrap();
            let mut item = it[i];
            let bit = 1u8 << (flip % 8);
            match what {
                0 => item.0[flip as usize % 32] ^= bit,
                1 if !p.siblings.is_empty() => { let k = flip as usize % p.siblings.len(); p.siblings[k].0[0] ^= bit }
                2 => p.index = (p.index + 1 + u64::from(flip) % (n as u64 + 1)) % (n as u64 + 2),
                3 => p.leaf_count = p.leaf_count + 1 + u64::from(flip),
                4 => { p.siblings.push(B256::ZERO) }
                5 if !p.siblings.is_empty() => { p.siblings.pop(); }
                _ => { let mut r = root; r.0[31] ^= bit; prop_assert!(!p.verify(s, &item, &r)); return Ok(()); }
            }
            prop_assert!(!p.verify(s, &item, &root));
        }
    }
}
