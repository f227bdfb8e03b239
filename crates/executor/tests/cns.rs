//! CNS (0x1004): FISCO 2.x registration and queries, and gray upgrades: calls to a name's
//! fixed address, from transactions and from contracts, reach the version the name routes
//! the origin to (primary, canary by caller list, canary by percentage), from the next
//! block on; callers keep their code.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, I256, TxKind, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue, sol};
use common::{Chain, artifact, cfg};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::cns::*;
use jinlian_executor::system::*;
use jinlian_primitives::{Receipt, RecoveredTx, status};

mod common;

sol! {
    interface IVersioned {
        function serve() external returns (string);
        function calls() external view returns (uint256);
        event Served(string version, address indexed caller, address indexed origin, uint256 calls);
    }
    interface INameCaller {
        function callService() external returns (string);
    }
}

fn tx(chain: &Chain, key: &KeyPair, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    common::next_tx(chain, key, to, 5_000_000, data)
}

fn cns(chain: &Chain, key: &KeyPair, data: Vec<u8>) -> RecoveredTx {
    tx(chain, key, TxKind::Call(CNS), data)
}

fn code(r: &Receipt) -> i64 {
    assert_eq!(r.status, status::OK, "{r:?}");
    let v: I256 = ICns::insertCall::abi_decode_returns(&r.output).unwrap();
    v.as_i64()
}

fn key(n: u8) -> KeyPair {
    KeyPair::from_secret(CryptoSuite::Ecdsa, &[n; 32]).unwrap()
}

fn insert(name: &str, version: &str, addr: &str) -> Vec<u8> {
    ICns::insertCall {
        name: name.into(),
        version: version.into(),
        addr: addr.into(),
        abi: r#"[{"name":"serve","type":"function"}]"#.into(),
    }
    .abi_encode()
}

fn deploy_version(chain: &mut Chain, dev: &KeyPair, v: &str) -> Address {
    let mut code = artifact("Versioned");
    code.extend((v.to_string(),).abi_encode_params());
    let r = chain.run(&[tx(chain, dev, TxKind::Create, code)]);
    r[0].contract_address.unwrap()
}

/// Which version served a call, from its `Served` event.
fn served(r: &Receipt) -> (String, Address) {
    assert_eq!(r.status, status::OK, "{r:?}");
    let log = r.logs.iter().find_map(|l| IVersioned::Served::decode_log(l).ok()).unwrap();
    (log.data.version, log.data.caller)
}

fn serve() -> Vec<u8> {
    IVersioned::serveCall {}.abi_encode()
}

#[test]
fn fisco_registration_codes_and_queries() {
    let mut chain = Chain::new(common::cfg());
    let (dev, other) = (key(1), key(2));
    let v1 = deploy_version(&mut chain, &dev, "1.0");
    let v2 = deploy_version(&mut chain, &dev, "2.0");
    let long = "x".repeat(129);
    let r = chain.run(&[
        cns(&chain, &dev, insert("Bank", "1.0", &format!("{v1:#x}"))),
        cns(&chain, &dev, insert("Bank", "1.0", &format!("{v2:#x}"))),
        cns(&chain, &dev, insert("Bank", &long, &format!("{v2:#x}"))),
        cns(&chain, &dev, insert("Bank", "2.0", "not an address")),
        cns(&chain, &dev, insert("Bank", "2.0", &format!("{:#x}", dev.address()))),
        cns(&chain, &other, insert("Bank", "2.0", &format!("{v2:#x}"))),
        cns(&chain, &dev, insert("Bank", "2.0", &format!("{v2:#x}"))),
        cns(&chain, &dev, insert("", "1.0", &format!("{v2:#x}"))),
    ]);
    assert_eq!(code(&r[0]), 1);
    assert_eq!(code(&r[1]), i64::from(CODE_ADDRESS_AND_VERSION_EXIST));
    assert_eq!(code(&r[2]), i64::from(CODE_VERSION_LENGTH_OVERFLOW));
    assert_eq!(code(&r[3]), i64::from(CODE_ADDRESS_INVALID));
    assert_eq!(code(&r[4]), i64::from(CODE_ADDRESS_INVALID), "an account is not a contract");
    assert_eq!(code(&r[5]), i64::from(CODE_PERMISSION_DENIED), "only the name's owner");
    assert_eq!(code(&r[6]), 1);
    assert_eq!(r[7].status, status::REVERT_INSTRUCTION);
    let reason = alloy_sol_types::decode_revert_reason(&r[7].output).unwrap();
    assert!(reason.contains("1 to 128 bytes"), "{reason}");

    let q =
        chain.call(dev.address(), CNS, ICns::selectByNameCall { name: "Bank".into() }.abi_encode());
    let json = ICns::selectByNameCall::abi_decode_returns(&q.output).unwrap();
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[1]["version"], "2.0");
    assert_eq!(rows[1]["address"], format!("{v2:#x}"));
    assert!(rows[0]["abi"].as_str().unwrap().contains("serve"));
    let q = chain.call(
        dev.address(),
        CNS,
        ICns::selectByNameAndVersionCall { name: "Bank".into(), version: "1.0".into() }
            .abi_encode(),
    );
    let json = ICns::selectByNameAndVersionCall::abi_decode_returns(&q.output).unwrap();
    assert!(json.contains(&format!("{v1:#x}")) && !json.contains(&format!("{v2:#x}")), "{json}");
    let addr = |version: &str| {
        let q = chain.call(
            dev.address(),
            CNS,
            ICns::getContractAddressCall { name: "Bank".into(), version: version.into() }
                .abi_encode(),
        );
        ICns::getContractAddressCall::abi_decode_returns(&q.output).unwrap()
    };
    assert_eq!(addr("2.0"), v2);
    assert_eq!(addr(""), v1, "no version: the primary");
    assert_eq!(addr("9.9"), Address::ZERO);
    // Calldata that matches no function reverts with a reason.
    let q = chain.call(dev.address(), CNS, vec![1, 2, 3, 4, 5]);
    assert_eq!(q.status, status::REVERT_INSTRUCTION);
}

