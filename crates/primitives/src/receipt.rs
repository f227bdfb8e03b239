//! Transaction receipts and FISCO BCOS status codes.

use crate::CodecError;
use crate::transaction::{finish, list_payload};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log};
use alloy_rlp::{Decodable, Encodable};
use jinlian_crypto::CryptoSuite;

/// FISCO BCOS 2.x transaction status codes (receipt `status`); Ethereum RPC maps 0 to 1 and
/// everything else to 0.
pub mod status {
    /// Success.
    pub const OK: u32 = 0;
    /// Unknown failure.
    pub const UNKNOWN: u32 = 1;
    /// Malformed RLP.
    pub const BAD_RLP: u32 = 2;
    /// Intrinsic gas too low.
    pub const OUT_OF_GAS_INTRINSIC: u32 = 4;
    /// Bad signature.
    pub const INVALID_SIGNATURE: u32 = 5;
    /// Ethereum nonce mismatch.
    pub const INVALID_NONCE: u32 = 6;
    /// Value transfer without balance.
    pub const NOT_ENOUGH_CASH: u32 = 7;
    /// Block gas limit reached.
    pub const BLOCK_GAS_LIMIT_REACHED: u32 = 9;
    /// Invalid opcode.
    pub const BAD_INSTRUCTION: u32 = 10;
    /// Jump to an invalid destination.
    pub const BAD_JUMP_DESTINATION: u32 = 11;
    /// Out of gas.
    pub const OUT_OF_GAS: u32 = 12;
    /// Stack overflow.
    pub const OUT_OF_STACK: u32 = 13;
    /// Stack underflow.
    pub const STACK_UNDERFLOW: u32 = 14;
    /// Consortium randomid already used.
    pub const NONCE_CHECK_FAIL: u32 = 15;
    /// blockLimit out of its window.
    pub const BLOCK_LIMIT_CHECK_FAIL: u32 = 16;
    /// No permission to deploy.
    pub const NO_DEPLOY_PERMISSION: u32 = 18;
    /// No permission to call.
    pub const NO_CALL_PERMISSION: u32 = 19;
    /// A system contract failed.
    pub const PRECOMPILED_ERROR: u32 = 21;
    /// REVERT.
    pub const REVERT_INSTRUCTION: u32 = 22;
    /// Contract address already used.
    pub const ADDRESS_ALREADY_USED: u32 = 24;
    /// Permission denied.
    pub const PERMISSION_DENIED: u32 = 25;
    /// Call to an address without code.
    pub const CALL_ADDRESS_ERROR: u32 = 26;
    /// Contract frozen.
    pub const CONTRACT_FROZEN: u32 = 30;
    /// Account frozen.
    pub const ACCOUNT_FROZEN: u32 = 31;
    /// Already in the pool.
    pub const ALREADY_KNOWN: u32 = 10000;
    /// Already on chain.
    pub const ALREADY_IN_CHAIN: u32 = 10001;
    /// Wrong chain id.
    pub const INVALID_CHAIN_ID: u32 = 10002;
    /// Wrong group id.
    pub const INVALID_GROUP_ID: u32 = 10003;
    /// Malformed transaction.
    pub const MALFORMED_TX: u32 = 10005;

    /// FISCO's name of a status code (`Unknown` for codes it does not define).
    pub fn name(code: u32) -> &'static str {
        match code {
            OK => "None",
            BAD_RLP => "BadRLP",
            OUT_OF_GAS_INTRINSIC => "OutOfGasIntrinsic",
            INVALID_SIGNATURE => "InvalidSignature",
            INVALID_NONCE => "InvalidNonce",
            NOT_ENOUGH_CASH => "NotEnoughCash",
            BLOCK_GAS_LIMIT_REACHED => "BlockGasLimitReached",
            BAD_INSTRUCTION => "BadInstruction",
            BAD_JUMP_DESTINATION => "BadJumpDestination",
            OUT_OF_GAS => "OutOfGas",
            OUT_OF_STACK => "OutOfStack",
            STACK_UNDERFLOW => "StackUnderflow",
            NONCE_CHECK_FAIL => "NonceCheckFail",
            BLOCK_LIMIT_CHECK_FAIL => "BlockLimitCheckFail",
            NO_DEPLOY_PERMISSION => "PermissionDenied (deploy)",
            NO_CALL_PERMISSION => "PermissionDenied (call)",
            PRECOMPILED_ERROR => "PrecompiledError",
            REVERT_INSTRUCTION => "RevertInstruction",
            ADDRESS_ALREADY_USED => "ContractAddressAlreadyUsed",
            PERMISSION_DENIED => "PermissionDenied",
            CALL_ADDRESS_ERROR => "CallAddressError",
            CONTRACT_FROZEN => "ContractFrozen",
            ACCOUNT_FROZEN => "AccountFrozen",
            ALREADY_KNOWN => "AlreadyKnown",
            ALREADY_IN_CHAIN => "AlreadyInChain",
            INVALID_CHAIN_ID => "InvalidChainId",
            INVALID_GROUP_ID => "InvalidGroupId",
            MALFORMED_TX => "MalformedTx",
            _ => "Unknown",
        }
    }
}

