//! ContractLifeCycle (0x1007): managers (the deployer, plus grants) freeze and unfreeze
//! contracts; calls to a frozen contract get FISCO status 30 from the next block on.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{I256, TxKind};
use alloy_sol_types::SolCall;
use common::{cfg, ctx};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::*;
use jinlian_executor::*;
use jinlian_primitives::{Receipt, RecoveredTx, status};

mod common;

fn tx(key: &KeyPair, id: u64, height: u64, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    common::consortium(key, id, height, to, 1_000_000, data)
}

fn code(r: &Receipt) -> i64 {
    assert_eq!(r.status, status::OK, "{r:?}");
    let v: I256 = IContractLifeCycle::freezeCall::abi_decode_returns(&r.output).unwrap();
    v.as_i64()
}

fn probe_code() -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../../contracts/artifacts/Probe.json")).unwrap();
    alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap()
}

#[test]
fn managers_freeze_and_unfreeze_and_frozen_calls_get_status_30() {
    let dev = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let other = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
    let mut state = MemState::new();
    install_genesis(&mut state, &[]);
    let run = |state: &mut MemState, h: u64, txs: &[RecoveredTx]| {
        let out = execute_block(&cfg(), state, &ctx(h), txs).unwrap();
        state.apply(&out.write_set);
        out.receipts
    };
    let r = run(&mut state, 1, &[tx(&dev, 1, 1, TxKind::Create, probe_code())]);
    let probe = r[0].contract_address.unwrap();
    let lc = TxKind::Call(LIFECYCLE);
    let record = alloy_primitives::keccak256("record()")[..4].to_vec(); // Probe.record()

    // Only a manager may freeze; within the block the contract still answers.
    let r = run(
        &mut state,
        2,
        &[
            tx(&other, 2, 2, lc, IContractLifeCycle::freezeCall { addr: probe }.abi_encode()),
            tx(&dev, 3, 2, lc, IContractLifeCycle::freezeCall { addr: probe }.abi_encode()),
            tx(&dev, 4, 2, lc, IContractLifeCycle::freezeCall { addr: probe }.abi_encode()),
            tx(&other, 5, 2, TxKind::Call(probe), record.clone()),
        ],
    );
    assert_eq!(code(&r[0]), i64::from(CODE_PERMISSION_DENIED));
    assert_eq!(code(&r[1]), 0);
    assert_eq!(code(&r[2]), i64::from(CODE_ALREADY_FROZEN));
    assert_eq!((r[3].status, r[3].logs.len()), (status::OK, 1));
    assert!(is_frozen(&state, &probe).unwrap());

    // From the next block, calls fail with ContractFrozen and run nothing.
    let r = run(&mut state, 3, &[tx(&other, 6, 3, TxKind::Call(probe), record.clone())]);
    assert_eq!(r[0].status, status::CONTRACT_FROZEN);
    assert!(r[0].logs.is_empty());
    let status_of = |state: &MemState| {
        let q = IContractLifeCycle::getStatusCall { addr: probe }.abi_encode();
        let out = call(
            &cfg(),
            state,
            &ctx(9),
            &CallRequest { to: lc, data: q.into(), ..Default::default() },
        )
        .unwrap();
        IContractLifeCycle::getStatusCall::abi_decode_returns(&out.output).unwrap()._1
    };
    assert_eq!(status_of(&state), "frozen");
    let q = IContractLifeCycle::listManagerCall { addr: probe }.abi_encode();
    let out = call(
        &cfg(),
        &state,
        &ctx(9),
        &CallRequest { to: lc, data: q.into(), ..Default::default() },
    )
    .unwrap();
    assert_eq!(
        IContractLifeCycle::listManagerCall::abi_decode_returns(&out.output).unwrap()._1,
        vec![dev.address()]
    );

    // The deployer grants `other`, who unfreezes it; calls work again the block after.
    let r = run(
        &mut state,
        4,
        &[tx(
            &dev,
            7,
            4,
            lc,
            IContractLifeCycle::grantManagerCall { contractAddr: probe, userAddr: other.address() }
                .abi_encode(),
        )],
    );
    assert_eq!(code(&r[0]), 0);
    let r = run(
        &mut state,
        5,
        &[tx(&other, 8, 5, lc, IContractLifeCycle::unfreezeCall { addr: probe }.abi_encode())],
    );
    assert_eq!(code(&r[0]), 0);
    assert_eq!(status_of(&state), "available");
    let r = run(&mut state, 6, &[tx(&other, 9, 6, TxKind::Call(probe), record)]);
    assert_eq!((r[0].status, r[0].logs.len()), (status::OK, 1));
}