#[test]
fn a_name_moves_from_version_to_version_without_callers_changing() {
    let mut chain = Chain::new(cfg());
    let dev = key(1);
    let v1 = deploy_version(&mut chain, &dev, "1.0");
    let v2 = deploy_version(&mut chain, &dev, "2.0");
    let r = chain.run(&[
        cns(&chain, &dev, insert("Bank", "1.0", &format!("{v1:#x}"))),
        cns(&chain, &dev, insert("Bank", "2.0", &format!("{v2:#x}"))),
    ]);
    assert_eq!((code(&r[0]), code(&r[1])), (1, 1));
    let bank = name_address("Bank");
    // The name's address looks like a contract (nonce 1, one byte of code), so Solidity's
    // extcodesize check before calling it passes.
    let acct = chain.state.account(&bank).unwrap();
    assert_eq!(acct.nonce, 1);
    assert_eq!(acct.code_hash, alloy_primitives::keccak256([0xfe]));
    let q =
        chain.call(dev.address(), CNS, ICns::nameAddressCall { name: "Bank".into() }.abi_encode());
    assert_eq!(ICns::nameAddressCall::abi_decode_returns(&q.output).unwrap(), bank);

    // A contract that calls through the name, built once.
    let mut code_nc = artifact("NameCaller");
    code_nc.extend(("Bank".to_string(),).abi_encode_params());
    let caller =
        chain.run(&[tx(&chain, &dev, TxKind::Create, code_nc)])[0].contract_address.unwrap();

    // Primary: everyone reaches 1.0, msg.sender is the real caller.
    let users: Vec<KeyPair> = (10..40).map(key).collect();
    let r = chain.run(&[
        tx(&chain, &users[0], TxKind::Call(bank), serve()),
        tx(&chain, &users[1], TxKind::Call(caller), INameCaller::callServiceCall {}.abi_encode()),
    ]);
    assert_eq!(served(&r[0]), ("1.0".to_string(), users[0].address()));
    assert_eq!(served(&r[1]), ("1.0".to_string(), caller));
    assert_eq!(
        INameCaller::callServiceCall::abi_decode_returns(&r[1].output).unwrap(),
        "1.0",
        "the return data comes back through the name"
    );

    // Canary by caller list: only users[2] moves to 2.0, and only from the next block.
    let r = chain.run(&[
        cns(
            &chain,
            &dev,
            ICns::setRouteCallersCall {
                name: "Bank".into(),
                version: "2.0".into(),
                callers: vec![users[2].address()],
            }
            .abi_encode(),
        ),
        tx(&chain, &users[2], TxKind::Call(bank), serve()),
    ]);
    assert_eq!(code(&r[0]), 0);
    assert_eq!(served(&r[1]).0, "1.0", "routes apply from the next block");
    let r = chain.run(&[
        tx(&chain, &users[2], TxKind::Call(bank), serve()),
        tx(&chain, &users[2], TxKind::Call(caller), INameCaller::callServiceCall {}.abi_encode()),
        tx(&chain, &users[3], TxKind::Call(bank), serve()),
    ]);
    assert_eq!(served(&r[0]).0, "2.0");
    assert_eq!(served(&r[1]).0, "2.0", "contracts calling the name follow the origin's route");
    assert_eq!(served(&r[2]).0, "1.0");

    // Canary by percentage: each origin lands where its bucket says, for calls and
    // transactions alike, and `resolve` agrees.
    let r = chain.run(&[cns(
        &chain,
        &dev,
        ICns::setRouteCall { name: "Bank".into(), version: "2.0".into(), percent: U256::from(30) }
            .abi_encode(),
    )]);
    assert_eq!(code(&r[0]), 0);
    let txs: Vec<RecoveredTx> =
        users[4..].iter().map(|u| tx(&chain, u, TxKind::Call(bank), serve())).collect();
    let r = chain.run(&txs);
    let mut on_canary = 0;
    for (u, rec) in users[4..].iter().zip(&r) {
        let want = if bucket("Bank", &u.address()) < 30 { "2.0" } else { "1.0" };
        assert_eq!(served(rec).0, want);
        let q = chain.call(
            u.address(),
            CNS,
            ICns::resolveCall { name: "Bank".into(), caller: u.address() }.abi_encode(),
        );
        let to = ICns::resolveCall::abi_decode_returns(&q.output).unwrap();
        assert_eq!(to, if want == "2.0" { v2 } else { v1 });
        on_canary += usize::from(want == "2.0");
    }
    assert!(on_canary > 0 && on_canary < 26, "some but not all of 26 origins: {on_canary}");
    // The caller list still holds beside the percentage.
    let r = chain.run(&[tx(&chain, &users[2], TxKind::Call(bank), serve())]);
    assert_eq!(served(&r[0]).0, "2.0");
    let q = chain.call(dev.address(), CNS, ICns::getRouteCall { name: "Bank".into() }.abi_encode());
    let route = ICns::getRouteCall::abi_decode_returns(&q.output).unwrap();
    assert_eq!((route.primary.as_str(), route.canary.as_str()), ("1.0", "2.0"));
    assert_eq!(route.percent, U256::from(30));
    assert_eq!(route.callers, vec![users[2].address()]);

    // Full switch: 2.0 becomes the primary for everyone; the state of each version is its own.
    let r = chain.run(&[
        cns(
            &chain,
            &dev,
            ICns::setRouteCall {
                name: "Bank".into(),
                version: "2.0".into(),
                percent: U256::from(100),
            }
            .abi_encode(),
        ),
        cns(
            &chain,
            &key(2),
            ICns::setRouteCall {
                name: "Bank".into(),
                version: "1.0".into(),
                percent: U256::from(100),
            }
            .abi_encode(),
        ),
    ]);
    assert_eq!(code(&r[0]), 0);
    assert_eq!(code(&r[1]), i64::from(CODE_PERMISSION_DENIED), "only the owner routes");
    let txs: Vec<RecoveredTx> =
        users[4..8].iter().map(|u| tx(&chain, u, TxKind::Call(bank), serve())).collect();
    for rec in chain.run(&txs) {
        assert_eq!(served(&rec).0, "2.0");
    }
    let calls = |a: Address| {
        let q = chain.call(dev.address(), a, IVersioned::callsCall {}.abi_encode());
        IVersioned::callsCall::abi_decode_returns(&q.output).unwrap()
    };
    assert_eq!(calls(v1) + calls(v2), U256::from(2 + 3 + 26 + 1 + 4 + 1));

    // Bad routes are refused.
    let r = chain.run(&[
        cns(
            &chain,
            &dev,
            ICns::setRouteCall {
                name: "Bank".into(),
                version: "3.0".into(),
                percent: U256::from(5),
            }
            .abi_encode(),
        ),
        cns(
            &chain,
            &dev,
            ICns::setRouteCall {
                name: "Bank".into(),
                version: "1.0".into(),
                percent: U256::from(101),
            }
            .abi_encode(),
        ),
    ]);
    assert_eq!(code(&r[0]), i64::from(CODE_VERSION_NOT_EXIST));
    assert_eq!(r[1].status, status::REVERT_INSTRUCTION);
}

