//! ChainGovernance (0x1008): committee bootstrap, weighted threshold voting, vote expiry,
//! the committee's hold on the governance whitelists, operators, and account freezing
//! (status 31 from the next block).

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, I256, TxKind};
use alloy_sol_types::SolCall;
use common::{Chain, artifact, cfg};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::governance::*;
use jinlian_executor::system::*;
use jinlian_primitives::{Receipt, RecoveredTx, status};

mod common;

fn tx(chain: &Chain, key: &KeyPair, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    common::next_tx(chain, key, to, 3_000_000, data)
}

fn gov(chain: &Chain, key: &KeyPair, data: Vec<u8>) -> RecoveredTx {
    tx(chain, key, TxKind::Call(GOVERNANCE), data)
}

fn code(r: &Receipt) -> i64 {
    assert_eq!(r.status, status::OK, "{r:?}");
    let v: I256 =
        IChainGovernance::grantCommitteeMemberCall::abi_decode_returns(&r.output).unwrap();
    v.as_i64()
}

fn key(n: u8) -> KeyPair {
    KeyPair::from_secret(CryptoSuite::Ecdsa, &[n; 32]).unwrap()
}

fn grant(user: Address) -> Vec<u8> {
    IChainGovernance::grantCommitteeMemberCall { user }.abi_encode()
}

fn set_config(value: &str) -> Vec<u8> {
    ISystemConfig::setValueByKeyCall { key: "tx_count_limit".into(), value: value.into() }
        .abi_encode()
}

fn config_code(r: &Receipt) -> i64 {
    assert_eq!(r.status, status::OK, "{r:?}");
    i64::from(ISystemConfig::setValueByKeyCall::abi_decode_returns(&r.output).unwrap())
}

#[test]
fn committee_votes_by_weight_and_threshold_and_governs_the_whitelists() {
    let mut chain = Chain::new(cfg());
    let (a, b, c, d, outsider) = (key(1), key(2), key(3), key(4), key(9));
    let cfg_to = TxKind::Call(SYSTEM_CONFIG);

    // Bootstrap: with no committee, the first grant takes effect at once.
    let r = chain.run(&[gov(&chain, &a, grant(a.address()))]);
    assert_eq!(code(&r[0]), 1);
    assert_eq!(committee_members(&chain.state).unwrap(), vec![a.address()]);
    // A lone member (weight 1 of 1 > 50%) decides alone.
    let r = chain.run(&[gov(&chain, &a, grant(b.address()))]);
    assert_eq!(code(&r[0]), 1);
    // Two members of weight 1: one vote is 50%, not more than the threshold.
    let r = chain.run(&[
        gov(&chain, &a, grant(c.address())),
        gov(&chain, &outsider, grant(outsider.address())),
        gov(&chain, &a, grant(a.address())),
    ]);
    assert_eq!(code(&r[0]), 0, "waits for a second vote");
    assert_eq!(code(&r[1]), i64::from(CODE_INVALID_REQUEST_PERMISSION_DENIED));
    assert_eq!(code(&r[2]), i64::from(CODE_COMMITTEE_MEMBER_EXIST));
    let votes = chain.call(
        a.address(),
        GOVERNANCE,
        IChainGovernance::queryVotesOfMemberCall { user: c.address() }.abi_encode(),
    );
    let json = IChainGovernance::queryVotesOfMemberCall::abi_decode_returns(&votes.output).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["grant"][0]["voter"], format!("{:#x}", a.address()));
    let r = chain.run(&[gov(&chain, &b, grant(c.address()))]);
    assert_eq!(code(&r[0]), 1);
    assert_eq!(committee_members(&chain.state).unwrap().len(), 3);

    // Weights: a gets 3 (needs 2 of 3 votes), then a alone (3 of 5) passes a grant.
    let w = IChainGovernance::updateCommitteeMemberWeightCall {
        user: a.address(),
        weight: I256::try_from(3).unwrap(),
    }
    .abi_encode();
    let r =
        chain.run(&[gov(&chain, &a, w.clone()), gov(&chain, &b, w.clone()), gov(&chain, &c, w)]);
    assert_eq!((code(&r[0]), code(&r[1])), (0, 1));
    assert_eq!(code(&r[2]), i64::from(CODE_CURRENT_VALUE_IS_EXPECTED_VALUE));
    let q = chain.call(
        a.address(),
        GOVERNANCE,
        IChainGovernance::queryCommitteeMemberWeightCall { user: a.address() }.abi_encode(),
    );
    let ret =
        IChainGovernance::queryCommitteeMemberWeightCall::abi_decode_returns(&q.output).unwrap();
    assert!(ret._0);
    assert_eq!(ret._1.as_i64(), 3);
    let r = chain.run(&[gov(&chain, &a, grant(d.address()))]);
    assert_eq!(code(&r[0]), 1, "3 of 5 is more than 50%");

    // Threshold: out of range is refused; a change needs the current threshold's votes.
    let t = |v: i64| {
        IChainGovernance::updateThresholdCall { threshold: I256::try_from(v).unwrap() }.abi_encode()
    };
    let r = chain.run(&[gov(&chain, &a, t(100)), gov(&chain, &b, t(-1)), gov(&chain, &a, t(50))]);
    assert_eq!(code(&r[0]), i64::from(CODE_INVALID_THRESHOLD));
    assert_eq!(code(&r[1]), i64::from(CODE_INVALID_THRESHOLD));
    assert_eq!(code(&r[2]), i64::from(CODE_CURRENT_VALUE_IS_EXPECTED_VALUE));
    let r = chain.run(&[gov(&chain, &a, t(80)), gov(&chain, &b, t(80))]);
    assert_eq!(code(&r[0]), 0, "a holds 3 of 6: not more than 50%");
    assert_eq!(code(&r[1]), 1, "a and b hold 4 of 6");
    let q =
        chain.call(a.address(), GOVERNANCE, IChainGovernance::queryThresholdCall {}.abi_encode());
    assert_eq!(
        IChainGovernance::queryThresholdCall::abi_decode_returns(&q.output).unwrap().as_i64(),
        80
    );

    // The committee holds the governance whitelists: members change config, others cannot,
    // and Permission refuses direct changes to those tables.
    let r = chain.run(&[
        tx(&chain, &outsider, cfg_to, set_config("500")),
        tx(&chain, &d, cfg_to, set_config("600")),
        tx(
            &chain,
            &a,
            TxKind::Call(PERMISSION),
            IPermission::insertCall {
                table_name: tables::CONFIG.into(),
                addr: format!("{:#x}", outsider.address()),
            }
            .abi_encode(),
        ),
    ]);
    assert_eq!(config_code(&r[0]), i64::from(CODE_PERMISSION_DENIED));
    assert_eq!(config_code(&r[1]), 0);
    let v: I256 = IPermission::insertCall::abi_decode_returns(&r[2].output).unwrap();
    assert_eq!(v.as_i64(), i64::from(CODE_COMMITTEE_PERMISSION));

    // Revoking: a and b (4 of 6) are not more than 80%; with c (5 of 6) they are.
    let revoke = IChainGovernance::revokeCommitteeMemberCall { user: d.address() }.abi_encode();
    let r = chain.run(&[
        gov(&chain, &a, revoke.clone()),
        gov(&chain, &b, revoke.clone()),
        gov(&chain, &c, revoke),
    ]);
    assert_eq!((code(&r[0]), code(&r[1]), code(&r[2])), (0, 0, 1));
    assert!(!committee_members(&chain.state).unwrap().contains(&d.address()));
    let r = chain.run(&[tx(&chain, &d, cfg_to, set_config("700"))]);
    assert_eq!(config_code(&r[0]), i64::from(CODE_PERMISSION_DENIED), "d lost its seat");
}

