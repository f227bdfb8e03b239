//! SystemConfig (0x1000): FISCO ABI, validation and codes, changes from the next block.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{I256, TxKind};
use alloy_sol_types::{SolCall, SolError, SolInterface};
use common::{cfg, ctx};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::{
    CODE_INVALID_CONFIG, ISystemConfig, SYSTEM_CONFIG, install_genesis,
};
use jinlian_executor::*;
use jinlian_primitives::{RecoveredTx, status};

mod common;

fn tx(key: &KeyPair, id: u64, height: u64, gas: u64, data: Vec<u8>) -> RecoveredTx {
    common::consortium(key, id, height, TxKind::Call(SYSTEM_CONFIG), gas, data)
}
use proptest::prelude::*;

fn set(k: &str, v: &str) -> Vec<u8> {
    ISystemConfig::setValueByKeyCall { key: k.into(), value: v.into() }.abi_encode()
}

fn code(r: &jinlian_primitives::Receipt) -> i32 {
    ISystemConfig::setValueByKeyCall::abi_decode_returns(&r.output).unwrap()
}

fn genesis() -> MemState {
    let mut s = MemState::new();
    install_genesis(&mut s, &[("tx_count_limit", "10000")]);
    s
}

#[test]
fn set_applies_from_the_next_block_on_every_node() {
    let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let mut state = genesis();
    let block1 = [
        tx(&admin, 1, 1, 100_000, set("tx_gas_limit", "200000")),
        // Still allowed in the same block: the new limit starts at the next one.
        tx(&admin, 2, 1, 250_000, vec![]),
    ];
    let out = execute_block(&cfg(), &state, &ctx(1), &block1).unwrap();
    assert_eq!(out.receipts[0].status, status::OK);
    assert_eq!(code(&out.receipts[0]), 0);
    state.apply(&out.write_set);

    // The value and its enable height, read through the contract.
    let get = ISystemConfig::getValueByKeyCall { key: "tx_gas_limit".into() }.abi_encode();
    let req =
        CallRequest { to: TxKind::Call(SYSTEM_CONFIG), data: get.into(), ..Default::default() };
    let r = call(&cfg(), &state, &ctx(2), &req).unwrap();
    let ret = ISystemConfig::getValueByKeyCall::abi_decode_returns(&r.output).unwrap();
    assert_eq!((ret.value.as_str(), ret.enableNum), ("200000", I256::try_from(2).unwrap()));
    assert_eq!(system::config_at(&state, "tx_gas_limit", 2).unwrap(), Some(200_000));
    assert_eq!(system::config_at(&state, "tx_gas_limit", 1).unwrap(), None);

    // From block 2 on, a transaction over the new limit makes the block invalid.
    let err =
        execute_block(&cfg(), &state, &ctx(2), &[tx(&admin, 3, 2, 250_000, vec![])]).unwrap_err();
    assert!(err.to_string().contains("tx_gas_limit 200000"), "{err}");
    assert!(execute_block(&cfg(), &state, &ctx(2), &[tx(&admin, 4, 2, 150_000, vec![])]).is_ok());
    // A genesis value is readable too.
    assert_eq!(system::config_at(&state, "tx_count_limit", 0).unwrap(), Some(10_000));
}

#[test]
fn bad_keys_and_values_return_fiscos_code_and_change_nothing() {
    let admin = KeyPair::from_secret(CryptoSuite::Sm, &[2; 32]).unwrap();
    let state = genesis();
    let c = ExecConfig { suite: CryptoSuite::Sm, ..cfg() };
    for (i, (k, v)) in [
        ("no_such_key", "1"),
        ("tx_gas_limit", "99999"),
        ("tx_gas_limit", "abc"),
        ("tx_count_limit", "0"),
        ("consensus_timeout", "2"),
    ]
    .iter()
    .enumerate()
    {
        let out =
            execute_block(&c, &state, &ctx(1), &[tx(&admin, i as u64, 1, 100_000, set(k, v))])
                .unwrap();
        assert_eq!(out.receipts[0].status, status::OK, "{k}={v}");
        assert_eq!(code(&out.receipts[0]), CODE_INVALID_CONFIG, "{k}={v}");
        let touched_config = out
            .write_set
            .iter()
            .any(|(key, _)| key.starts_with(b"s") && key[1..21] == SYSTEM_CONFIG[..]);
        assert!(!touched_config, "{k}={v} wrote the table");
    }
    // Keys are case-insensitive, as FISCO lower-cases them.
    let out = execute_block(
        &c,
        &state,
        &ctx(1),
        &[tx(&admin, 9, 1, 100_000, set("TX_COUNT_LIMIT", "500"))],
    )
    .unwrap();
    assert_eq!(code(&out.receipts[0]), 0);
    // Calldata that is not the ABI reverts with a reason; too little gas runs out.
    let out =
        execute_block(&c, &state, &ctx(1), &[tx(&admin, 10, 1, 100_000, vec![1, 2, 3])]).unwrap();
    assert_eq!(out.receipts[0].status, status::REVERT_INSTRUCTION);
    let reason = alloy_sol_types::Revert::abi_decode(&out.receipts[0].output).unwrap();
    assert!(reason.reason.contains("SystemConfig"), "{reason:?}");
    let out = execute_block(
        &c,
        &state,
        &ctx(1),
        &[tx(&admin, 11, 1, 30_000, set("tx_count_limit", "5"))],
    )
    .unwrap();
    assert_ne!(out.receipts[0].status, status::OK);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the calldata, the executor returns a receipt or an error; it never panics.
    #[test]
    fn random_calldata_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), set_selector: bool) {
        let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[3; 32]).unwrap();
        let mut input = data;
        if set_selector && input.len() >= 4 {
            input[..4].copy_from_slice(&ISystemConfig::setValueByKeyCall::SELECTOR);
        }
        let out = execute_block(&cfg(), &genesis(), &ctx(1), &[tx(&admin, 1, 1, 200_000, input)]);
        prop_assert!(out.is_ok());
        let _ = ISystemConfig::ISystemConfigCalls::abi_decode(&[]);
    }
}
