//! Nothing a transaction sends to a system contract panics the executor or fails the
//! block: random calldata, and well-formed selectors of every system contract followed by
//! random arguments, sent from a committee member (so the governance paths run) and from
//! a stranger, in transactions and in read-only calls.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, TxKind};
use alloy_sol_types::SolCall;
use common::{Chain, cfg, ctx};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::cns::ICns;
use jinlian_executor::system::governance::IChainGovernance;
use jinlian_executor::system::*;
use jinlian_executor::*;
use jinlian_primitives::status;
use proptest::prelude::*;

mod common;

fn selectors(target: Address) -> Vec<[u8; 4]> {
    match target {
        SYSTEM_CONFIG => ISystemConfig::ISystemConfigCalls::SELECTORS.to_vec(),
        CONSENSUS => IConsensus::IConsensusCalls::SELECTORS.to_vec(),
        CNS => ICns::ICnsCalls::SELECTORS.to_vec(),
        PERMISSION => IPermission::IPermissionCalls::SELECTORS.to_vec(),
        LIFECYCLE => IContractLifeCycle::IContractLifeCycleCalls::SELECTORS.to_vec(),
        GOVERNANCE => IChainGovernance::IChainGovernanceCalls::SELECTORS.to_vec(),
        _ => unreachable!(),
    }
}

/// A chain whose committee is `admin`, with a CNS name and a node set.
fn genesis(admin: &KeyPair) -> Chain {
    let mut chain = Chain::new(cfg());
    let grant = IChainGovernance::grantCommitteeMemberCall { user: admin.address() }.abi_encode();
    let r =
        chain.run(&[common::consortium(admin, 1, 1, TxKind::Call(GOVERNANCE), 1_000_000, grant)]);
    assert_eq!(r[0].status, status::OK);
    chain
}

/// ABI-shaped arguments: 32-byte words that are small numbers (lengths, offsets, codes),
/// addresses (including the admin's), or noise, so decoding often succeeds and the
/// functions' own checks run.
fn words() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        (0u64..320).prop_map(|n| alloy_primitives::U256::from(n).to_be_bytes::<32>().to_vec()),
        (0u64..10).prop_map(|n| alloy_primitives::U256::from(32 * n).to_be_bytes::<32>().to_vec()),
        Just(
            KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32])
                .unwrap()
                .address()
                .into_word()
                .to_vec()
        ),
        any::<[u8; 20]>().prop_map(|a| Address::from(a).into_word().to_vec()),
        any::<[u8; 32]>().prop_map(|w| w.to_vec()),
    ];
    proptest::collection::vec(word, 0..14).prop_map(|ws| ws.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn random_calls_to_system_contracts_never_break_a_block(
        which in 0usize..SYSTEM_CONTRACTS.len(),
        pick in 0usize..64,
        tail in prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), words()],
        raw in any::<bool>(),
        as_admin in any::<bool>(),
    ) {
        let admin = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
        let stranger = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
        let chain = genesis(&admin);
        let target = SYSTEM_CONTRACTS[which];
        let data = if raw {
            tail
        } else {
            let sels = selectors(target);
            let mut d = sels[pick % sels.len()].to_vec();
            d.extend(tail);
            d
        };
        let from = if as_admin { &admin } else { &stranger };
        let txs = [
            common::consortium(from, 7, chain.next(), TxKind::Call(target), 2_000_000, data.clone()),
            common::consortium(from, 8, chain.next(), TxKind::Call(target), 2_000_000, data.clone()),
        ];
        let out = execute_block(&chain.cfg, &chain.state, &ctx(chain.next()), &txs);
        prop_assert!(out.is_ok(), "{out:?}");
        for r in out.unwrap().receipts {
            prop_assert!(
                [status::OK, status::REVERT_INSTRUCTION, status::OUT_OF_GAS, status::PRECOMPILED_ERROR]
                    .contains(&r.status),
                "{r:?}"
            );
        }
        let req = CallRequest {
            from: Some(from.address()),
            to: TxKind::Call(target),
            data: data.into(),
            ..Default::default()
        };
        prop_assert!(call(&chain.cfg, &chain.state, &ctx(chain.next()), &req).is_ok());
    }
}
