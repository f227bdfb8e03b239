//! Consensus messages, their encoding and their signatures.

use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey, Signature};
use jinlian_primitives::{Block, Height, View, commit_digest};

/// Largest encoded consensus message accepted (a pre-prepare carries a whole block; a
/// new-view up to a quorum of view changes, each possibly with a prepared block).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

const KIND_PRE_PREPARE: u8 = 1;
const KIND_PREPARE: u8 = 2;
const KIND_COMMIT: u8 = 3;
const KIND_VIEW_CHANGE: u8 = 4;
const KIND_NEW_VIEW: u8 = 5;

/// The primary's proposal for (height, view): a block it has executed (so the header carries
/// its state and receipt roots).
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct PrePrepare {
    /// Height.
    pub height: Height,
    /// View.
    pub view: View,
    /// The proposed block (no certificate).
    pub block: Block,
}

/// A vote that the sender executed the proposal of (height, view) and got header `hash`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Prepare {
    /// Height.
    pub height: Height,
    /// View.
    pub view: View,
    /// Hash of the executed header.
    pub hash: B256,
}

/// A vote to commit block `hash` in `view`. Its signature is over [`commit_digest`] (hash and
/// view), so a quorum of one view's commits is directly the block's certificate.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Commit {
    /// Height.
    pub height: Height,
    /// View.
    pub view: View,
    /// Block hash.
    pub hash: B256,
}

/// Proof that a block was prepared in a view: the block and a quorum of signed prepares.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct PreparedCert {
    /// View in which it prepared.
    pub view: View,
    /// The block.
    pub block: Block,
    /// At least a quorum of signed `Prepare` messages for (height, view, block hash).
    pub prepares: Vec<SignedMessage>,
}

/// A request to move to `view` at `height`, carrying the sender's highest prepared
/// certificate of that height, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewChange {
    /// Height.
    pub height: Height,
    /// The view the sender wants to move to.
    pub view: View,
    /// Highest prepared certificate at this height.
    pub prepared: Option<PreparedCert>,
}

/// The new primary's announcement of `view`, with a quorum of signed view changes for it.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct NewView {
    /// Height.
    pub height: Height,
    /// The new view.
    pub view: View,
    /// At least a quorum of signed `ViewChange` messages for (height, view).
    pub view_changes: Vec<SignedMessage>,
}

/// A consensus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Proposal.
    PrePrepare(PrePrepare),
    /// Prepare vote.
    Prepare(Prepare),
    /// Commit vote.
    Commit(Commit),
    /// View change request.
    ViewChange(ViewChange),
    /// New view announcement.
    NewView(NewView),
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Bytes that do not decode.
    #[error("malformed consensus message: {0}")]
    Malformed(String),
    /// The claimed sender is not a sealer.
    #[error("sender index {0} is not a sealer")]
    UnknownSender(u32),
    /// Bad signature.
    #[error("bad signature from sealer {0}")]
    BadSignature(u32),
}

impl Message {
    /// Height the message is about.
    pub fn height(&self) -> Height {
        match self {
            Message::PrePrepare(m) => m.height,
            Message::Prepare(m) => m.height,
            Message::Commit(m) => m.height,
            Message::ViewChange(m) => m.height,
            Message::NewView(m) => m.height,
        }
    }

    /// View the message is about.
    pub fn view(&self) -> View {
        match self {
            Message::PrePrepare(m) => m.view,
            Message::Prepare(m) => m.view,
            Message::Commit(m) => m.view,
            Message::ViewChange(m) => m.view,
            Message::NewView(m) => m.view,
        }
    }

