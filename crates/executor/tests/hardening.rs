//! What a hostile or careless transaction might try against the system contracts: odd
//! configuration values, contracts borrowing their caller's rights, factories dodging the
//! deploy whitelist, freezing the committee, value sent to system contracts, and reads too
//! big for their gas.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, I256, TxKind, U256};
use alloy_sol_types::{SolCall, sol};
use common::{Chain, artifact, cfg};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::cns::ICns;
use jinlian_executor::system::governance::IChainGovernance;
use jinlian_executor::system::*;
use jinlian_executor::*;
use jinlian_primitives::{ConsortiumTx, Receipt, RecoveredTx, Transaction, TxBody, status};
use std::cell::Cell;

mod common;

sol! {
    interface IProbe {
        function setConfig(string key, string value) external returns (int32);
    }
    interface IFactory {
        function deploy(bytes32 salt) external returns (address at);
    }
}

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

fn tx(chain: &Chain, key: &KeyPair, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    tx_value(chain, key, to, data, U256::ZERO)
}

fn tx_value(chain: &Chain, key: &KeyPair, to: TxKind, data: Vec<u8>, value: U256) -> RecoveredTx {
    let id = NEXT_ID.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(id),
        gas_price: U256::ZERO,
        gas_limit: 10_000_000,
        block_limit: chain.next() + 10,
        to,
        value,
        input: Bytes::from(data),
        chain_id: common::CHAIN,
        group_id: 1,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

fn key(n: u8) -> KeyPair {
    KeyPair::from_secret(CryptoSuite::Ecdsa, &[n; 32]).unwrap()
}

fn int_code(r: &Receipt) -> i64 {
    assert_eq!(r.status, status::OK, "{r:?}");
    I256::try_from_be_slice(&r.output[..32]).unwrap().as_i64()
}

fn grant_table(table: &str, who: Address) -> Vec<u8> {
    IPermission::insertCall { table_name: table.into(), addr: format!("{who:#x}") }.abi_encode()
}

#[test]
fn configuration_values_are_stored_in_canonical_form() {
    let mut chain = Chain::new(cfg());
    let admin = key(1);
    let long = format!("{}100000", "0".repeat(34)); // 40 characters, parses as 100000
    let set = |v: &str| {
        ISystemConfig::setValueByKeyCall { key: "tx_gas_limit".into(), value: v.into() }
            .abi_encode()
    };
    // The same request as a call first (it runs the same code and must not panic either).
    let dry = chain.call(admin.address(), SYSTEM_CONFIG, set(&long));
    assert!(dry.is_success(), "{dry:?}");
    let r = chain.run(&[
        tx(&chain, &admin, TxKind::Call(SYSTEM_CONFIG), set(&long)),
        tx(&chain, &admin, TxKind::Call(SYSTEM_CONFIG), set("+200000")),
    ]);
    assert_eq!(int_code(&r[0]), 0);
    assert_eq!(int_code(&r[1]), 0);
    let got = chain.call(
        admin.address(),
        SYSTEM_CONFIG,
        ISystemConfig::getValueByKeyCall { key: "tx_gas_limit".into() }.abi_encode(),
    );
    let v = ISystemConfig::getValueByKeyCall::abi_decode_returns(&got.output).unwrap();
    assert_eq!(v.value, "200000");
}

#[test]
fn a_contract_cannot_borrow_its_callers_rights() {
    let mut chain = Chain::new(cfg());
    let admin = key(1);
    let probe = chain.run(&[tx(&chain, &admin, TxKind::Create, artifact("Probe"))])[0]
        .contract_address
        .unwrap();
    // Only the admin may change the configuration.
    let r = chain.run(&[tx(
        &chain,
        &admin,
        TxKind::Call(PERMISSION),
        grant_table(tables::CONFIG, admin.address()),
    )]);
    assert_eq!(int_code(&r[0]), 0);
    // The admin calls a contract that tries to use the admin's right: the system contract
    // sees the contract as its caller and refuses.
    let via = IProbe::setConfigCall { key: "tx_count_limit".into(), value: "7".into() };
    let r = chain.run(&[tx(&chain, &admin, TxKind::Call(probe), via.abi_encode())]);
    assert_eq!(r[0].status, status::OK);
    let code = IProbe::setConfigCall::abi_decode_returns(&r[0].output).unwrap();
    assert_eq!(i64::from(code), i64::from(CODE_PERMISSION_DENIED));
}

#[test]
fn factories_obey_the_deploy_whitelist_and_their_creations_can_be_frozen() {
    let mut chain = Chain::new(cfg());
    let (admin, user) = (key(1), key(2));
    let factory = chain.run(&[tx(&chain, &user, TxKind::Create, artifact("Factory"))])[0]
        .contract_address
        .unwrap();
    // The user deploys a Probe through the factory and manages it (it can freeze it).
    let deploy = |salt: u8| IFactory::deployCall { salt: B256::repeat_byte(salt) }.abi_encode();
    let r = chain.run(&[tx(&chain, &user, TxKind::Call(factory), deploy(1))]);
    let probe = IFactory::deployCall::abi_decode_returns(&r[0].output).unwrap();
    let freeze = IContractLifeCycle::freezeCall { addr: probe }.abi_encode();
    let r = chain.run(&[
        tx(&chain, &admin, TxKind::Call(LIFECYCLE), freeze.clone()),
        tx(&chain, &user, TxKind::Call(LIFECYCLE), freeze),
    ]);
    assert_eq!(int_code(&r[0]), i64::from(CODE_PERMISSION_DENIED));
    assert_eq!(int_code(&r[1]), 0, "the account that deployed through the factory manages it");

    // Once only the admin may deploy, the factory cannot deploy for the user.
    let r = chain.run(&[tx(
        &chain,
        &admin,
        TxKind::Call(PERMISSION),
        grant_table(tables::DEPLOY, admin.address()),
    )]);
    assert_eq!(int_code(&r[0]), 0);
    let r = chain.run(&[
        tx(&chain, &user, TxKind::Call(factory), deploy(2)),
        tx(&chain, &admin, TxKind::Call(factory), deploy(3)),
    ]);
    assert_eq!(r[0].status, status::REVERT_INSTRUCTION);
    assert_eq!(r[1].status, status::OK);
}

#[test]
fn the_committee_cannot_be_frozen_and_old_whitelists_end_with_it() {
    let mut chain = Chain::new(cfg());
    let (boot, a, b) = (key(1), key(2), key(3));
    let gov =
        |chain: &Chain, k: &KeyPair, data: Vec<u8>| tx(chain, k, TxKind::Call(GOVERNANCE), data);
    // Before governance, `boot` held the config whitelist.
    let r = chain.run(&[tx(
        &chain,
        &boot,
        TxKind::Call(PERMISSION),
        grant_table(tables::CONFIG, boot.address()),
    )]);
    assert_eq!(int_code(&r[0]), 0);
    let grant = |u: Address| IChainGovernance::grantCommitteeMemberCall { user: u }.abi_encode();
    chain.run(&[gov(&chain, &boot, grant(a.address()))]);
    assert_eq!(whitelist(&chain.state, tables::CONFIG).unwrap(), vec![a.address()]);
    chain.run(&[gov(&chain, &a, grant(b.address()))]);
    chain.run(&[tx(&chain, &boot, TxKind::Call(Address::repeat_byte(9)), vec![])]);
    // One member cannot freeze another (nor itself), nor freeze a contract as an account.
    let freeze = |who: Address| IChainGovernance::freezeAccountCall { account: who }.abi_encode();
    let probe = chain.run(&[tx(&chain, &boot, TxKind::Create, artifact("Probe"))])[0]
        .contract_address
        .unwrap();
    let r = chain.run(&[
        gov(&chain, &a, freeze(b.address())),
        gov(&chain, &a, freeze(probe)),
        gov(&chain, &a, freeze(boot.address())),
    ]);
    for rec in &r[..2] {
        assert_eq!(rec.status, status::REVERT_INSTRUCTION, "{rec:?}");
    }
    assert_eq!(int_code(&r[2]), 0);
    assert!(!is_account_frozen(&chain.state, &b.address()).unwrap());
}

#[test]
fn system_contracts_take_no_value_and_charge_for_what_they_read() {
    let mut chain = Chain::new(cfg());
    let rich = key(1);
    chain.state.set_account(rich.address(), 0, U256::from(1_000_000u64));
    let r = chain.run(&[tx_value(
        &chain,
        &rich,
        TxKind::Call(SYSTEM_CONFIG),
        ISystemConfig::getValueByKeyCall { key: "tx_count_limit".into() }.abi_encode(),
        U256::from(5),
    )]);
    assert_eq!(r[0].status, status::REVERT_INSTRUCTION);
    assert_eq!(chain.state.account(&rich.address()).unwrap().balance, U256::from(1_000_000u64));

    // A name with a 12 KiB ABI: reading it costs by its size, so a small gas limit stops the
    // read instead of letting it run for free.
    let probe = chain.run(&[tx(&chain, &rich, TxKind::Create, artifact("Probe"))])[0]
        .contract_address
        .unwrap();
    let insert = ICns::insertCall {
        name: "Big".into(),
        version: "1".into(),
        addr: format!("{probe:#x}"),
        abi: "x".repeat(12 * 1024),
    };
    let r = chain.run(&[tx(&chain, &rich, TxKind::Call(CNS), insert.abi_encode())]);
    assert_eq!(int_code(&r[0]), 1);
    let select = ICns::selectByNameCall { name: "Big".into() }.abi_encode();
    let req = |gas| CallRequest {
        from: Some(rich.address()),
        to: TxKind::Call(CNS),
        gas: Some(gas),
        data: select.clone().into(),
        ..Default::default()
    };
    let small = call(&chain.cfg, &chain.state, &common::ctx(chain.next()), &req(50_000)).unwrap();
    assert_eq!(small.status, status::OUT_OF_GAS, "{small:?}");
    let big = call(&chain.cfg, &chain.state, &common::ctx(chain.next()), &req(5_000_000)).unwrap();
    assert!(big.is_success());
    assert!(big.gas_used > 80_000, "{} gas for 12 KiB", big.gas_used);
}

#[test]
fn blocks_over_tx_count_limit_or_block_gas_are_invalid() {
    let mut chain = Chain::new(cfg());
    let admin = key(1);
    let set = ISystemConfig::setValueByKeyCall { key: "tx_count_limit".into(), value: "2".into() };
    let r = chain.run(&[tx(&chain, &admin, TxKind::Call(SYSTEM_CONFIG), set.abi_encode())]);
    assert_eq!(int_code(&r[0]), 0);
    let to = TxKind::Call(Address::repeat_byte(9));
    let three: Vec<RecoveredTx> = (0..3).map(|_| tx(&chain, &admin, to, vec![])).collect();
    let err =
        execute_block(&chain.cfg, &chain.state, &common::ctx(chain.next()), &three).unwrap_err();
    assert!(err.to_string().contains("tx_count_limit is 2"), "{err}");
    assert!(
        execute_block(&chain.cfg, &chain.state, &common::ctx(chain.next()), &three[..2]).is_ok()
    );
    // Each transaction's gas limit (10M here) must fit in what the block has left.
    let mut small = common::ctx(chain.next());
    small.gas_limit = 15_000_000;
    assert!(execute_block(&chain.cfg, &chain.state, &small, &three[..1]).is_ok());
    small.gas_limit = 9_000_000;
    let err = execute_block(&chain.cfg, &chain.state, &small, &three[..2]).unwrap_err();
    assert!(err.to_string().contains("remaining gas"), "{err}");
}
