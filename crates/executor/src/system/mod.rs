//! Native system contracts at FISCO BCOS 2.x addresses, run as stateful precompiles.
//!
//! SystemConfig `0x1000`, Consensus `0x1003`, [`cns`] `0x1004`, Permission `0x1005`,
//! ContractLifeCycle `0x1007` and [`governance`] (ChainGovernance) `0x1008`, with FISCO 2.x
//! ABIs and return codes. Every change applies from the next block: a configuration value set
//! in block `h` is stored with enable number `h + 1`, and permissions, names and freezes are
//! read from the parent state. They act for their direct caller (`msg.sender`), price every
//! read by what it walks, and cap every list (see ARCHITECTURE.md, "Execution").
//!
//! A system contract keeps its tables in its own account's storage, so they are part of the
//! state diff and the state root. Those accounts must exist (nonce 1) from genesis, or the
//! EIP-161 clean-up would delete them and their storage after each transaction:
//! [`install_genesis`] creates them.

pub mod cns;
pub mod governance;

pub use cns::CNS;
pub use governance::{GOVERNANCE, is_account_frozen};

use crate::state::{MemState, StateError, StateView, keys};
use alloy_primitives::{Address, Bytes, U256, address, keccak256};
use alloy_sol_types::{SolCall, SolError, SolInterface, sol};
use revm::context::Cfg;
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, CallScheme, InterpreterResult};
use revm::precompile::PrecompileOutput;
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;
use std::collections::HashMap;

/// SystemConfig (FISCO 2.x address).
pub const SYSTEM_CONFIG: Address = address!("0000000000000000000000000000000000001000");

/// Consensus node management (FISCO 2.x address).
pub const CONSENSUS: Address = address!("0000000000000000000000000000000000001003");

/// Permission (table access control, FISCO 2.x address).
pub const PERMISSION: Address = address!("0000000000000000000000000000000000001005");

/// ContractLifeCycle (freezing contracts, FISCO 2.x address).
pub const LIFECYCLE: Address = address!("0000000000000000000000000000000000001007");

/// Every system contract address (their accounts exist from genesis).
pub const SYSTEM_CONTRACTS: [Address; 6] =
    [SYSTEM_CONFIG, CONSENSUS, CNS, PERMISSION, LIFECYCLE, GOVERNANCE];

/// FISCO 2.x: the contract is already frozen.
pub const CODE_ALREADY_FROZEN: i32 = -51900;
/// FISCO 2.x: the contract is already available (not frozen).
pub const CODE_ALREADY_AVAILABLE: i32 = -51901;

/// FISCO 2.x: the sending account may not do this.
pub const CODE_PERMISSION_DENIED: i32 = -50000;
/// FISCO 2.x: the (table, address) row already exists.
pub const CODE_ROW_EXISTS: i32 = -51000;
/// FISCO 2.x: the (table, address) row does not exist.
pub const CODE_ROW_MISSING: i32 = -51001;
/// FISCO 2.x: a committee governs this table; only its votes change it.
pub const CODE_COMMITTEE_PERMISSION: i32 = -51004;

/// System tables whose whitelists gate who may act (FISCO 2.x names).
pub mod tables {
    /// Change system configuration (SystemConfig).
    pub const CONFIG: &str = "_sys_config_";
    /// Add and remove sealers and observers (Consensus).
    pub const CONSENSUS: &str = "_sys_consensus_";
    /// Grant and revoke permissions (Permission itself).
    pub const ACCESS: &str = "_sys_table_access_";
    /// Deploy contracts.
    pub const DEPLOY: &str = "_sys_tables_";
    /// Register contract names and change their routes (CNS).
    pub const CNS: &str = "_sys_cns_";
    /// Every table Permission manages.
    pub const ALL: [&str; 5] = [CONFIG, CONSENSUS, ACCESS, DEPLOY, CNS];
}

/// FISCO 2.x: the node id is not 128 hex characters (64 bytes).
pub const CODE_INVALID_NODE_ID: i32 = -51100;
/// FISCO 2.x: the last sealer cannot be removed (or turned into an observer).
pub const CODE_LAST_SEALER: i32 = -51101;
/// The node is not a member of the group (nothing to remove).
pub const CODE_NOT_A_MEMBER: i32 = -51103;
/// FISCO 2.x: already a sealer.
pub const CODE_ALREADY_SEALER: i32 = -51104;
/// FISCO 2.x: already an observer.
pub const CODE_ALREADY_OBSERVER: i32 = -51105;

/// FISCO 2.x return code for an invalid configuration key or value.
pub const CODE_INVALID_CONFIG: i32 = -51300;

/// Gas charged by a SystemConfig write and read (fixed, like a storage write and read).
const SET_GAS: u64 = 25_000;
pub(crate) const GET_GAS: u64 = 3_000;
/// Gas per entry a list read returns (a few storage words each).
pub(crate) const LIST_ITEM_GAS: u64 = 1_000;
/// Most entries in one whitelist or one contract's manager list.
pub const MAX_LIST: u64 = 1000;

sol! {
    /// FISCO BCOS 2.x SystemConfigPrecompiled.
    interface ISystemConfig {
        function setValueByKey(string key, string value) external returns (int32);
        function getValueByKey(string key) external view returns (string value, int256 enableNum);
    }

    /// FISCO BCOS 2.x PermissionPrecompiled (table whitelists).
    interface IPermission {
        function insert(string table_name, string addr) external returns (int256);
        function remove(string table_name, string addr) external returns (int256);
        function queryByName(string table_name) external view returns (string);
    }

    /// FISCO BCOS 2.x ContractLifeCyclePrecompiled.
    interface IContractLifeCycle {
        function freeze(address addr) external returns (int256);
        function unfreeze(address addr) external returns (int256);
        function grantManager(address contractAddr, address userAddr) external returns (int256);
        function revokeManager(address contractAddr, address userAddr) external returns (int256);
        function getStatus(address addr) external view returns (int256, string);
        function listManager(address addr) external view returns (int256, address[]);
    }

    /// FISCO BCOS 2.x ConsensusPrecompiled.
    interface IConsensus {
        function addSealer(string nodeID) external returns (int256);
        function addObserver(string nodeID) external returns (int256);
        function remove(string nodeID) external returns (int256);
    }
}