#[test]
fn calls_into_a_frozen_version_revert_with_a_reason() {
    let mut chain = Chain::new(cfg());
    let dev = key(1);
    let v1 = deploy_version(&mut chain, &dev, "1.0");
    chain.run(&[cns(&chain, &dev, insert("Bank", "1.0", &format!("{v1:#x}")))]);
    let mut code_nc = artifact("NameCaller");
    code_nc.extend(("Bank".to_string(),).abi_encode_params());
    let caller =
        chain.run(&[tx(&chain, &dev, TxKind::Create, code_nc)])[0].contract_address.unwrap();
    let r = chain.run(&[tx(
        &chain,
        &dev,
        TxKind::Call(LIFECYCLE),
        IContractLifeCycle::freezeCall { addr: v1 }.abi_encode(),
    )]);
    assert_eq!(r[0].status, status::OK);
    let r = chain.run(&[
        tx(&chain, &dev, TxKind::Call(caller), INameCaller::callServiceCall {}.abi_encode()),
        tx(&chain, &dev, TxKind::Call(name_address("Bank")), serve()),
        tx(&chain, &dev, TxKind::Call(v1), serve()),
    ]);
    assert_eq!(r[0].status, status::REVERT_INSTRUCTION, "{:?}", r[0]);
    let reason = alloy_sol_types::decode_revert_reason(&r[0].output).unwrap();
    assert!(reason.contains("frozen"), "{reason}");
    assert_eq!(r[1].status, status::CONTRACT_FROZEN, "a transaction to the name: status 30");
    assert_eq!(r[2].status, status::CONTRACT_FROZEN, "a transaction straight to it: status 30");
}