#[test]
fn votes_expire_and_the_last_member_stays() {
    let mut chain = Chain::new(cfg());
    let (a, b, c) = (key(1), key(2), key(3));
    chain.run(&[gov(&chain, &a, grant(a.address()))]);
    chain.run(&[gov(&chain, &a, grant(b.address()))]);
    // a votes for c; much later b votes too, but a's vote has expired.
    let r = chain.run(&[gov(&chain, &a, grant(c.address()))]);
    assert_eq!(code(&r[0]), 0);
    chain.height += VOTE_LIFETIME + 1;
    let r = chain.run(&[gov(&chain, &b, grant(c.address()))]);
    assert_eq!(code(&r[0]), 0, "a's vote expired");
    let r = chain.run(&[gov(&chain, &a, grant(c.address()))]);
    assert_eq!(code(&r[0]), 1);

    // Revoking down to one member works; revoking the last one is refused with a reason.
    let revoke = |who: &KeyPair| {
        IChainGovernance::revokeCommitteeMemberCall { user: who.address() }.abi_encode()
    };
    let r = chain.run(&[gov(&chain, &a, revoke(&c)), gov(&chain, &b, revoke(&c))]);
    assert_eq!(code(&r[1]), 1);
    let r = chain.run(&[gov(&chain, &a, revoke(&b)), gov(&chain, &b, revoke(&b))]);
    assert_eq!(code(&r[1]), 1);
    let r = chain.run(&[gov(&chain, &a, revoke(&a))]);
    assert_eq!(r[0].status, status::REVERT_INSTRUCTION);
    let reason = alloy_sol_types::decode_revert_reason(&r[0].output).unwrap();
    assert!(reason.contains("last committee member"), "{reason}");
    assert_eq!(committee_members(&chain.state).unwrap(), vec![a.address()]);
}