/// The configuration keys a transaction may set.
pub const CONFIG_KEYS: [&str; 4] =
    ["tx_count_limit", "tx_gas_limit", "consensus_timeout", "block_interval_ms"];

/// What a system contract's negative return code means (FISCO 2.x codes), for people.
pub fn describe_code(code: i32) -> &'static str {
    use governance::*;
    match code {
        CODE_PERMISSION_DENIED => "permission denied: the sender may not do this",
        CODE_ROW_EXISTS => "it already exists",
        CODE_ROW_MISSING => "it does not exist",
        CODE_COMMITTEE_PERMISSION => "a governance committee exists: only its members may do this",
        CODE_INVALID_NODE_ID => "not a valid node id",
        CODE_LAST_SEALER => "the last sealer cannot be removed",
        CODE_NOT_A_MEMBER => "the node is not a member of the group",
        CODE_ALREADY_SEALER => "the node is already a sealer",
        CODE_ALREADY_OBSERVER => "the node is already an observer",
        CODE_INVALID_CONFIG => "not a valid configuration key or value",
        CODE_ALREADY_FROZEN => "the contract is already frozen",
        CODE_ALREADY_AVAILABLE => "the contract is already available (not frozen)",
        cns::CODE_ADDRESS_AND_VERSION_EXIST => "this name and version are already registered",
        cns::CODE_VERSION_LENGTH_OVERFLOW => "the version is too long",
        cns::CODE_VERSION_NOT_EXIST => "the name has no such version",
        cns::CODE_ADDRESS_INVALID => "not a valid contract address",
        CODE_COMMITTEE_MEMBER_EXIST => "already a committee member",
        CODE_COMMITTEE_MEMBER_NOT_EXIST => "not a committee member",
        CODE_INVALID_REQUEST_PERMISSION_DENIED => "only committee members may propose or vote",
        CODE_INVALID_THRESHOLD => "not a valid threshold",
        CODE_OPERATOR_CANNOT_BE_COMMITTEE_MEMBER => "an operator cannot be a committee member",
        CODE_COMMITTEE_MEMBER_CANNOT_BE_OPERATOR => "a committee member cannot be an operator",
        CODE_OPERATOR_EXIST => "already an operator",
        CODE_OPERATOR_NOT_EXIST => "not an operator",
        CODE_ACCOUNT_NOT_EXIST => "no such account",
        CODE_INVALID_ACCOUNT_ADDRESS => "not a valid account address",
        CODE_ACCOUNT_ALREADY_AVAILABLE => "the account is already available (not frozen)",
        CODE_ACCOUNT_FROZEN => "the account is already frozen",
        CODE_CURRENT_VALUE_IS_EXPECTED_VALUE => "it already has that value",
        _ => "refused by the system contract",
    }
}

/// The configuration keys and their rules (FISCO 2.x §7.3, plus `block_interval_ms`).
pub fn check_config(key: &str, value: &str) -> bool {
    let Ok(v) = value.parse::<u64>() else { return false };
    match key {
        "tx_count_limit" => v >= 1,
        "tx_gas_limit" => v >= 100_000,
        "consensus_timeout" => (3..u64::from(u32::MAX) / 1000).contains(&v),
        "block_interval_ms" => v <= 3_600_000,
        _ => false,
    }
}

fn config_base(key: &str) -> U256 {
    U256::from_be_bytes(keccak256([b"jinlian.sysconfig.".as_slice(), key.as_bytes()].concat()).0)
}

/// A value of at most 31 bytes packed in one slot: the bytes, then the length in the last
/// byte (configuration values are decimal numbers, far shorter).
fn pack(value: &str) -> U256 {
    let mut w = [0u8; 32];
    let b = value.as_bytes();
    let len = b.len().min(31);
    w[..len].copy_from_slice(&b[..len]);
    w[31] = len as u8;
    U256::from_be_bytes(w)
}

/// The canonical form of a valid configuration value (`"007"` and `"+7"` parse as 7 and are
/// stored as `"7"`, so a stored value is at most 20 digits), or `None` if invalid.
pub fn normalise_config(key: &str, value: &str) -> Option<String> {
    let v = value.trim();
    check_config(key, v).then(|| v.parse::<u64>().map(|n| n.to_string()).ok()).flatten()
}

fn unpack(word: U256) -> Option<String> {
    let w = word.to_be_bytes::<32>();
    let len = usize::from(w[31]);
    if word.is_zero() || len > 31 {
        return None;
    }
    String::from_utf8(w[..len].to_vec()).ok()
}

/// A configuration value and the height from which it applies, read from a state.
pub fn read_config(state: &dyn StateView, key: &str) -> Result<Option<(String, u64)>, StateError> {
    let base = config_base(key);
    let slot = |s: U256| -> Result<U256, StateError> {
        Ok(state
            .get(&keys::storage(&SYSTEM_CONFIG, &s))?
            .map_or(U256::ZERO, |v| U256::from_be_slice(&v)))
    };
    let Some(value) = unpack(slot(base)?) else { return Ok(None) };
    let enable = slot(base + U256::from(1))?.saturating_to::<u64>();
    Ok(Some((value, enable)))
}

/// The numeric value of `key` in force at `height`, if one was set.
pub fn config_at(state: &dyn StateView, key: &str, height: u64) -> Result<Option<u64>, StateError> {
    Ok(read_config(state, key)?
        .filter(|(_, enable)| *enable <= height)
        .and_then(|(v, _)| v.parse().ok()))
}

/// A node's role in the group, as the Consensus contract records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Votes in consensus.
    Sealer,
    /// Receives and verifies every block, never votes.
    Observer,
}

// Consensus table layout in the contract's storage: `count` at slot LIST; node i's 64 bytes at
// slots H(LIST) + 2i and + 2i + 1; for each node id, slot H("jinlian.consensus.node" ‖ id)
// holds (index + 1) << 8 | role (1 sealer, 2 observer).
const LIST: U256 = U256::from_limbs([0x1003, 0, 0, 0]);

