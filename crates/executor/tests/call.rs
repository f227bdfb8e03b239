//! Read-only calls and gas estimation.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::*;
use jinlian_primitives::{LegacyTx, RecoveredTx, Transaction, TxBody, status};

const CHAIN: u64 = 77;

fn cfg() -> ExecConfig {
    ExecConfig { chain_id: CHAIN, ..ExecConfig::default() }
}

fn ctx(height: u64) -> BlockContext {
    BlockContext {
        height,
        timestamp_ms: 1_000_000,
        gas_limit: 30_000_000,
        coinbase: Address::ZERO,
        parent_state_root: B256::ZERO,
    }
}

fn create(key: &KeyPair, nonce: u64, runtime: &[u8]) -> RecoveredTx {
    let mut code =
        vec![0x60, runtime.len() as u8, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(runtime);
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit: 1_000_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from(code),
        chain_id: Some(CHAIN),
    });
    Transaction::sign(body, key).unwrap().into_recovered(CryptoSuite::Ecdsa).unwrap()
}

/// Runtime: store calldata word 0 at slot 0, then return slot 0.
const SET_AND_GET: [u8; 17] = hex!("6000356000556000546000526020" "6000f3");
/// Runtime: revert with 0xdeadbeef.
const REVERTS: [u8; 13] = hex!("63deadbeef6000526004601cfd");

fn deployed() -> (MemState, Address, Address) {
    let dev = KeyPair::from_secret(CryptoSuite::Ecdsa, &[5; 32]).unwrap();
    let mut state = MemState::new();
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(1),
        &[create(&dev, 0, &SET_AND_GET), create(&dev, 1, &REVERTS)],
    )
    .unwrap();
    state.apply(&out.write_set);
    (state, dev.address().create(0), dev.address().create(1))
}

#[test]
fn calls_return_data_and_change_nothing() {
    let (state, store, reverts) = deployed();
    let before = state.clone();
    let word = B256::repeat_byte(0x17);
    let req = CallRequest {
        to: TxKind::Call(store),
        data: Bytes::from(word.to_vec()),
        ..Default::default()
    };
    let out = call(&cfg(), &state, &ctx(2), &req).unwrap();
    assert!(out.is_success());
    assert_eq!(out.output.as_ref(), word.as_slice(), "returns what it stored within the call");
    assert_eq!(state, before, "a call writes nothing");
    assert_eq!(state.storage(&store, U256::ZERO), U256::ZERO);

    let out = call(
        &cfg(),
        &state,
        &ctx(2),
        &CallRequest { to: TxKind::Call(reverts), ..Default::default() },
    )
    .unwrap();
    assert_eq!(out.status, status::REVERT_INSTRUCTION);
    assert_eq!(out.output.as_ref(), hex!("deadbeef"));
    // A call from any address, whatever its nonce, with too little gas for the store.
    let req = CallRequest { from: Some(Address::repeat_byte(9)), gas: Some(25_000), ..req };
    assert_eq!(call(&cfg(), &state, &ctx(2), &req).unwrap().status, status::OUT_OF_GAS);
    // Below the intrinsic cost it cannot even start: a clear error, as Ethereum nodes give.
    let err = call(&cfg(), &state, &ctx(2), &CallRequest { gas: Some(1000), ..req }).unwrap_err();
    assert!(err.to_string().contains("gas"), "{err}");
}

#[test]
fn estimated_gas_is_the_least_that_succeeds() {
    let (state, store, reverts) = deployed();
    let to = Address::repeat_byte(0x33);
    assert_eq!(
        estimate_gas(
            &cfg(),
            &state,
            &ctx(2),
            &CallRequest { to: TxKind::Call(to), ..Default::default() }
        )
        .unwrap(),
        21_000
    );

    let req = CallRequest {
        to: TxKind::Call(store),
        data: Bytes::from(B256::repeat_byte(1).to_vec()),
        ..Default::default()
    };
    let g = estimate_gas(&cfg(), &state, &ctx(2), &req).unwrap();
    assert!(g > 21_000 + 20_000, "a fresh storage slot costs 20,000: {g}");
    assert!(
        call(&cfg(), &state, &ctx(2), &CallRequest { gas: Some(g), ..req.clone() })
            .unwrap()
            .is_success()
    );
    assert!(
        !call(&cfg(), &state, &ctx(2), &CallRequest { gas: Some(g - 1), ..req.clone() })
            .unwrap()
            .is_success()
    );

    match estimate_gas(
        &cfg(),
        &state,
        &ctx(2),
        &CallRequest { to: TxKind::Call(reverts), ..Default::default() },
    ) {
        Err(EstimateError::Fails(out)) => assert_eq!(out.output.as_ref(), hex!("deadbeef")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn state_overrides_apply_to_one_call_only() {
    // Runtime: return storage[calldata word 0].
    let getter = Bytes::from_static(&hex!("6000355460005260206000f3"));
    let x = Address::repeat_byte(0x99);
    let mut state = MemState::new();
    state.entries.insert(
        jinlian_executor::state::keys::storage(&x, &U256::from(1)),
        U256::from(5).to_be_bytes::<32>().to_vec(),
    );
    let read = |slot: u64, overrides: Vec<(Address, AccountOverride)>| {
        let req = CallRequest {
            to: TxKind::Call(x),
            data: Bytes::from(U256::from(slot).to_be_bytes::<32>().to_vec()),
            overrides,
            ..Default::default()
        };
        let out = call(&cfg(), &state, &ctx(2), &req).unwrap();
        assert!(out.is_success(), "{out:?}");
        U256::from_be_slice(&out.output)
    };
    let code_only = AccountOverride { code: Some(getter.clone()), ..Default::default() };
    assert_eq!(read(1, vec![(x, code_only.clone())]), U256::from(5), "storage kept");
    let diff =
        AccountOverride { state_diff: vec![(U256::ZERO, U256::from(7))], ..code_only.clone() };
    assert_eq!(read(0, vec![(x, diff.clone())]), U256::from(7));
    assert_eq!(read(1, vec![(x, diff)]), U256::from(5), "state_diff keeps other slots");
    let replaced = AccountOverride { state: Some(vec![(U256::ZERO, U256::from(7))]), ..code_only };
    assert_eq!(read(1, vec![(x, replaced)]), U256::ZERO, "state replaces the whole storage");
    // Without overrides, x has no code: the call does nothing and returns nothing.
    let req = CallRequest { to: TxKind::Call(x), ..Default::default() };
    assert!(call(&cfg(), &state, &ctx(2), &req).unwrap().output.is_empty());
    // A balance override lets a call send value it does not have.
    let from = Address::repeat_byte(0x55);
    let pay = CallRequest {
        from: Some(from),
        to: TxKind::Call(x),
        value: U256::from(10),
        ..Default::default()
    };
    assert!(!call(&cfg(), &state, &ctx(2), &pay).map(|o| o.is_success()).unwrap_or(false));
    let rich = AccountOverride { balance: Some(U256::from(100)), ..Default::default() };
    let out = call(&cfg(), &state, &ctx(2), &CallRequest { overrides: vec![(from, rich)], ..pay })
        .unwrap();
    assert!(out.is_success());
}
