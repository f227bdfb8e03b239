//! What nodes say to each other, after the TLS handshake.
//!
//! A frame is `u32 length | u8 version | u32 group | u8 module | payload` (big endian; the
//! length counts what follows it). Every frame is bounded by the configured maximum before
//! its body is read, and every payload decodes strictly: a peer whose frame is malformed or
//! whose payload does not decode is disconnected (frames of a group this node does not serve
//! are ignored).

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use jinlian_primitives::Block;

/// Protocol version carried in every frame (2: connections open with a `Hello`). Nodes of
/// different versions do not talk: upgrade a chain's nodes together.
pub const VERSION: u8 = 2;
/// Bytes of the frame header after the length.
pub const HEADER: usize = 6;
/// Most transactions in one `Txs` frame.
pub const MAX_TXS_PER_FRAME: usize = 2_000;
/// Most blocks asked for or sent in one sync exchange.
pub const MAX_SYNC_BLOCKS: u64 = 32;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// [`Status`].
    Status = 0,
    /// A consensus message (`SignedMessage` bytes).
    Consensus = 1,
    /// [`Txs`].
    Txs = 2,
    /// [`SyncRequest`].
    SyncRequest = 3,
    /// [`SyncBlocks`].
    SyncBlocks = 4,
    /// The first frame on a connection: the sender's signature over the TLS session's
    /// exported key material, proving it holds the node key its certificate names
    /// ([`crate::net::hello_frame`]).
    Hello = 5,
}

impl Module {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Module::Status,
            1 => Module::Consensus,
            2 => Module::Txs,
            3 => Module::SyncRequest,
            4 => Module::SyncBlocks,
            5 => Module::Hello,
            _ => return None,
        })
    }
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Group.
    pub group: u32,
    /// Module.
    pub module: Module,
    /// Payload.
    pub payload: Bytes,
}

/// Why a frame was refused (the peer is disconnected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Longer than allowed.
    #[error("frame of {0} bytes is over the limit of {1}")]
    TooLong(usize, usize),
    /// Shorter than a header.
    #[error("frame of {0} bytes is shorter than its header")]
    TooShort(usize),
    /// Unknown version.
    #[error("unknown protocol version {0}")]
    Version(u8),
    /// Unknown module.
    #[error("unknown module {0}")]
    Module(u8),
    /// A payload that does not decode.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

impl Frame {
    /// A frame for group `group`.
    pub fn new(group: u32, module: Module, payload: impl Into<Bytes>) -> Self {
        Self { group, module, payload: payload.into() }
    }

    /// Length prefix, header and payload.
    pub fn encode(&self) -> Vec<u8> {
        let len = HEADER + self.payload.len();
        let mut out = Vec::with_capacity(4 + len);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(VERSION);
        out.extend_from_slice(&self.group.to_be_bytes());
        out.push(self.module as u8);
        out.extend_from_slice(&self.payload);
        out
    }

    /// Checks a length prefix before the body is read.
    pub fn check_len(len: u32, max: usize) -> Result<usize, WireError> {
        let len = len as usize;
        if len > max {
            return Err(WireError::TooLong(len, max));
        }
        if len < HEADER {
            return Err(WireError::TooShort(len));
        }
        Ok(len)
    }

    /// Decodes a frame body (what follows the length prefix).
    pub fn decode_body(body: &[u8]) -> Result<Self, WireError> {
        if body.len() < HEADER {
            return Err(WireError::TooShort(body.len()));
        }
        if body[0] != VERSION {
            return Err(WireError::Version(body[0]));
        }
        let group = u32::from_be_bytes([body[1], body[2], body[3], body[4]]);
        let module = Module::from_u8(body[5]).ok_or(WireError::Module(body[5]))?;
        Ok(Self { group, module, payload: Bytes::copy_from_slice(&body[HEADER..]) })
    }
}

fn decode_exact<T: alloy_rlp::Decodable>(bytes: &[u8], what: &'static str) -> Result<T, WireError> {
    let mut b = bytes;
    let v = T::decode(&mut b).map_err(|_| WireError::Malformed(what))?;
    if !b.is_empty() {
        return Err(WireError::Malformed(what));
    }
    Ok(v)
}

/// A node's view of its chain, sent on connect and periodically.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Status {
    /// Hash of block 0 (peers with another genesis are not of this group).
    pub genesis: B256,
    /// Height of the last committed block.
    pub height: u64,
    /// Its hash.
    pub head: B256,
}

impl Status {
    /// Decodes a payload.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        decode_exact(b, "status")
    }
}

/// New transactions (wire bytes).
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Txs {
    /// Transactions.
    pub txs: Vec<Bytes>,
}

impl Txs {
    /// Decodes a payload (at most [`MAX_TXS_PER_FRAME`] transactions). The items are
    /// counted before anything is allocated, so a frame of many tiny items costs nothing.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let bad = || WireError::Malformed("transactions");
        // Payload: a list (the struct) holding one list (the transactions).
        let mut outer = b;
        let h = alloy_rlp::Header::decode(&mut outer).map_err(|_| bad())?;
        if !h.list {
            return Err(bad());
        }
        let mut inner = outer;
        let h = alloy_rlp::Header::decode(&mut inner).map_err(|_| bad())?;
        if !h.list || h.payload_length > inner.len() {
            return Err(bad());
        }
        let mut items = &inner[..h.payload_length];
        let mut count = 0usize;
        while !items.is_empty() {
            count += 1;
            if count > MAX_TXS_PER_FRAME {
                return Err(WireError::Malformed("transactions (too many)"));
            }
            let item = alloy_rlp::Header::decode(&mut items).map_err(|_| bad())?;
            if item.payload_length > items.len() {
                return Err(bad());
            }
            items = &items[item.payload_length..];
        }
        decode_exact(b, "transactions")
    }
}

/// Asks for committed blocks `from ..= from + count - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SyncRequest {
    /// First height.
    pub from: u64,
    /// How many (at most [`MAX_SYNC_BLOCKS`]).
    pub count: u64,
}

impl SyncRequest {
    /// Decodes a payload.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let r: Self = decode_exact(b, "sync request")?;
        if r.count == 0 || r.count > MAX_SYNC_BLOCKS || r.from == 0 {
            return Err(WireError::Malformed("sync request (range)"));
        }
        Ok(r)
    }
}

/// Committed blocks, in height order, with their certificates.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SyncBlocks {
    /// Blocks.
    pub blocks: Vec<Block>,
}

impl SyncBlocks {
    /// Decodes a payload.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let s: Self = decode_exact(b, "sync blocks")?;
        if s.blocks.len() as u64 > MAX_SYNC_BLOCKS {
            return Err(WireError::Malformed("sync blocks (too many)"));
        }
        Ok(s)
    }
}