fn list_base() -> U256 {
    U256::from_be_bytes(keccak256(LIST.to_be_bytes::<32>()).0)
}

fn member_slot(id: &[u8; 64]) -> U256 {
    U256::from_be_bytes(keccak256([b"jinlian.consensus.node".as_slice(), id].concat()).0)
}

/// The group's members and roles in a state, in insertion order.
pub fn consensus_nodes(state: &dyn StateView) -> Result<Vec<([u8; 64], NodeRole)>, StateError> {
    let slot = |s: U256| -> Result<U256, StateError> {
        Ok(state
            .get(&keys::storage(&CONSENSUS, &s))?
            .map_or(U256::ZERO, |v| U256::from_be_slice(&v)))
    };
    let count = slot(LIST)?.saturating_to::<u64>();
    let base = list_base();
    let mut out = Vec::new();
    for i in 0..count {
        let mut id = [0u8; 64];
        id[..32].copy_from_slice(&slot(base + U256::from(2 * i))?.to_be_bytes::<32>());
        id[32..].copy_from_slice(&slot(base + U256::from(2 * i + 1))?.to_be_bytes::<32>());
        let role = match slot(member_slot(&id))?.byte(0) {
            1 => NodeRole::Sealer,
            _ => NodeRole::Observer,
        };
        out.push((id, role));
    }
    Ok(out)
}

/// The sealers of a state, sorted by node id (the order consensus uses).
pub fn sealers(state: &dyn StateView) -> Result<Vec<[u8; 64]>, StateError> {
    let mut s: Vec<[u8; 64]> = consensus_nodes(state)?
        .into_iter()
        .filter(|(_, r)| *r == NodeRole::Sealer)
        .map(|(id, _)| id)
        .collect();
    s.sort();
    Ok(s)
}

/// Creates the system contracts' accounts (nonce 1, one `0xfe` byte of code so tools show
/// them as contracts), sets initial configuration values and the initial members.
pub fn install_genesis_nodes(
    state: &mut MemState,
    config: &[(&str, &str)],
    nodes: &[([u8; 64], NodeRole)],
) {
    install_genesis(state, config);
    let put = |state: &mut MemState, slot: U256, v: U256| {
        state.entries.insert(keys::storage(&CONSENSUS, &slot), v.to_be_bytes::<32>().to_vec());
    };
    let base = list_base();
    for (i, (id, role)) in nodes.iter().enumerate() {
        let i = i as u64;
        put(state, base + U256::from(2 * i), U256::from_be_slice(&id[..32]));
        put(state, base + U256::from(2 * i + 1), U256::from_be_slice(&id[32..]));
        let r = if *role == NodeRole::Sealer { 1u64 } else { 2 };
        put(state, member_slot(id), U256::from(((i + 1) << 8) | r));
    }
    put(state, LIST, U256::from(nodes.len()));
}

/// Creates the system contracts' accounts (nonce 1, one `0xfe` byte of code so tools show
/// them as contracts) and sets initial configuration values.
pub fn install_genesis(state: &mut MemState, config: &[(&str, &str)]) {
    let code = Bytes::from_static(&[0xfe]);
    let code_hash = keccak256(&code);
    for a in SYSTEM_CONTRACTS {
        let rec = crate::AccountRecord { nonce: 1, balance: U256::ZERO, code_hash };
        state.entries.insert(keys::account(&a), rec.encode_to_vec());
    }
    state.entries.insert(keys::code(&code_hash), code.to_vec());
    for (k, v) in config {
        let base = config_base(k);
        let value = normalise_config(k, v).unwrap_or_else(|| v.to_string());
        state.entries.insert(
            keys::storage(&SYSTEM_CONFIG, &base),
            pack(&value).to_be_bytes::<32>().to_vec(),
        );
    }
}

/// Ethereum's precompiles plus ours.
pub struct SystemPrecompiles<'a> {
    eth: EthPrecompiles,
    warm: AddressSet,
    height: u64,
    /// Permissions are those of the parent state: changes apply from the next block.
    parent: &'a dyn StateView,
    /// Whether each whitelist of the parent state has entries (empty: anyone may act).
    guarded: Vec<(&'static str, bool)>,
    /// Parent-state whitelist rows already looked up in this block.
    rows: HashMap<(&'static str, Address), bool>,
}

impl std::fmt::Debug for SystemPrecompiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemPrecompiles").field("height", &self.height).finish_non_exhaustive()
    }
}

impl<'a> SystemPrecompiles<'a> {
    /// The precompiles for a block at `height` on `parent` (writes record `height + 1` as
    /// enable number; permissions are those of the parent state).
    pub fn new(spec: SpecId, height: u64, parent: &'a dyn StateView) -> Result<Self, StateError> {
        let eth = EthPrecompiles::new(spec);
        let mut warm = eth.warm_addresses().clone();
        for a in SYSTEM_CONTRACTS {
            warm.insert(a);
        }
        let guarded = tables::ALL
            .iter()
            .map(|t| Ok((*t, !read_slot(parent, PERMISSION, table_set(t).count_slot())?.is_zero())))
            .collect::<Result<_, StateError>>()?;
        Ok(Self { eth, warm, height, parent, guarded, rows: HashMap::new() })
    }

    /// Whether `who` may act on `table`: anyone while its whitelist is empty (FISCO 2.x), else
    /// its members.
    fn allowed(&mut self, table: &'static str, who: &Address) -> Result<bool, String> {
        if !self.guarded.iter().any(|(t, g)| *t == table && *g) {
            return Ok(true);
        }
        if let Some(ok) = self.rows.get(&(table, *who)) {
            return Ok(*ok);
        }
        let row = table_set(table).row_slot(who);
        let ok = !read_slot(self.parent, PERMISSION, row).map_err(|e| e.to_string())?.is_zero();
        self.rows.insert((table, *who), ok);
        Ok(ok)
    }
}

/// A storage slot named by hashing its parts.
pub(crate) fn slot_of(parts: &[&[u8]]) -> U256 {
    U256::from_be_bytes(keccak256(parts.concat()).0)
}

