//! Write-ahead-log entries: what a replica must remember across a crash so it never votes
//! twice.

use crate::PreparedCert;
use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable};
use jinlian_primitives::{Block, Height, View};

/// A durable record, persisted by the host before any later `Send` of the same `step`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalEntry {
    /// We are about to send `Prepare(height, view, hash)`.
    Prepare {
        /// Height.
        height: Height,
        /// View.
        view: View,
        /// Executed header hash.
        hash: B256,
    },
    /// We are about to send `Commit(height, view, hash)`.
    Commit {
        /// Height.
        height: Height,
        /// View.
        view: View,
        /// Block hash.
        hash: B256,
    },
    /// We are about to send `ViewChange(height, view)`: we never vote in a lower view again.
    ViewChange {
        /// Height.
        height: Height,
        /// The view we move to.
        view: View,
    },
    /// We hold this prepared certificate (carried into later view changes).
    Prepared(Box<PreparedCert>),
    /// We entered `view` through a valid new-view message: after a restart we are in that
    /// view, not still waiting for it, and still require the block it re-proposes.
    EnterView {
        /// Height.
        height: Height,
        /// The view entered.
        view: View,
        /// The prepared block the view must propose again, if any.
        required: Option<Box<Block>>,
    },
}

impl WalEntry {
    /// The height the entry belongs to (hosts drop entries below the next height at commit).
    pub fn height(&self) -> Height {
        match self {
            WalEntry::Prepare { height, .. }
            | WalEntry::Commit { height, .. }
            | WalEntry::ViewChange { height, .. }
            | WalEntry::EnterView { height, .. } => *height,
            WalEntry::Prepared(c) => c.block.header.height,
        }
    }

    /// Bytes for the WAL table.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        match self {
            WalEntry::Prepare { height, view, hash } => {
                out.push(1);
                (height, view, hash).encode_fields(&mut out);
            }
            WalEntry::Commit { height, view, hash } => {
                out.push(2);
                (height, view, hash).encode_fields(&mut out);
            }
            WalEntry::ViewChange { height, view } => {
                out.push(3);
                height.encode(&mut out);
                view.encode(&mut out);
            }
            WalEntry::Prepared(cert) => {
                out.push(4);
                cert.encode(&mut out);
            }
            WalEntry::EnterView { height, view, required } => {
                out.push(5);
                height.encode(&mut out);
                view.encode(&mut out);
                let list: Vec<Block> = required.iter().map(|b| (**b).clone()).collect();
                list.encode(&mut out);
            }
        }
        out
    }

    /// Parses bytes written by [`WalEntry::encode_to_vec`]; `None` if they are not an entry.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&kind, mut b) = bytes.split_first()?;
        let entry = match kind {
            1 | 2 => {
                let height = Height::decode(&mut b).ok()?;
                let view = View::decode(&mut b).ok()?;
                let hash = B256::decode(&mut b).ok()?;
                if kind == 1 {
                    WalEntry::Prepare { height, view, hash }
                } else {
                    WalEntry::Commit { height, view, hash }
                }
            }
            3 => WalEntry::ViewChange {
                height: Height::decode(&mut b).ok()?,
                view: View::decode(&mut b).ok()?,
            },
            4 => WalEntry::Prepared(Box::new(PreparedCert::decode(&mut b).ok()?)),
            5 => {
                let height = Height::decode(&mut b).ok()?;
                let view = View::decode(&mut b).ok()?;
                let mut list = Vec::<Block>::decode(&mut b).ok()?;
                if list.len() > 1 {
                    return None;
                }
                WalEntry::EnterView { height, view, required: list.pop().map(Box::new) }
            }
            _ => return None,
        };
        b.is_empty().then_some(entry)
    }
}

trait EncodeFields {
    fn encode_fields(&self, out: &mut Vec<u8>);
}

impl EncodeFields for (&Height, &View, &B256) {
    fn encode_fields(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
}