/// The outcome of one executed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// FISCO status code ([`status`]).
    pub status: u32,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Address of the contract created, if any.
    pub contract_address: Option<Address>,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// Return data, or revert data for reverted transactions.
    pub output: Bytes,
}

impl Receipt {
    /// Whether the transaction succeeded.
    pub fn is_success(&self) -> bool {
        self.status == status::OK
    }

    /// The bloom of this receipt's logs. It is derived from the logs, so it is neither stored
    /// nor hashed (that would add 256 bytes to every receipt on disk).
    pub fn logs_bloom(&self) -> Bloom {
        Self::bloom_of(&self.logs)
    }

    /// The bloom of a set of logs. Blooms use Keccak-256 on both suites, so Ethereum tools
    /// can filter with them.
    pub fn bloom_of(logs: &[Log]) -> Bloom {
        let mut b = Bloom::ZERO;
        b.accrue_logs(logs);
        b
    }

    /// The receipt's hash with the chain's hash function (its Merkle item).
    pub fn hash(&self, suite: CryptoSuite) -> B256 {
        // The encoding (list header, then payload) hashed without building it twice.
        let p = self.payload();
        let mut head = Vec::with_capacity(9);
        alloy_rlp::Header { list: true, payload_length: p.len() }.encode(&mut head);
        suite.hash_parts(&[&head, &p])
    }

    /// Decodes one receipt strictly.
    pub fn decode_exact(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut buf = bytes;
        let r = <Self as Decodable>::decode(&mut buf)?;
        if !buf.is_empty() {
            return Err(CodecError::TrailingBytes);
        }
        Ok(r)
    }

    fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(64 + self.output.len() + 160 * self.logs.len());
        self.status.encode(&mut p);
        self.gas_used.encode(&mut p);
        self.cumulative_gas_used.encode(&mut p);
        match &self.contract_address {
            Some(a) => a.encode(&mut p),
            None => Bytes::new().encode(&mut p),
        }
        self.logs.encode(&mut p);
        self.output.encode(&mut p);
        p
    }
}

impl Encodable for Receipt {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        let p = self.payload();
        alloy_rlp::Header { list: true, payload_length: p.len() }.encode(out);
        out.put_slice(&p);
    }
    fn length(&self) -> usize {
        let p = self.payload().len();
        alloy_rlp::length_of_length(p) + p
    }
}

impl Decodable for Receipt {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut p = list_payload(buf).map_err(|_| alloy_rlp::Error::Custom("receipt list"))?;
        let status = u32::decode(&mut p)?;
        let gas_used = u64::decode(&mut p)?;
        let cumulative_gas_used = u64::decode(&mut p)?;
        let ca = Bytes::decode(&mut p)?;
        let contract_address = match ca.len() {
            0 => None,
            20 => Some(Address::from_slice(&ca)),
            _ => {
                return Err(alloy_rlp::Error::Custom("contract address must be 0 or 20 bytes"));
            }
        };
        let logs = Vec::<Log>::decode(&mut p)?;
        let output = Bytes::decode(&mut p)?;
        finish(p, "receipt").map_err(|_| alloy_rlp::Error::Custom("receipt has extra items"))?;
        Ok(Self { status, gas_used, cumulative_gas_used, contract_address, logs, output })
    }
}