/// A storage word of a system contract, read from a state outside the EVM.
pub(crate) fn read_slot(
    state: &dyn StateView,
    account: Address,
    slot: U256,
) -> Result<U256, StateError> {
    Ok(state.get(&keys::storage(&account, &slot))?.map_or(U256::ZERO, |v| U256::from_be_slice(&v)))
}

/// Stores bytes in a system contract's storage: the length at `base`, 32-byte chunks at
/// `base + 1` on (chunks of a longer old value are cleared).
pub(crate) fn store_bytes<J: JournalTr>(
    j: &mut J,
    account: Address,
    base: U256,
    data: &[u8],
) -> Result<(), DbError<J>> {
    let old = j.sload(account, base)?.data.saturating_to::<u64>();
    let chunks = data.len().div_ceil(32) as u64;
    for (i, chunk) in data.chunks(32).enumerate() {
        let mut word = [0u8; 32];
        word[..chunk.len()].copy_from_slice(chunk);
        j.sstore(account, base + U256::from(i + 1), U256::from_be_bytes(word))?;
    }
    for i in chunks..old.div_ceil(32) {
        j.sstore(account, base + U256::from(i + 1), U256::ZERO)?;
    }
    j.sstore(account, base, U256::from(data.len()))?;
    Ok(())
}

/// Bytes stored by [`store_bytes`] (at most `max`; an empty vector if none).
pub(crate) fn load_bytes<J: JournalTr>(
    j: &mut J,
    account: Address,
    base: U256,
    max: usize,
) -> Result<Vec<u8>, DbError<J>> {
    let len = j.sload(account, base)?.data.saturating_to::<usize>().min(max);
    let mut out = Vec::with_capacity(len);
    for i in 0..len.div_ceil(32) {
        out.extend_from_slice(
            &j.sload(account, base + U256::from(i + 1))?.data.to_be_bytes::<32>(),
        );
    }
    out.truncate(len);
    Ok(out)
}

/// Bytes stored by [`store_bytes`], read from a state outside the EVM.
pub(crate) fn read_bytes(
    state: &dyn StateView,
    account: Address,
    base: U256,
) -> Result<Vec<u8>, StateError> {
    let len = read_slot(state, account, base)?.saturating_to::<usize>().min(cns::MAX_ABI);
    let mut out = Vec::with_capacity(len);
    for i in 0..len.div_ceil(32) {
        out.extend_from_slice(
            &read_slot(state, account, base + U256::from(i + 1))?.to_be_bytes::<32>(),
        );
    }
    out.truncate(len);
    Ok(out)
}

/// An `int256` return code.
pub(crate) fn int(code: i32) -> alloy_primitives::I256 {
    alloy_primitives::I256::try_from(code).unwrap_or_default()
}

/// The call ran out of gas (all of it is used).
pub(crate) fn out_of_gas(reservoir: u64) -> PrecompileOutput {
    PrecompileOutput::halt(revm::precompile::PrecompileHalt::OutOfGas, reservoir)
}

pub(crate) fn output(gas: u64, bytes: Vec<u8>, reservoir: u64) -> PrecompileOutput {
    PrecompileOutput::new(gas, Bytes::from(bytes), reservoir)
}

pub(crate) fn revert(gas: u64, reason: &str, reservoir: u64) -> PrecompileOutput {
    // Error(string), as Solidity's require: tools decode the reason.
    let data = alloy_sol_types::Revert::from(reason).abi_encode();
    PrecompileOutput::revert(gas, Bytes::from(data), reservoir)
}

impl<CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>> PrecompileProvider<CTX> for SystemPrecompiles<'_> {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        self.warm = self.eth.warm_addresses().clone();
        for a in SYSTEM_CONTRACTS {
            self.warm.insert(a);
        }
        changed
    }

    fn run(
        &mut self,
        ctx: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let addr = inputs.bytecode_address;
        if !SYSTEM_CONTRACTS.contains(&addr) {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, ctx, inputs);
        }
        let data = inputs.input.as_bytes(ctx).to_vec();
        let reservoir = inputs.reservoir;
        // System contracts act for their direct caller (msg.sender), never for tx.origin, so a
        // contract a privileged account calls cannot borrow its rights; and they must be
        // called, not borrowed as code (DELEGATECALL/CALLCODE would act for the caller's
        // caller). They hold no value.
        if matches!(inputs.scheme, CallScheme::DelegateCall | CallScheme::CallCode) {
            let why = "system contracts must be called with CALL or STATICCALL";
            let out = revert(0, why, reservoir);
            return Ok(Some(revm::handler::precompile_output_to_interpreter_result(
                out,
                inputs.gas_limit,
            )));
        }
        if inputs.gas_limit < GET_GAS {
            let out = out_of_gas(reservoir);
            return Ok(Some(revm::handler::precompile_output_to_interpreter_result(
                out,
                inputs.gas_limit,
            )));
        }
        if inputs.transfers_value() && !inputs.call_value().is_zero() {
            let out = revert(GET_GAS, "system contracts take no value", reservoir);
            return Ok(Some(revm::handler::precompile_output_to_interpreter_result(
                out,
                inputs.gas_limit,
            )));
        }
        let sender = inputs.caller;
        let out = if addr == SYSTEM_CONFIG {
            let ok = self.allowed(tables::CONFIG, &sender)?;
            system_config(ctx, &data, inputs, self.height, ok)?
        } else if addr == CONSENSUS {
            consensus(ctx, &data, inputs, self.allowed(tables::CONSENSUS, &sender)?)?
        } else if addr == LIFECYCLE {
            lifecycle(ctx, &data, inputs, &sender)?
        } else if addr == CNS {
            let ok = self.allowed(tables::CNS, &sender)?;
            cns::run(ctx, &data, inputs, &sender, ok, self.height)?
        } else if addr == GOVERNANCE {
            let rights = governance::Rights { access: self.allowed(tables::ACCESS, &sender)? };
            governance::run(ctx, &data, inputs, &sender, rights, self.height)?
        } else {
            permission(ctx, &data, inputs, self.allowed(tables::ACCESS, &sender)?)?
        };
        Ok(Some(revm::handler::precompile_output_to_interpreter_result(out, inputs.gas_limit)))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}

