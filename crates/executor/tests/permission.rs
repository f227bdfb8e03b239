//! Permission (0x1005): FISCO 2.x table whitelists gate config changes, node management,
//! permission management and deployment; empty whitelist = open; changes apply next block.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, I256, TxKind, hex};
use alloy_sol_types::SolCall;
use common::{cfg, ctx};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::*;
use jinlian_executor::*;
use jinlian_primitives::{RecoveredTx, status};

mod common;

fn tx(key: &KeyPair, id: u64, height: u64, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    common::consortium(key, id, height, to, 500_000, data)
}

fn grant(table: &str, who: Address) -> Vec<u8> {
    IPermission::insertCall { table_name: table.into(), addr: who.to_string() }.abi_encode()
}

fn revoke(table: &str, who: Address) -> Vec<u8> {
    IPermission::removeCall { table_name: table.into(), addr: who.to_string() }.abi_encode()
}

fn int(out: &BlockOutcome, i: usize) -> i64 {
    let v: I256 = IPermission::insertCall::abi_decode_returns(&out.receipts[i].output).unwrap();
    v.as_i64()
}

fn set_cfg(v: &str) -> Vec<u8> {
    ISystemConfig::setValueByKeyCall { key: "tx_count_limit".into(), value: v.into() }.abi_encode()
}

#[test]
fn whitelists_gate_config_nodes_and_permissions_from_the_next_block() {
    let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let other = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
    let mut state = MemState::new();
    let sealer = KeyPair::from_secret(CryptoSuite::Ecdsa, &[9; 32]).unwrap().public().0;
    install_genesis_nodes(&mut state, &[], &[(sealer, NodeRole::Sealer)]);
    let p = TxKind::Call(PERMISSION);
    let c = TxKind::Call(SYSTEM_CONFIG);

    // Block 1: open by default; admin locks config and permission management to itself.
    // Inside the block the change is not yet in force: `other` can still change config.
    let b1 = [
        tx(&admin, 1, 1, p, grant(tables::CONFIG, admin.address())),
        tx(&admin, 2, 1, p, grant(tables::ACCESS, admin.address())),
        tx(&admin, 3, 1, p, grant(tables::ACCESS, admin.address())), // the row exists
        tx(&other, 4, 1, c, set_cfg("7")),
    ];
    let out = execute_block(&cfg(), &state, &ctx(1), &b1).unwrap();
    let codes: Vec<i64> = (0..4).map(|i| int(&out, i)).collect();
    assert_eq!(codes, vec![0, 0, i64::from(CODE_ROW_EXISTS), 0]);
    state.apply(&out.write_set);
    assert_eq!(whitelist(&state, tables::CONFIG).unwrap(), vec![admin.address()]);

    // Block 2: `other` is refused (-50000) for config and for permissions; admin is not.
    let b2 = [
        tx(&other, 5, 2, c, set_cfg("8")),
        tx(&other, 6, 2, p, grant(tables::CONFIG, other.address())),
        tx(&admin, 7, 2, c, set_cfg("9")),
        // Node management is still open.
        tx(
            &other,
            8,
            2,
            TxKind::Call(CONSENSUS),
            IConsensus::addObserverCall { nodeID: hex::encode([7u8; 64]) }.abi_encode(),
        ),
    ];
    let out = execute_block(&cfg(), &state, &ctx(2), &b2).unwrap();
    let codes: Vec<i64> = (0..4).map(|i| int(&out, i)).collect();
    let denied = i64::from(CODE_PERMISSION_DENIED);
    assert_eq!(codes, vec![denied, denied, 0, 0]);
    state.apply(&out.write_set);
    assert_eq!(system::read_config(&state, "tx_count_limit").unwrap().unwrap().0, "9");

    // Revoking: admin removes itself from _sys_config_, which reopens it next block.
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(3),
        &[
            tx(&admin, 9, 3, p, revoke(tables::CONFIG, admin.address())),
            tx(&admin, 10, 3, p, revoke(tables::CONFIG, admin.address())),
        ],
    )
    .unwrap();
    assert_eq!((int(&out, 0), int(&out, 1)), (0, i64::from(CODE_ROW_MISSING)));
    state.apply(&out.write_set);
    assert!(whitelist(&state, tables::CONFIG).unwrap().is_empty());
    let out =
        execute_block(&cfg(), &state, &ctx(4), &[tx(&other, 11, 4, c, set_cfg("10"))]).unwrap();
    assert_eq!(int(&out, 0), 0);

    // queryByName lists the rows as FISCO's JSON.
    let q = IPermission::queryByNameCall { table_name: tables::ACCESS.into() }.abi_encode();
    let r =
        call(&cfg(), &state, &ctx(5), &CallRequest { to: p, data: q.into(), ..Default::default() })
            .unwrap();
    let json = IPermission::queryByNameCall::abi_decode_returns(&r.output).unwrap();
    assert!(json.contains(&admin.address().to_string().to_lowercase()), "{json}");
}

#[test]
fn deployment_needs_permission_once_the_deploy_whitelist_has_rows() {
    let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let other = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
    let mut state = MemState::new();
    install_genesis(&mut state, &[]);
    let init = hex!("600a600c600039600a6000f3").to_vec(); // deploys 10 bytes of itself
    assert!(
        execute_block(&cfg(), &state, &ctx(1), &[tx(&other, 1, 1, TxKind::Create, init.clone())])
            .is_ok()
    );
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(1),
        &[tx(&admin, 2, 1, TxKind::Call(PERMISSION), grant(tables::DEPLOY, admin.address()))],
    )
    .unwrap();
    state.apply(&out.write_set);
    // A deployment by someone else is included with NoDeployPermission (18): nothing is
    // created, and the sender's nonce is used so the transaction cannot be replayed.
    let out =
        execute_block(&cfg(), &state, &ctx(2), &[tx(&other, 3, 2, TxKind::Create, init.clone())])
            .unwrap();
    assert_eq!(out.receipts[0].status, status::NO_DEPLOY_PERMISSION);
    assert_eq!(out.receipts[0].contract_address, None);
    let mut after = state.clone();
    after.apply(&out.write_set);
    assert_eq!(after.account(&other.address()).unwrap().nonce, 1);
    assert!(!out.write_set.iter().any(|(k, _)| k.first() == Some(&b'c')), "no code stored");
    assert!(
        execute_block(&cfg(), &state, &ctx(2), &[tx(&admin, 4, 2, TxKind::Create, init)]).is_ok()
    );
}

#[test]
fn bad_permission_requests_revert_with_a_reason() {
    let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let mut state = MemState::new();
    install_genesis(&mut state, &[]);
    let bad_table =
        IPermission::insertCall { table_name: "t_user".into(), addr: admin.address().to_string() }
            .abi_encode();
    let bad_addr =
        IPermission::insertCall { table_name: tables::CONFIG.into(), addr: "nobody".into() }
            .abi_encode();
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(1),
        &[
            tx(&admin, 1, 1, TxKind::Call(PERMISSION), bad_table),
            tx(&admin, 2, 1, TxKind::Call(PERMISSION), bad_addr),
        ],
    )
    .unwrap();
    for r in &out.receipts {
        assert_eq!(r.status, jinlian_primitives::status::REVERT_INSTRUCTION);
    }
}
