//! CNS (contract name service, FISCO 2.x address `0x1004`) with gray-upgrade routing.
//!
//! FISCO 2.x functions: `insert(name, version, addr, abi)`, `selectByName`,
//! `selectByNameAndVersion`, `getContractAddress`, with its codes (-51200 the name and version
//! exist, -51201 version longer than 128 bytes, -50102 not a contract address).
//!
//! Jinlian adds **routing**: every name has a fixed address, [`name_address`] (also returned
//! by `nameAddress(name)`). A call to that address, from a transaction or from a contract,
//! runs the version the name routes the transaction's origin to, with `msg.sender`, value
//! and calldata unchanged; the caller never changes its code. A name routes to its
//! **primary** version (the first one inserted, until moved) and optionally to one
//! **canary** version for a list of callers (`setRouteCallers`) and for a percentage of all
//! origins (`setRoute`; an origin's bucket is H(name ‖ origin) mod 100, so each caller
//! stays on one side while the percentage holds). `setRoute(name, v, 100)` makes `v` the
//! primary and ends the canary. Whoever inserted a name first owns it: only the owner adds
//! versions and changes routes (and only callers the `_sys_cns_` whitelist allows, when it
//! has entries). Routes apply from the next block, like every system change; the `resolve`
//! and `getRoute` views show the route as written (in the block of a change, calls still go
//! where the parent state's route sends them).

use super::{
    AddressSetStore, CODE_PERMISSION_DENIED, GET_GAS, int, out_of_gas, output, read_slot, revert,
    slot_of,
};
use crate::state::{StateError, StateView};
use alloy_primitives::{Address, U256, address, keccak256};
use alloy_sol_types::{SolCall, SolInterface, sol};
use revm::context_interface::{ContextTr, JournalTr};
use revm::interpreter::CallInputs;
use revm::precompile::PrecompileOutput;

/// CNS (FISCO 2.x address).
pub const CNS: Address = address!("0000000000000000000000000000000000001004");

/// FISCO 2.x: this name and version are already registered.
pub const CODE_ADDRESS_AND_VERSION_EXIST: i32 = -51200;
/// FISCO 2.x: the version is longer than 128 bytes.
pub const CODE_VERSION_LENGTH_OVERFLOW: i32 = -51201;
/// The name has no such version (Jinlian routing).
pub const CODE_VERSION_NOT_EXIST: i32 = -51202;
/// FISCO 2.x: the address is not a contract.
pub const CODE_ADDRESS_INVALID: i32 = -50102;

/// Longest name and version (FISCO 2.x).
pub const MAX_NAME: usize = 128;
/// Largest ABI text stored with a version.
pub const MAX_ABI: usize = 128 * 1024;
/// Most versions one name may have.
pub const MAX_VERSIONS: u64 = 1000;
/// Most callers on a canary list.
pub const MAX_CALLERS: usize = 100;

const WRITE_GAS: u64 = 30_000;
const WORD_GAS: u64 = 20_000;
const READ_WORD_GAS: u64 = 200;
/// Gas per version or caller a read walks (a few storage words each).
const ITEM_GAS: u64 = 1_000;

sol! {
    /// FISCO BCOS 2.x CNSPrecompiled, plus Jinlian's routing.
    interface ICns {
        function insert(string name, string version, string addr, string abi) external returns (int256);
        function selectByName(string name) external view returns (string);
        function selectByNameAndVersion(string name, string version) external view returns (string);
        function getContractAddress(string name, string version) external view returns (address);
        function nameAddress(string name) external view returns (address);
        function setRoute(string name, string version, uint256 percent) external returns (int256);
        function setRouteCallers(string name, string version, address[] callers) external returns (int256);
        function getRoute(string name) external view returns (address nameAddr, string primary, string canary, uint256 percent, address[] callers);
        function resolve(string name, address caller) external view returns (address);
    }
}

/// The fixed address calls to `name` go to (routed to one of its versions).
pub fn name_address(name: &str) -> Address {
    Address::from_slice(
        &keccak256([b"jinlian.cns.address.".as_slice(), name.as_bytes()].concat())[12..],
    )
}