fn system_config<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    height: u64,
    allowed: bool,
) -> Result<PrecompileOutput, String> {
    let reservoir = inputs.reservoir;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("system config storage: {e}");
    let Ok(call) = ISystemConfig::ISystemConfigCalls::abi_decode(data) else {
        return Ok(revert(GET_GAS, "SystemConfig: unknown function or bad arguments", reservoir));
    };
    match call {
        ISystemConfig::ISystemConfigCalls::setValueByKey(c) => {
            if inputs.gas_limit < SET_GAS {
                return Ok(out_of_gas(reservoir));
            }
            if inputs.is_static {
                return Ok(revert(
                    SET_GAS,
                    "SystemConfig: setValueByKey cannot run in a static call",
                    reservoir,
                ));
            }
            if !allowed {
                let ret =
                    ISystemConfig::setValueByKeyCall::abi_encode_returns(&CODE_PERMISSION_DENIED);
                return Ok(output(SET_GAS, ret, reservoir));
            }
            let key = c.key.trim().to_ascii_lowercase();
            let Some(value) = normalise_config(&key, &c.value) else {
                let ret =
                    ISystemConfig::setValueByKeyCall::abi_encode_returns(&CODE_INVALID_CONFIG);
                return Ok(output(SET_GAS, ret, reservoir));
            };
            let base = config_base(&key);
            let journal = ctx.journal_mut();
            journal.sstore(SYSTEM_CONFIG, base, pack(&value)).map_err(db)?;
            journal
                .sstore(SYSTEM_CONFIG, base + U256::from(1), U256::from(height + 1))
                .map_err(db)?;
            Ok(output(
                SET_GAS,
                ISystemConfig::setValueByKeyCall::abi_encode_returns(&0i32),
                reservoir,
            ))
        }
        ISystemConfig::ISystemConfigCalls::getValueByKey(c) => {
            if inputs.gas_limit < GET_GAS {
                return Ok(out_of_gas(reservoir));
            }
            let base = config_base(&c.key.trim().to_ascii_lowercase());
            let journal = ctx.journal_mut();
            let value =
                unpack(journal.sload(SYSTEM_CONFIG, base).map_err(db)?.data).unwrap_or_default();
            let enable = journal.sload(SYSTEM_CONFIG, base + U256::from(1)).map_err(db)?.data;
            let ret = ISystemConfig::getValueByKeyCall::abi_encode_returns(
                &ISystemConfig::getValueByKeyReturn {
                    value,
                    enableNum: alloy_primitives::I256::from_raw(enable),
                },
            );
            Ok(output(GET_GAS, ret, reservoir))
        }
    }
}

/// Parses a FISCO node id: 128 hex characters (an optional `0x` is accepted).
fn parse_node_id(text: &str) -> Option<[u8; 64]> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.len() != 128 {
        return None;
    }
    let bytes = alloy_primitives::hex::decode(t).ok()?;
    bytes.try_into().ok()
}

const NODE_GAS: u64 = 30_000;