    /// Canonical bytes: kind byte followed by the RLP of the body.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        match self {
            Message::PrePrepare(m) => {
                out.push(KIND_PRE_PREPARE);
                m.encode(&mut out);
            }
            Message::Prepare(m) => {
                out.push(KIND_PREPARE);
                m.encode(&mut out);
            }
            Message::Commit(m) => {
                out.push(KIND_COMMIT);
                m.encode(&mut out);
            }
            Message::ViewChange(m) => {
                out.push(KIND_VIEW_CHANGE);
                m.encode(&mut out);
            }
            Message::NewView(m) => {
                out.push(KIND_NEW_VIEW);
                m.encode(&mut out);
            }
        }
        out
    }

    /// Decodes canonical bytes strictly; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(MessageError::Malformed(format!("{} bytes is too large", bytes.len())));
        }
        let (&kind, mut body) =
            bytes.split_first().ok_or_else(|| MessageError::Malformed("empty".into()))?;
        let bad = |e: alloy_rlp::Error| MessageError::Malformed(e.to_string());
        let msg = match kind {
            KIND_PRE_PREPARE => Message::PrePrepare(PrePrepare::decode(&mut body).map_err(bad)?),
            KIND_PREPARE => Message::Prepare(Prepare::decode(&mut body).map_err(bad)?),
            KIND_COMMIT => Message::Commit(Commit::decode(&mut body).map_err(bad)?),
            KIND_VIEW_CHANGE => Message::ViewChange(ViewChange::decode(&mut body).map_err(bad)?),
            KIND_NEW_VIEW => Message::NewView(NewView::decode(&mut body).map_err(bad)?),
            k => return Err(MessageError::Malformed(format!("unknown message kind {k}"))),
        };
        if !body.is_empty() {
            return Err(MessageError::Malformed("trailing bytes".into()));
        }
        Ok(msg)
    }

    /// What the sender signs: for commits the block's [`commit_digest`] (so commit signatures
    /// form certificates), for everything else H("jinlian/consensus/v1" ‖ encoding).
    pub fn signing_digest(&self, suite: CryptoSuite) -> B256 {
        match self {
            Message::Commit(c) => commit_digest(suite, &c.hash, c.view),
            other => suite.hash_parts(&[b"jinlian/consensus/v1", &other.encode_to_vec()]),
        }
    }
}

// A view change's optional certificate is encoded as a list of zero or one item.
impl Encodable for ViewChange {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        let prepared: Vec<PreparedCert> = self.prepared.iter().cloned().collect();
        let mut payload = Vec::new();
        self.height.encode(&mut payload);
        self.view.encode(&mut payload);
        prepared.encode(&mut payload);
        alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(out);
        out.put_slice(&payload);
    }
}

impl Decodable for ViewChange {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let header = alloy_rlp::Header::decode(buf)?;
        if !header.list || buf.len() < header.payload_length {
            return Err(alloy_rlp::Error::Custom("view change must be a list"));
        }
        let (mut payload, rest) = buf.split_at(header.payload_length);
        *buf = rest;
        let height = Height::decode(&mut payload)?;
        let view = View::decode(&mut payload)?;
        let mut prepared = Vec::<PreparedCert>::decode(&mut payload)?;
        if !payload.is_empty() || prepared.len() > 1 {
            return Err(alloy_rlp::Error::Custom("view change has extra items"));
        }
        Ok(ViewChange { height, view, prepared: prepared.pop() })
    }
}

/// A message with its sender (index in the sealer list of its height) and signature.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SignedMessage {
    /// Sender's index in the sorted sealer list.
    pub from: u32,
    /// [`Message::encode_to_vec`] bytes.
    pub payload: Bytes,
    /// Signature over [`Message::signing_digest`] (65 or 128 bytes).
    pub signature: Bytes,
}

impl SignedMessage {
    /// Signs `msg` as sealer `from`.
    pub fn sign(msg: &Message, from: u32, key: &KeyPair) -> Self {
        let sig = key.sign(&msg.signing_digest(key.suite()));
        Self { from, payload: msg.encode_to_vec().into(), signature: sig.to_bytes().into() }
    }

    /// Decodes the payload and checks the signature against `sealers[from]`.
    pub fn open(&self, suite: CryptoSuite, sealers: &[PublicKey]) -> Result<Message, MessageError> {
        let msg = Message::decode(&self.payload)?;
        let sealer =
            sealers.get(self.from as usize).ok_or(MessageError::UnknownSender(self.from))?;
        let sig = Signature::from_bytes(suite, &self.signature)
            .map_err(|_| MessageError::BadSignature(self.from))?;
        suite
            .verify(&msg.signing_digest(suite), &sig, sealer)
            .map_err(|_| MessageError::BadSignature(self.from))?;
        Ok(msg)
    }

    /// Wire bytes.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        alloy_rlp::encode(self)
    }

    /// Decodes wire bytes strictly.
    pub fn decode_exact(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(MessageError::Malformed(format!("{} bytes is too large", bytes.len())));
        }
        let mut buf = bytes;
        let m = Self::decode(&mut buf).map_err(|e| MessageError::Malformed(e.to_string()))?;
        if !buf.is_empty() {
            return Err(MessageError::Malformed("trailing bytes".into()));
        }
        Ok(m)
    }
}