/// Where a name sends calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The name.
    pub name: String,
    /// Address of the primary version.
    pub primary: Address,
    /// Address of the canary version and the percentage of origins it gets.
    pub canary: Option<(Address, u8)>,
    /// Origins always sent to the canary.
    pub callers: Vec<Address>,
}

impl Route {
    /// The version address a transaction from `origin` reaches through the name.
    pub fn resolve(&self, origin: &Address) -> Address {
        match self.canary {
            Some((canary, percent))
                if self.callers.contains(origin) || bucket(&self.name, origin) < percent =>
            {
                canary
            }
            _ => self.primary,
        }
    }
}

/// An origin's bucket (0..100) for a name's percentage routing.
pub fn bucket(name: &str, origin: &Address) -> u8 {
    let h = keccak256([name.as_bytes(), origin.as_slice()].concat());
    (u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 100) as u8
}

// Layout in the CNS account: a name's record at H(name) (+0 version count, +1 owner,
// +2 primary index + 1, +3 canary index + 1, +4 canary percent); version i's entry at
// H(name, i) (+0 address, +1 height inserted; version and ABI text in byte stores); a
// (name, version) → index + 1 lookup; the name behind each name address; canary callers in
// an address set.
fn name_base(name: &str) -> U256 {
    slot_of(&[b"jinlian.cns.name", name.as_bytes()])
}

fn entry_base(name: &str, index: u64) -> U256 {
    slot_of(&[b"jinlian.cns.entry", &index.to_be_bytes(), name.as_bytes()])
}

fn version_slot(name: &str, version: &str) -> U256 {
    let len = (name.len() as u64).to_be_bytes();
    slot_of(&[b"jinlian.cns.version", &len, name.as_bytes(), version.as_bytes()])
}

fn text_slot(entry: U256, kind: &[u8]) -> U256 {
    slot_of(&[b"jinlian.cns.text", kind, &entry.to_be_bytes::<32>()])
}

fn addr_name_slot(a: &Address) -> U256 {
    slot_of(&[b"jinlian.cns.addr", a.as_slice()])
}

fn callers_set(name: &str) -> AddressSetStore<'static> {
    AddressSetStore::owned(CNS, format!("cns.callers.{}", alloy_primitives::hex::encode(name)))
}

/// The route behind `a` in a state, if `a` is a name's address.
pub fn route_at(state: &dyn StateView, a: &Address) -> Result<Option<Route>, StateError> {
    let name_bytes = super::read_bytes(state, CNS, addr_name_slot(a))?;
    if name_bytes.is_empty() {
        return Ok(None);
    }
    let name = String::from_utf8_lossy(&name_bytes).into_owned();
    let base = name_base(&name);
    let word = |s: U256| read_slot(state, CNS, s);
    let version_address = |index1: U256| -> Result<Option<Address>, StateError> {
        if index1.is_zero() {
            return Ok(None);
        }
        let i = index1.saturating_to::<u64>() - 1;
        Ok(Some(Address::from_word(word(entry_base(&name, i))?.into())))
    };
    let Some(primary) = version_address(word(base + U256::from(2))?)? else { return Ok(None) };
    let percent = word(base + U256::from(4))?.saturating_to::<u8>();
    let canary = version_address(word(base + U256::from(3))?)?.map(|c| (c, percent));
    let callers = callers_set(&name).read(state)?;
    Ok(Some(Route { name, primary, canary, callers }))
}

struct Entry {
    version: String,
    address: Address,
    abi: String,
}