fn consensus<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    allowed: bool,
) -> Result<PrecompileOutput, String> {
    let reservoir = inputs.reservoir;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("consensus storage: {e}");
    let Ok(call) = IConsensus::IConsensusCalls::abi_decode(data) else {
        return Ok(revert(GET_GAS, "Consensus: unknown function or bad arguments", reservoir));
    };
    if inputs.gas_limit < NODE_GAS {
        return Ok(out_of_gas(reservoir));
    }
    if inputs.is_static {
        return Ok(revert(
            NODE_GAS,
            "Consensus: node changes cannot run in a static call",
            reservoir,
        ));
    }
    let (id_text, want) = match &call {
        IConsensus::IConsensusCalls::addSealer(c) => (&c.nodeID, Some(1u8)),
        IConsensus::IConsensusCalls::addObserver(c) => (&c.nodeID, Some(2u8)),
        IConsensus::IConsensusCalls::remove(c) => (&c.nodeID, None),
    };
    // Removing or demoting a node counts the sealers: the price covers walking the list.
    let nodes = ctx.journal_mut().sload(CONSENSUS, LIST).map_err(db)?.data.saturating_to::<u64>();
    let gas = NODE_GAS + LIST_ITEM_GAS * nodes.min(MAX_LIST);
    if inputs.gas_limit < gas {
        return Ok(out_of_gas(reservoir));
    }
    let ret = |code: i32| {
        let v = int(code);
        Ok(output(gas, IConsensus::addSealerCall::abi_encode_returns(&v), reservoir))
    };
    if !allowed {
        return ret(CODE_PERMISSION_DENIED);
    }
    let Some(id) = parse_node_id(id_text) else { return ret(CODE_INVALID_NODE_ID) };
    let j = ctx.journal_mut();
    let mslot = member_slot(&id);
    let member: U256 = j.sload(CONSENSUS, mslot).map_err(db)?.data;
    let (index1, role): (U256, u8) = (member >> 8usize, member.byte(0));
    // Count sealers only when a sealer could be lost.
    let sealer_count = |j: &mut CTX::Journal| -> Result<u64, String> {
        let count = j.sload(CONSENSUS, LIST).map_err(db)?.data.saturating_to::<u64>();
        let base = list_base();
        let mut sealers = 0;
        for i in 0..count {
            let mut nid = [0u8; 64];
            nid[..32].copy_from_slice(
                &j.sload(CONSENSUS, base + U256::from(2 * i)).map_err(db)?.data.to_be_bytes::<32>(),
            );
            nid[32..].copy_from_slice(
                &j.sload(CONSENSUS, base + U256::from(2 * i + 1))
                    .map_err(db)?
                    .data
                    .to_be_bytes::<32>(),
            );
            if j.sload(CONSENSUS, member_slot(&nid)).map_err(db)?.data.byte(0) == 1 {
                sealers += 1;
            }
        }
        Ok(sealers)
    };
    match want {
        Some(new_role) => {
            if role == new_role {
                return ret(if new_role == 1 {
                    CODE_ALREADY_SEALER
                } else {
                    CODE_ALREADY_OBSERVER
                });
            }
            if role == 1 && sealer_count(j)? <= 1 {
                return ret(CODE_LAST_SEALER);
            }
            if index1.is_zero() {
                // A new member: append it to the list.
                if nodes >= MAX_LIST {
                    return Ok(revert(gas, "Consensus: a group has at most 1000 nodes", reservoir));
                }
                let count = j.sload(CONSENSUS, LIST).map_err(db)?.data;
                let base = list_base() + count * U256::from(2);
                j.sstore(CONSENSUS, base, U256::from_be_slice(&id[..32])).map_err(db)?;
                j.sstore(CONSENSUS, base + U256::from(1), U256::from_be_slice(&id[32..]))
                    .map_err(db)?;
                j.sstore(CONSENSUS, LIST, count + U256::from(1)).map_err(db)?;
                j.sstore(CONSENSUS, mslot, ((count + U256::from(1)) << 8) | U256::from(new_role))
                    .map_err(db)?;
            } else {
                j.sstore(CONSENSUS, mslot, (index1 << 8) | U256::from(new_role)).map_err(db)?;
            }
            ret(0)
        }
        None => {
            if index1.is_zero() {
                return ret(CODE_NOT_A_MEMBER);
            }
            if role == 1 && sealer_count(j)? <= 1 {
                return ret(CODE_LAST_SEALER);
            }
            // Move the last entry into the removed one's place.
            let count = j.sload(CONSENSUS, LIST).map_err(db)?.data;
            let last = count - U256::from(1);
            let idx = index1 - U256::from(1);
            let base = list_base();
            if idx != last {
                let a = j.sload(CONSENSUS, base + last * U256::from(2)).map_err(db)?.data;
                let b = j
                    .sload(CONSENSUS, base + last * U256::from(2) + U256::from(1))
                    .map_err(db)?
                    .data;
                j.sstore(CONSENSUS, base + idx * U256::from(2), a).map_err(db)?;
                j.sstore(CONSENSUS, base + idx * U256::from(2) + U256::from(1), b).map_err(db)?;
                let mut moved = [0u8; 64];
                moved[..32].copy_from_slice(&a.to_be_bytes::<32>());
                moved[32..].copy_from_slice(&b.to_be_bytes::<32>());
                let mslot_moved = member_slot(&moved);
                let moved_role = j.sload(CONSENSUS, mslot_moved).map_err(db)?.data.byte(0);
                j.sstore(CONSENSUS, mslot_moved, (index1 << 8) | U256::from(moved_role))
                    .map_err(db)?;
            }
            j.sstore(CONSENSUS, base + last * U256::from(2), U256::ZERO).map_err(db)?;
            j.sstore(CONSENSUS, base + last * U256::from(2) + U256::from(1), U256::ZERO)
                .map_err(db)?;
            j.sstore(CONSENSUS, mslot, U256::ZERO).map_err(db)?;
            j.sstore(CONSENSUS, LIST, last).map_err(db)?;
            ret(0)
        }
    }
}

/// An enumerable set of addresses kept in a system contract's storage under a name: the
/// count at H("count" ‖ name), member i at H("list" ‖ name) + i, and each member's (index + 1)
/// at H("row" ‖ name ‖ address). Removal moves the last member into the gap.
pub(crate) struct AddressSetStore<'a> {
    account: Address,
    name: std::borrow::Cow<'a, str>,
}

pub(crate) type DbError<J> = <<J as JournalTr>::Database as revm::Database>::Error;

impl AddressSetStore<'_> {
    /// A set under a computed name.
    pub(crate) fn owned(account: Address, name: String) -> AddressSetStore<'static> {
        AddressSetStore { account, name: std::borrow::Cow::Owned(name) }
    }

    /// Removes every member.
    pub(crate) fn clear<J: JournalTr>(&self, j: &mut J) -> Result<(), DbError<J>> {
        let count_slot = self.slot("count", None);
        let count = self.load(j, count_slot)?.saturating_to::<u64>();
        let base = self.slot("list", None);
        for i in 0..count {
            let at = base + U256::from(i);
            let who = Address::from_word(self.load(j, at)?.into());
            j.sstore(self.account, self.slot("row", Some(&who)), U256::ZERO)?;
            j.sstore(self.account, at, U256::ZERO)?;
        }
        if count > 0 {
            j.sstore(self.account, count_slot, U256::ZERO)?;
        }
        Ok(())
    }

    /// Number of members.
    pub(crate) fn len<J: JournalTr>(&self, j: &mut J) -> Result<u64, DbError<J>> {
        Ok(self.load(j, self.slot("count", None))?.saturating_to::<u64>())
    }

    pub(crate) fn row_slot(&self, who: &Address) -> U256 {
        self.slot("row", Some(who))
    }

    pub(crate) fn count_slot(&self) -> U256 {
        self.slot("count", None)
    }

    pub(crate) fn list_slot(&self) -> U256 {
        self.slot("list", None)
    }

    fn slot(&self, kind: &str, a: Option<&Address>) -> U256 {
        let mut data = format!("jinlian.set.{kind}.{}", self.name).into_bytes();
        if let Some(a) = a {
            data.extend_from_slice(a.as_slice());
        }
        U256::from_be_bytes(keccak256(data).0)
    }

    fn load<J: JournalTr>(&self, j: &mut J, slot: U256) -> Result<U256, DbError<J>> {
        // Another system contract's set (the committee writes Permission's whitelists) must
        // be in the journal before its storage is touched.
        j.load_account(self.account)?;
        Ok(j.sload(self.account, slot)?.data)
    }

    pub(crate) fn contains<J: JournalTr>(
        &self,
        j: &mut J,
        who: &Address,
    ) -> Result<bool, DbError<J>> {
        Ok(!self.load(j, self.slot("row", Some(who)))?.is_zero())
    }

    pub(crate) fn members<J: JournalTr>(
        &self,
        j: &mut J,
        limit: u64,
    ) -> Result<Vec<Address>, DbError<J>> {
        let count = self.load(j, self.slot("count", None))?.saturating_to::<u64>();
        let base = self.slot("list", None);
        (0..count.min(limit))
            .map(|i| Ok(Address::from_word(self.load(j, base + U256::from(i))?.into())))
            .collect()
    }

    /// Adds `who`; false if already a member.
    pub(crate) fn insert<J: JournalTr>(
        &self,
        j: &mut J,
        who: &Address,
    ) -> Result<bool, DbError<J>> {
        let row = self.slot("row", Some(who));
        if !self.load(j, row)?.is_zero() {
            return Ok(false);
        }
        let count_slot = self.slot("count", None);
        let count = self.load(j, count_slot)?;
        j.sstore(
            self.account,
            self.slot("list", None) + count,
            U256::from_be_slice(who.as_slice()),
        )?;
        j.sstore(self.account, row, count + U256::from(1))?;
        j.sstore(self.account, count_slot, count + U256::from(1))?;
        Ok(true)
    }

    /// Removes `who`; false if not a member.
    pub(crate) fn remove<J: JournalTr>(
        &self,
        j: &mut J,
        who: &Address,
    ) -> Result<bool, DbError<J>> {
        let row = self.slot("row", Some(who));
        let index1 = self.load(j, row)?;
        if index1.is_zero() {
            return Ok(false);
        }
        let count_slot = self.slot("count", None);
        let last = self.load(j, count_slot)? - U256::from(1);
        let base = self.slot("list", None);
        let idx = index1 - U256::from(1);
        if idx != last {
            let moved = self.load(j, base + last)?;
            j.sstore(self.account, base + idx, moved)?;
            j.sstore(
                self.account,
                self.slot("row", Some(&Address::from_word(moved.into()))),
                index1,
            )?;
        }
        j.sstore(self.account, base + last, U256::ZERO)?;
        j.sstore(self.account, row, U256::ZERO)?;
        j.sstore(self.account, count_slot, last)?;
        Ok(true)
    }

    /// The members, read from a state outside the EVM.
    pub(crate) fn read(&self, state: &dyn StateView) -> Result<Vec<Address>, StateError> {
        let slot = |s: U256| -> Result<U256, StateError> {
            Ok(state
                .get(&keys::storage(&self.account, &s))?
                .map_or(U256::ZERO, |v| U256::from_be_slice(&v)))
        };
        let count = slot(self.slot("count", None))?.saturating_to::<u64>();
        let base = self.slot("list", None);
        (0..count).map(|i| Ok(Address::from_word(slot(base + U256::from(i))?.into()))).collect()
    }
}

