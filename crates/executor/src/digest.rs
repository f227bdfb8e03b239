//! Receipt hashes, the receipt root and the logs bloom, computed while the block executes
//! (the Merkle tree is built as receipts arrive: [`MerkleBuilder`]).
//!
//! Hashing receipts is about a fifth of a block's work and needs nothing from the EVM but
//! the receipts themselves, so on a machine with a second core a worker thread digests them
//! in batches as the EVM produces them. The result is the same either way (small blocks and
//! single-core machines digest inline).

use crate::executor::ExecError;
use alloy_primitives::map::{AddressHashMap, B256HashMap};
use alloy_primitives::{B256, Bloom, BloomInput, keccak256};
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{MerkleBuilder, Receipt};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

/// Blocks with fewer transactions are digested inline (a thread costs more than it saves).
pub(crate) const PIPELINE_MIN_TXS: usize = 512;
const BATCH: usize = 256;

/// What the receipts of a block sum up to.
pub(crate) struct Digested {
    pub receipts: Vec<Receipt>,
    pub root: B256,
    pub bloom: Bloom,
}

pub(crate) struct Digest {
    suite: CryptoSuite,
    receipts: Vec<Receipt>,
    tree: MerkleBuilder,
    bloom: Bloom,
    // Keccak of each distinct address and topic, hashed once per block (a token's address
    // and its Transfer topic appear in every log of a block of transfers).
    addresses: AddressHashMap<B256>,
    topics: B256HashMap<B256>,
}

impl Digest {
    fn new(suite: CryptoSuite, capacity: usize) -> Self {
        Self {
            suite,
            receipts: Vec::with_capacity(capacity),
            tree: MerkleBuilder::new(suite),
            bloom: Bloom::ZERO,
            addresses: AddressHashMap::default(),
            topics: B256HashMap::default(),
        }
    }

    fn add(&mut self, r: Receipt) {
        self.tree.push(&r.hash(self.suite));
        for log in &r.logs {
            let h = *self.addresses.entry(log.address).or_insert_with(|| keccak256(log.address));
            self.bloom.accrue(BloomInput::Hash(h));
            for t in log.topics() {
                let h = *self.topics.entry(*t).or_insert_with(|| keccak256(t));
                self.bloom.accrue(BloomInput::Hash(h));
            }
        }
        self.receipts.push(r);
    }

    fn finish(self) -> Digested {
        Digested { root: self.tree.finish(), receipts: self.receipts, bloom: self.bloom }
    }
}

/// Where the executor puts receipts as it produces them.
pub(crate) enum Sink<'scope> {
    Inline(Box<Digest>),
    Worker {
        batch: Vec<Receipt>,
        send: SyncSender<Vec<Receipt>>,
        worker: ScopedJoinHandle<'scope, Digest>,
    },
}

impl<'scope> Sink<'scope> {
    /// A sink for `txs` receipts: a worker thread in `scope` when the block is large and a
    /// second core exists, else inline.
    pub(crate) fn new<'env>(
        scope: &'scope Scope<'scope, 'env>,
        suite: CryptoSuite,
        txs: usize,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if txs < PIPELINE_MIN_TXS || cores < 2 {
            return Sink::Inline(Box::new(Digest::new(suite, txs)));
        }
        let (send, recv) = sync_channel::<Vec<Receipt>>(32);
        let spawned = std::thread::Builder::new().name("jinlian-receipts".into()).spawn_scoped(
            scope,
            move || {
                let mut d = Digest::new(suite, txs);
                for batch in recv {
                    for r in batch {
                        d.add(r);
                    }
                }
                d
            },
        );
        match spawned {
            Ok(worker) => Sink::Worker { batch: Vec::with_capacity(BATCH), send, worker },
            // No thread to be had (resource limits): digest inline, same result.
            Err(_) => Sink::Inline(Box::new(Digest::new(suite, txs))),
        }
    }

    pub(crate) fn push(&mut self, r: Receipt) {
        match self {
            Sink::Inline(d) => d.add(r),
            Sink::Worker { batch, send, .. } => {
                batch.push(r);
                if batch.len() == BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                    // A worker that is gone has panicked: `finish` reports it.
                    let _ = send.send(full);
                }
            }
        }
    }

    /// The receipts, their Merkle root and the block's bloom.
    pub(crate) fn finish(self) -> Result<Digested, ExecError> {
        let d = match self {
            Sink::Inline(d) => *d,
            Sink::Worker { batch, send, worker } => {
                if !batch.is_empty() {
                    let _ = send.send(batch);
                }
                drop(send);
                worker
                    .join()
                    .map_err(|_| ExecError::Evm("the receipt hashing thread panicked".into()))?
            }
        };
        Ok(d.finish())
    }
}