/// Runs a CNS call. `allowed`: the origin passes the `_sys_cns_` whitelist.
pub(super) fn run<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    origin: &Address,
    allowed: bool,
    height: u64,
) -> Result<PrecompileOutput, String> {
    use ICns::ICnsCalls as Call;
    let reservoir = inputs.reservoir;
    let gas_limit = inputs.gas_limit;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("CNS storage: {e}");
    let Ok(call) = Call::abi_decode(data) else {
        return Ok(revert(GET_GAS, "CNS: unknown function or bad arguments", reservoir));
    };
    let oog = || Ok(out_of_gas(reservoir));
    let name = match &call {
        Call::insert(c) => c.name.clone(),
        Call::selectByName(c) => c.name.clone(),
        Call::selectByNameAndVersion(c) => c.name.clone(),
        Call::getContractAddress(c) => c.name.clone(),
        Call::nameAddress(c) => c.name.clone(),
        Call::setRoute(c) => c.name.clone(),
        Call::setRouteCallers(c) => c.name.clone(),
        Call::getRoute(c) => c.name.clone(),
        Call::resolve(c) => c.name.clone(),
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return Ok(revert(GET_GAS, "CNS: a name must be 1 to 128 bytes", reservoir));
    }
    let j = ctx.journal_mut();
    let base = name_base(&name);
    let count = j.sload(CNS, base).map_err(db)?.data.saturating_to::<u64>();
    let owner = Address::from_word(j.sload(CNS, base + U256::from(1)).map_err(db)?.data.into());
    let primary1 = j.sload(CNS, base + U256::from(2)).map_err(db)?.data;
    let canary1 = j.sload(CNS, base + U256::from(3)).map_err(db)?.data;
    let percent = j.sload(CNS, base + U256::from(4)).map_err(db)?.data;
    let index_of = |j: &mut CTX::Journal, version: &str| -> Result<Option<u64>, String> {
        let v = j.sload(CNS, version_slot(&name, version)).map_err(db)?.data;
        Ok((!v.is_zero()).then(|| v.saturating_to::<u64>() - 1))
    };
    let version_at = |j: &mut CTX::Journal, index1: U256| -> Result<String, String> {
        if index1.is_zero() {
            return Ok(String::new());
        }
        let e = entry_base(&name, index1.saturating_to::<u64>() - 1);
        let v = super::load_bytes(j, CNS, text_slot(e, b"version"), MAX_NAME).map_err(db)?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    };
    let address_at = |j: &mut CTX::Journal, index: u64| -> Result<Address, String> {
        Ok(Address::from_word(j.sload(CNS, entry_base(&name, index)).map_err(db)?.data.into()))
    };
    match call {
        Call::nameAddress(_) => {
            let out = ICns::nameAddressCall::abi_encode_returns(&name_address(&name));
            return Ok(output(GET_GAS, out, reservoir));
        }
        Call::getContractAddress(c) => {
            let index = if c.version.is_empty() {
                (!primary1.is_zero()).then(|| primary1.saturating_to::<u64>() - 1)
            } else {
                index_of(j, &c.version)?
            };
            let a = match index {
                Some(i) => address_at(j, i)?,
                None => Address::ZERO,
            };
            let out = ICns::getContractAddressCall::abi_encode_returns(&a);
            return Ok(output(GET_GAS, out, reservoir));
        }
        Call::selectByName(_) | Call::selectByNameAndVersion(_) => {
            let only = match &call {
                Call::selectByNameAndVersion(c) => Some(c.version.clone()),
                _ => None,
            };
            let indices: Vec<u64> = match &only {
                Some(v) => index_of(j, v)?.into_iter().collect(),
                None => (0..count).collect(),
            };
            // The price of the whole answer is known from the lengths before any text is read.
            let mut gas = GET_GAS.saturating_add(ITEM_GAS.saturating_mul(indices.len() as u64));
            if gas > gas_limit {
                return oog();
            }
            for &i in &indices {
                let e = entry_base(&name, i);
                for kind in [b"version".as_slice(), b"abi".as_slice()] {
                    let len = j.sload(CNS, text_slot(e, kind)).map_err(db)?.data;
                    let words = len.saturating_to::<u64>().min(MAX_ABI as u64).div_ceil(32);
                    gas = gas.saturating_add(READ_WORD_GAS.saturating_mul(words));
                }
                if gas > gas_limit {
                    return oog();
                }
            }
            let mut entries = Vec::new();
            for i in indices {
                let e = entry_base(&name, i);
                let version =
                    super::load_bytes(j, CNS, text_slot(e, b"version"), MAX_NAME).map_err(db)?;
                let abi = super::load_bytes(j, CNS, text_slot(e, b"abi"), MAX_ABI).map_err(db)?;
                entries.push(Entry {
                    version: String::from_utf8_lossy(&version).into_owned(),
                    address: address_at(j, i)?,
                    abi: String::from_utf8_lossy(&abi).into_owned(),
                });
            }
            let json = serde_json::Value::Array(
                entries
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "name": name,
                            "version": e.version,
                            "address": format!("{:#x}", e.address),
                            "abi": e.abi,
                        })
                    })
                    .collect(),
            )
            .to_string();
            let out = ICns::selectByNameCall::abi_encode_returns(&json);
            return Ok(output(gas, out, reservoir));
        }
        Call::getRoute(_) | Call::resolve(_)
            if ITEM_GAS
                .saturating_mul(callers_set(&name).len(j).map_err(db)?.min(MAX_CALLERS as u64))
                .saturating_add(GET_GAS)
                > gas_limit =>
        {
            return oog();
        }
        Call::getRoute(_) => {
            let callers = callers_set(&name).members(j, MAX_CALLERS as u64).map_err(db)?;
            let out = ICns::getRouteCall::abi_encode_returns(&ICns::getRouteReturn {
                nameAddr: name_address(&name),
                primary: version_at(j, primary1)?,
                canary: version_at(j, canary1)?,
                percent: if canary1.is_zero() { U256::ZERO } else { percent },
                callers: callers.clone(),
            });
            let read = GET_GAS + ITEM_GAS * callers.len() as u64;
            return Ok(output(read, out, reservoir));
        }
        Call::resolve(c) => {
            let a = if primary1.is_zero() {
                Address::ZERO
            } else {
                let primary = address_at(j, primary1.saturating_to::<u64>() - 1)?;
                let canary = if canary1.is_zero() {
                    None
                } else {
                    Some((
                        address_at(j, canary1.saturating_to::<u64>() - 1)?,
                        percent.saturating_to(),
                    ))
                };
                let callers = callers_set(&name).members(j, MAX_CALLERS as u64).map_err(db)?;
                Route { name: name.clone(), primary, canary, callers }.resolve(&c.caller)
            };
            let out = ICns::resolveCall::abi_encode_returns(&a);
            return Ok(output(GET_GAS + ITEM_GAS * MAX_CALLERS as u64, out, reservoir));
        }
        _ => {}
    }
    // Changes.
    if inputs.is_static {
        return Ok(revert(
            WRITE_GAS.min(gas_limit),
            "CNS: changes cannot run in a static call",
            reservoir,
        ));
    }
    if gas_limit < WRITE_GAS {
        return oog();
    }
    let ret = |gas: u64, code: i32| {
        Ok(output(gas, ICns::insertCall::abi_encode_returns(&int(code)), reservoir))
    };
    if !allowed || (count > 0 && owner != *origin) {
        return ret(WRITE_GAS, CODE_PERMISSION_DENIED);
    }
    match call {
        Call::insert(c) => {
            if c.version.len() > MAX_NAME {
                return ret(WRITE_GAS, CODE_VERSION_LENGTH_OVERFLOW);
            }
            if c.version.is_empty() {
                return Ok(revert(WRITE_GAS, "CNS: the version must not be empty", reservoir));
            }
            if c.abi.len() > MAX_ABI {
                return Ok(revert(WRITE_GAS, "CNS: the ABI must be at most 128 KiB", reservoir));
            }
            if count >= MAX_VERSIONS {
                return Ok(revert(WRITE_GAS, "CNS: a name has at most 1000 versions", reservoir));
            }
            if index_of(j, &c.version)?.is_some() {
                return ret(WRITE_GAS, CODE_ADDRESS_AND_VERSION_EXIST);
            }
            let Ok(target) = c.addr.trim().parse::<Address>() else {
                return ret(WRITE_GAS, CODE_ADDRESS_INVALID);
            };
            let is_contract = j
                .load_account_with_code(target)
                .map_err(db)?
                .data
                .info
                .code
                .as_ref()
                .is_some_and(|code| !code.is_empty());
            if !is_contract {
                return ret(WRITE_GAS, CODE_ADDRESS_INVALID);
            }
            let words = (c.version.len() as u64).div_ceil(32) + (c.abi.len() as u64).div_ceil(32);
            let gas = WRITE_GAS.saturating_add(WORD_GAS.saturating_mul(words));
            if gas > gas_limit {
                return oog();
            }
            let e = entry_base(&name, count);
            j.sstore(CNS, e, U256::from_be_slice(target.as_slice())).map_err(db)?;
            j.sstore(CNS, e + U256::from(1), U256::from(height)).map_err(db)?;
            super::store_bytes(j, CNS, text_slot(e, b"version"), c.version.as_bytes())
                .map_err(db)?;
            super::store_bytes(j, CNS, text_slot(e, b"abi"), c.abi.as_bytes()).map_err(db)?;
            j.sstore(CNS, version_slot(&name, &c.version), U256::from(count + 1)).map_err(db)?;
            j.sstore(CNS, base, U256::from(count + 1)).map_err(db)?;
            if count == 0 {
                j.sstore(CNS, base + U256::from(1), U256::from_be_slice(origin.as_slice()))
                    .map_err(db)?;
                j.sstore(CNS, base + U256::from(2), U256::from(1)).map_err(db)?;
                let at = name_address(&name);
                super::store_bytes(j, CNS, addr_name_slot(&at), name.as_bytes()).map_err(db)?;
                // The name's address looks like a contract (nonce 1, code 0xfe, as the system
                // accounts): Solidity's extcodesize check before a call passes, and value
                // sent through the name does not pay for creating an account.
                j.load_account(at).map_err(db)?;
                let marker = alloy_primitives::Bytes::from_static(&[0xfe]);
                j.set_code(at, revm::bytecode::Bytecode::new_raw(marker));
                {
                    use revm::context_interface::journaled_state::account::JournaledAccountTr;
                    j.load_account_mut(at).map_err(db)?.data.bump_nonce();
                }
            }
            // FISCO returns the number of rows written.
            ret(gas, 1)
        }
        Call::setRoute(c) => {
            let Some(index) = index_of(j, &c.version)? else {
                return ret(WRITE_GAS, CODE_VERSION_NOT_EXIST);
            };
            if c.percent > U256::from(100) {
                return Ok(revert(WRITE_GAS, "CNS: percent must be 0 to 100", reservoir));
            }
            let index1 = U256::from(index + 1);
            let p = c.percent;
            let callers = callers_set(&name);
            if p == U256::from(100) {
                j.sstore(CNS, base + U256::from(2), index1).map_err(db)?;
                j.sstore(CNS, base + U256::from(3), U256::ZERO).map_err(db)?;
                j.sstore(CNS, base + U256::from(4), U256::ZERO).map_err(db)?;
                callers.clear(j).map_err(db)?;
            } else if index1 == primary1 {
                return Ok(revert(
                    WRITE_GAS,
                    "CNS: the primary version takes what the canary does not; route another version instead",
                    reservoir,
                ));
            } else {
                if index1 != canary1 {
                    callers.clear(j).map_err(db)?;
                }
                j.sstore(CNS, base + U256::from(3), index1).map_err(db)?;
                j.sstore(CNS, base + U256::from(4), p).map_err(db)?;
            }
            ret(WRITE_GAS, 0)
        }
        Call::setRouteCallers(c) => {
            let Some(index) = index_of(j, &c.version)? else {
                return ret(WRITE_GAS, CODE_VERSION_NOT_EXIST);
            };
            if c.callers.len() > MAX_CALLERS {
                return Ok(revert(WRITE_GAS, "CNS: at most 100 callers per route", reservoir));
            }
            let index1 = U256::from(index + 1);
            if index1 == primary1 {
                return Ok(revert(
                    WRITE_GAS,
                    "CNS: callers are routed to a canary version, not the primary",
                    reservoir,
                ));
            }
            let gas = WRITE_GAS.saturating_add(WORD_GAS.saturating_mul(c.callers.len() as u64));
            if gas > gas_limit {
                return oog();
            }
            let callers = callers_set(&name);
            callers.clear(j).map_err(db)?;
            for who in &c.callers {
                callers.insert(j, who).map_err(db)?;
            }
            if index1 != canary1 {
                j.sstore(CNS, base + U256::from(3), index1).map_err(db)?;
                j.sstore(CNS, base + U256::from(4), U256::ZERO).map_err(db)?;
            }
            ret(gas, 0)
        }
        _ => ret(WRITE_GAS, 0),
    }
}