pub(crate) fn table_set(table: &str) -> AddressSetStore<'_> {
    AddressSetStore { account: PERMISSION, name: table.into() }
}

/// The whitelist of `table` in a state (empty: anyone may act).
pub fn whitelist(state: &dyn StateView, table: &str) -> Result<Vec<Address>, StateError> {
    table_set(table).read(state)
}

/// Whether `who` may deploy contracts in a state (the `_sys_tables_` whitelist): two reads.
pub fn may_deploy(state: &dyn StateView, who: &Address) -> Result<bool, StateError> {
    let set = table_set(tables::DEPLOY);
    Ok(read_slot(state, PERMISSION, set.count_slot())?.is_zero()
        || !read_slot(state, PERMISSION, set.row_slot(who))?.is_zero())
}

const PERM_GAS: u64 = 30_000;

fn permission<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    allowed: bool,
) -> Result<PrecompileOutput, String> {
    let reservoir = inputs.reservoir;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("permission storage: {e}");
    let Ok(call) = IPermission::IPermissionCalls::abi_decode(data) else {
        return Ok(revert(GET_GAS, "Permission: unknown function or bad arguments", reservoir));
    };
    if inputs.gas_limit < PERM_GAS {
        return Ok(out_of_gas(reservoir));
    }
    let ret = |code: i32| {
        let v = int(code);
        Ok(output(PERM_GAS, IPermission::insertCall::abi_encode_returns(&v), reservoir))
    };
    let (table, addr, grant) = match call {
        IPermission::IPermissionCalls::queryByName(c) => {
            let table = c.table_name.trim().to_string();
            let len = table_set(&table).len(ctx.journal_mut()).map_err(db)?.min(MAX_LIST);
            let read = GET_GAS + LIST_ITEM_GAS * len;
            if read > inputs.gas_limit {
                return Ok(out_of_gas(reservoir));
            }
            let rows: Vec<String> = table_set(&table)
                .members(ctx.journal_mut(), MAX_LIST)
                .map_err(db)?
                .iter()
                .map(|a| {
                    format!(
                        "{{\"table_name\":\"{table}\",\"address\":\"{}\"}}",
                        a.to_string().to_lowercase()
                    )
                })
                .collect();
            let json = format!("[{}]", rows.join(","));
            return Ok(output(
                read,
                IPermission::queryByNameCall::abi_encode_returns(&json),
                reservoir,
            ));
        }
        IPermission::IPermissionCalls::insert(c) => (c.table_name, c.addr, true),
        IPermission::IPermissionCalls::remove(c) => (c.table_name, c.addr, false),
    };
    if inputs.is_static {
        return Ok(revert(PERM_GAS, "Permission: changes cannot run in a static call", reservoir));
    }
    if !allowed {
        return ret(CODE_PERMISSION_DENIED);
    }
    let table = table.trim().to_string();
    let Ok(who) = addr.trim().parse::<Address>() else {
        return Ok(revert(PERM_GAS, "Permission: address must be 20 bytes of hex", reservoir));
    };
    if !tables::ALL.contains(&table.as_str()) {
        return Ok(revert(
            PERM_GAS,
            "Permission: unknown table (use _sys_config_, _sys_consensus_, _sys_table_access_, _sys_tables_ or _sys_cns_)",
            reservoir,
        ));
    }
    let set = table_set(&table);
    let j = ctx.journal_mut();
    let governed = [tables::ACCESS, tables::CONFIG, tables::CONSENSUS];
    if governed.contains(&table.as_str()) && governance::has_committee(j).map_err(db)? {
        return ret(CODE_COMMITTEE_PERMISSION);
    }
    if grant {
        if set.len(j).map_err(db)? >= MAX_LIST {
            return Ok(revert(
                PERM_GAS,
                "Permission: a whitelist holds at most 1000 accounts",
                reservoir,
            ));
        }
        if !set.insert(j, &who).map_err(db)? {
            return ret(CODE_ROW_EXISTS);
        }
    } else if !set.remove(j, &who).map_err(db)? {
        return ret(CODE_ROW_MISSING);
    }
    ret(0)
}

