//! Native system contracts at FISCO BCOS 2.x addresses, run as stateful precompiles.
//!
//! So far: **SystemConfig** at `0x1000` — `setValueByKey(string,string) returns (int32)` and
//! `getValueByKey(string) returns (string, int256)` with FISCO's keys, validation and return
//! codes. A value set in block `h` is stored with enable number `h + 1` and the executor reads
//! it when it starts a block, so every node switches at the same height.
//!
//! A system contract keeps its tables in its own account's storage, so they are part of the
//! state diff and the state root. Those accounts must exist (nonce 1) from genesis, or the
//! EIP-161 clean-up would delete them and their storage after each transaction:
//! [`install_genesis`] creates them.

use crate::state::{MemState, StateError, StateView, keys};
use alloy_primitives::{Address, Bytes, U256, address, keccak256};
use alloy_sol_types::{SolCall, SolError, SolInterface, sol};
use revm::context::Cfg;
use revm::context_interface::{ContextTr, JournalTr};
use revm::handler::{EthPrecompiles, PrecompileProvider};
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::precompile::PrecompileOutput;
use revm::primitives::AddressSet;
use revm::primitives::hardfork::SpecId;

/// SystemConfig (FISCO 2.x address).
pub const SYSTEM_CONFIG: Address = address!("0000000000000000000000000000000000001000");

/// Every system contract address (their accounts exist from genesis).
pub const SYSTEM_CONTRACTS: [Address; 1] = [SYSTEM_CONFIG];

/// FISCO 2.x return code for an invalid configuration key or value.
pub const CODE_INVALID_CONFIG: i32 = -51300;

/// Gas charged by a SystemConfig write and read (fixed, like a storage write and read).
const SET_GAS: u64 = 25_000;
const GET_GAS: u64 = 3_000;

sol! {
    /// FISCO BCOS 2.x SystemConfigPrecompiled.
    interface ISystemConfig {
        function setValueByKey(string key, string value) external returns (int32);
        function getValueByKey(string key) external view returns (string value, int256 enableNum);
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
    w[..b.len()].copy_from_slice(b);
    w[31] = b.len() as u8;
    U256::from_be_bytes(w)
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
        state
            .entries
            .insert(keys::storage(&SYSTEM_CONFIG, &base), pack(v).to_be_bytes::<32>().to_vec());
    }
}

/// Ethereum's precompiles plus ours.
#[derive(Debug)]
pub struct SystemPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
    height: u64,
}

impl SystemPrecompiles {
    /// The precompiles for a block at `height` (writes record `height + 1` as enable number).
    pub fn new(spec: SpecId, height: u64) -> Self {
        let eth = EthPrecompiles::new(spec);
        let mut warm = eth.warm_addresses().clone();
        for a in SYSTEM_CONTRACTS {
            warm.insert(a);
        }
        Self { eth, warm, height }
    }
}

fn output(gas: u64, bytes: Vec<u8>, reservoir: u64) -> PrecompileOutput {
    PrecompileOutput::new(gas, Bytes::from(bytes), reservoir)
}

fn revert(gas: u64, reason: &str, reservoir: u64) -> PrecompileOutput {
    // Error(string), as Solidity's require: tools decode the reason.
    let data = alloy_sol_types::Revert::from(reason).abi_encode();
    PrecompileOutput::revert(gas, Bytes::from(data), reservoir)
}

impl<CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>> PrecompileProvider<CTX> for SystemPrecompiles {
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
        if inputs.bytecode_address != SYSTEM_CONFIG {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, ctx, inputs);
        }
        let data = inputs.input.as_bytes(ctx).to_vec();
        let out = system_config(ctx, &data, inputs, self.height)?;
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
) -> Result<PrecompileOutput, String> {
    let reservoir = inputs.reservoir;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("system config storage: {e}");
    let Ok(call) = ISystemConfig::ISystemConfigCalls::abi_decode(data) else {
        return Ok(revert(
            GET_GAS.min(inputs.gas_limit),
            "SystemConfig: unknown function or bad arguments",
            reservoir,
        ));
    };
    match call {
        ISystemConfig::ISystemConfigCalls::setValueByKey(c) => {
            if inputs.gas_limit < SET_GAS {
                return Ok(PrecompileOutput::halt(
                    revm::precompile::PrecompileHalt::OutOfGas,
                    reservoir,
                ));
            }
            if inputs.is_static {
                return Ok(revert(
                    SET_GAS,
                    "SystemConfig: setValueByKey cannot run in a static call",
                    reservoir,
                ));
            }
            let key = c.key.trim().to_ascii_lowercase();
            let value = c.value.trim();
            if !check_config(&key, value) {
                let ret =
                    ISystemConfig::setValueByKeyCall::abi_encode_returns(&CODE_INVALID_CONFIG);
                return Ok(output(SET_GAS, ret, reservoir));
            }
            let base = config_base(&key);
            let journal = ctx.journal_mut();
            journal.sstore(SYSTEM_CONFIG, base, pack(value)).map_err(db)?;
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
                return Ok(PrecompileOutput::halt(
                    revm::precompile::PrecompileHalt::OutOfGas,
                    reservoir,
                ));
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