#[test]
fn frozen_accounts_get_status_31_from_the_next_block() {
    let mut chain = Chain::new(cfg());
    let (admin, user, stranger) = (key(1), key(2), key(3));
    chain.run(&[gov(&chain, &admin, grant(admin.address()))]);
    // The user exists once it has sent a transaction.
    let probe = chain.run(&[tx(&chain, &user, TxKind::Create, artifact("Probe"))])[0]
        .contract_address
        .unwrap();
    let record = alloy_primitives::keccak256("record()")[..4].to_vec();
    let freeze = |who: Address| IChainGovernance::freezeAccountCall { account: who }.abi_encode();
    let unfreeze =
        |who: Address| IChainGovernance::unfreezeAccountCall { account: who }.abi_encode();
    let r = chain.run(&[
        gov(&chain, &stranger, freeze(user.address())),
        gov(&chain, &admin, freeze(key(7).address())),
        gov(&chain, &admin, freeze(Address::ZERO)),
        gov(&chain, &admin, unfreeze(user.address())),
        gov(&chain, &admin, freeze(user.address())),
        gov(&chain, &admin, freeze(user.address())),
        // Frozen from the next block: this one still runs.
        tx(&chain, &user, TxKind::Call(probe), record.clone()),
    ]);
    assert_eq!(code(&r[0]), i64::from(CODE_INVALID_REQUEST_PERMISSION_DENIED));
    assert_eq!(code(&r[1]), i64::from(CODE_ACCOUNT_NOT_EXIST));
    assert_eq!(code(&r[2]), i64::from(CODE_INVALID_ACCOUNT_ADDRESS));
    assert_eq!(code(&r[3]), i64::from(CODE_ACCOUNT_ALREADY_AVAILABLE));
    assert_eq!(code(&r[4]), 0);
    assert_eq!(code(&r[5]), i64::from(CODE_ACCOUNT_FROZEN));
    assert_eq!(r[6].status, status::OK);
    assert!(is_account_frozen(&chain.state, &user.address()).unwrap());
    let st = chain.call(
        admin.address(),
        GOVERNANCE,
        IChainGovernance::getAccountStatusCall { account: user.address() }.abi_encode(),
    );
    let text = IChainGovernance::getAccountStatusCall::abi_decode_returns(&st.output).unwrap();
    assert!(text.contains("frozen"), "{text}");

    let nonce_before = chain.state.account(&user.address()).unwrap().nonce;
    let r = chain.run(&[
        tx(&chain, &user, TxKind::Call(probe), record.clone()),
        tx(&chain, &user, TxKind::Create, artifact("Probe")),
    ]);
    assert_eq!(r[0].status, status::ACCOUNT_FROZEN);
    assert_eq!(r[1].status, status::ACCOUNT_FROZEN);
    assert!(r[0].logs.is_empty() && r[1].contract_address.is_none());
    assert_eq!(chain.state.account(&user.address()).unwrap().nonce, nonce_before + 2);

    let r = chain.run(&[gov(&chain, &admin, unfreeze(user.address()))]);
    assert_eq!(code(&r[0]), 0);
    let r = chain.run(&[tx(&chain, &user, TxKind::Call(probe), record)]);
    assert_eq!(r[0].status, status::OK);
    assert_eq!(r[0].logs.len(), 1);
}

#[test]
fn operators_hold_the_deploy_whitelist() {
    let mut chain = Chain::new(cfg());
    let (admin, op, dev) = (key(1), key(2), key(3));
    chain.run(&[gov(&chain, &admin, grant(admin.address()))]);
    let r = chain.run(&[
        gov(
            &chain,
            &admin,
            IChainGovernance::grantOperatorCall { user: op.address() }.abi_encode(),
        ),
        gov(
            &chain,
            &admin,
            IChainGovernance::grantOperatorCall { user: op.address() }.abi_encode(),
        ),
        gov(
            &chain,
            &admin,
            IChainGovernance::grantOperatorCall { user: admin.address() }.abi_encode(),
        ),
        gov(&chain, &op, grant(op.address())),
    ]);
    assert_eq!(code(&r[0]), 1);
    assert_eq!(code(&r[1]), i64::from(CODE_OPERATOR_EXIST));
    assert_eq!(code(&r[2]), i64::from(CODE_COMMITTEE_MEMBER_CANNOT_BE_OPERATOR));
    assert_eq!(code(&r[3]), i64::from(CODE_INVALID_REQUEST_PERMISSION_DENIED));
    assert_eq!(whitelist(&chain.state, tables::DEPLOY).unwrap(), vec![op.address()]);
    // The operator deploys; anyone else's deployment gets NoDeployPermission (18).
    let r = chain.run(&[
        tx(&chain, &op, TxKind::Create, artifact("Probe")),
        tx(&chain, &dev, TxKind::Create, artifact("Probe")),
    ]);
    assert!(r[0].contract_address.is_some());
    assert_eq!(r[1].status, status::NO_DEPLOY_PERMISSION);
    assert!(r[1].contract_address.is_none());
    let r = chain.run(&[gov(
        &chain,
        &admin,
        IChainGovernance::revokeOperatorCall { user: op.address() }.abi_encode(),
    )]);
    assert_eq!(code(&r[0]), 1);
    assert!(whitelist(&chain.state, tables::DEPLOY).unwrap().is_empty());
    let list = chain.call(
        admin.address(),
        GOVERNANCE,
        IChainGovernance::listOperatorsCall {}.abi_encode(),
    );
    assert_eq!(
        IChainGovernance::listOperatorsCall::abi_decode_returns(&list.output).unwrap(),
        "[]"
    );
}