// ContractLifeCycle layout: frozen flag at H("jinlian.lifecycle.frozen" ‖ contract) (1 =
// frozen), the deployer (written by the executor when a transaction creates the contract) at
// H("jinlian.lifecycle.deployer" ‖ contract), and granted managers in an address set.
fn lifecycle_slot(kind: &str, contract: &Address) -> U256 {
    let data = [format!("jinlian.lifecycle.{kind}").as_bytes(), contract.as_slice()].concat();
    U256::from_be_bytes(keccak256(data).0)
}

fn managers_name(contract: &Address) -> String {
    format!("managers.{contract:x}")
}

/// The ContractLifeCycle slot and value recording `deployer` as the creator (first manager)
/// of `contract`.
pub(crate) fn deployer_slot(contract: &Address, deployer: &Address) -> (U256, U256) {
    (lifecycle_slot("deployer", contract), U256::from_be_slice(deployer.as_slice()))
}

/// Whether `contract` is frozen in a state (calls to it fail with status 30).
pub fn is_frozen(state: &dyn StateView, contract: &Address) -> Result<bool, StateError> {
    let key = keys::storage(&LIFECYCLE, &lifecycle_slot("frozen", contract));
    Ok(state.get(&key)?.is_some_and(|v| v.iter().any(|b| *b != 0)))
}

const LIFECYCLE_GAS: u64 = 30_000;

fn lifecycle<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    origin: &Address,
) -> Result<PrecompileOutput, String> {
    use IContractLifeCycle::IContractLifeCycleCalls as Call;
    let reservoir = inputs.reservoir;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("lifecycle storage: {e}");
    let Ok(call) = Call::abi_decode(data) else {
        return Ok(revert(
            GET_GAS,
            "ContractLifeCycle: unknown function or bad arguments",
            reservoir,
        ));
    };
    if inputs.gas_limit < LIFECYCLE_GAS {
        return Ok(out_of_gas(reservoir));
    }
    let ret = |code: i32| {
        Ok(output(
            LIFECYCLE_GAS,
            IContractLifeCycle::freezeCall::abi_encode_returns(&int(code)),
            reservoir,
        ))
    };
    let contract = match &call {
        Call::freeze(c) => c.addr,
        Call::unfreeze(c) => c.addr,
        Call::getStatus(c) => c.addr,
        Call::listManager(c) => c.addr,
        Call::grantManager(c) => c.contractAddr,
        Call::revokeManager(c) => c.contractAddr,
    };
    let name = managers_name(&contract);
    let set = AddressSetStore { account: LIFECYCLE, name: name.as_str().into() };
    let j = ctx.journal_mut();
    let deployer = Address::from_word(
        j.sload(LIFECYCLE, lifecycle_slot("deployer", &contract)).map_err(db)?.data.into(),
    );
    let frozen_slot = lifecycle_slot("frozen", &contract);
    let frozen = !j.sload(LIFECYCLE, frozen_slot).map_err(db)?.data.is_zero();
    match call {
        Call::getStatus(_) => {
            let (code, msg) = if frozen { (1, "frozen") } else { (0, "available") };
            let out = IContractLifeCycle::getStatusCall::abi_encode_returns(
                &IContractLifeCycle::getStatusReturn { _0: int(code), _1: msg.to_string() },
            );
            return Ok(output(GET_GAS, out, reservoir));
        }
        Call::listManager(_) => {
            let read = GET_GAS + LIST_ITEM_GAS * set.len(j).map_err(db)?.min(MAX_LIST);
            if read > inputs.gas_limit {
                return Ok(out_of_gas(reservoir));
            }
            let mut list = set.members(j, MAX_LIST).map_err(db)?;
            if !deployer.is_zero() && !list.contains(&deployer) {
                list.insert(0, deployer);
            }
            let out = IContractLifeCycle::listManagerCall::abi_encode_returns(
                &IContractLifeCycle::listManagerReturn { _0: int(0), _1: list },
            );
            return Ok(output(read, out, reservoir));
        }
        _ => {}
    }
    if inputs.is_static {
        return Ok(revert(
            LIFECYCLE_GAS,
            "ContractLifeCycle: changes cannot run in a static call",
            reservoir,
        ));
    }
    // Managers of a contract: whoever deployed it, and whoever a manager granted.
    let is_manager = *origin == deployer || set.contains(j, origin).map_err(db)?;
    if !is_manager {
        return ret(CODE_PERMISSION_DENIED);
    }
    match call {
        Call::freeze(_) if frozen => ret(CODE_ALREADY_FROZEN),
        Call::unfreeze(_) if !frozen => ret(CODE_ALREADY_AVAILABLE),
        Call::freeze(_) | Call::unfreeze(_) => {
            let v = if frozen { U256::ZERO } else { U256::from(1) };
            j.sstore(LIFECYCLE, frozen_slot, v).map_err(db)?;
            ret(0)
        }
        Call::grantManager(c) => {
            if set.len(j).map_err(db)? >= MAX_LIST {
                return Ok(revert(
                    LIFECYCLE_GAS,
                    "ContractLifeCycle: a contract has at most 1000 managers",
                    reservoir,
                ));
            }
            if c.userAddr == deployer || !set.insert(j, &c.userAddr).map_err(db)? {
                return ret(CODE_ROW_EXISTS);
            }
            ret(0)
        }
        Call::revokeManager(c) => {
            if !set.remove(j, &c.userAddr).map_err(db)? {
                return ret(CODE_ROW_MISSING);
            }
            ret(0)
        }
        Call::getStatus(_) | Call::listManager(_) => ret(0),
    }
}
