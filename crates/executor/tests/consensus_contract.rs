//! Consensus (0x1003): sealers and observers changed by transactions, FISCO codes, the last
//! sealer kept, and the new sealer set reported for the next height.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{I256, TxKind, hex};
use alloy_sol_types::SolCall;
use common::{cfg, ctx};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::*;
use jinlian_executor::*;
use jinlian_primitives::{RecoveredTx, status};

mod common;

fn tx(id: u64, height: u64, data: Vec<u8>) -> RecoveredTx {
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[42; 32]).unwrap();
    common::consortium(&key, id, height, TxKind::Call(CONSENSUS), 500_000, data)
}

fn node(i: u8) -> [u8; 64] {
    KeyPair::from_secret(CryptoSuite::Ecdsa, &[i; 32]).unwrap().public().0
}

fn add_sealer(id: &[u8]) -> Vec<u8> {
    IConsensus::addSealerCall { nodeID: hex::encode(id) }.abi_encode()
}
fn add_observer(id: &[u8]) -> Vec<u8> {
    IConsensus::addObserverCall { nodeID: hex::encode(id) }.abi_encode()
}
fn remove(id: &[u8]) -> Vec<u8> {
    IConsensus::removeCall { nodeID: hex::encode(id) }.abi_encode()
}

fn codes(out: &BlockOutcome) -> Vec<i64> {
    out.receipts
        .iter()
        .map(|r| {
            assert_eq!(r.status, status::OK);
            let v: I256 = IConsensus::addSealerCall::abi_decode_returns(&r.output).unwrap();
            v.as_i64()
        })
        .collect()
}

fn genesis(sealers: &[[u8; 64]]) -> MemState {
    let mut s = MemState::new();
    let nodes: Vec<_> = sealers.iter().map(|id| (*id, NodeRole::Sealer)).collect();
    install_genesis_nodes(&mut s, &[], &nodes);
    s
}

fn sorted(mut v: Vec<[u8; 64]>) -> Vec<[u8; 64]> {
    v.sort();
    v
}

#[test]
fn adding_and_removing_nodes_changes_the_next_sealer_set() {
    let (a, b, c, d) = (node(1), node(2), node(3), node(4));
    let mut state = genesis(&[a, b, c]);
    assert_eq!(sealers(&state).unwrap(), sorted(vec![a, b, c]));

    let out =
        execute_block(&cfg(), &state, &ctx(1), &[tx(1, 1, add_sealer(&d)), tx(2, 1, remove(&b))])
            .unwrap();
    assert_eq!(codes(&out), vec![0, 0]);
    assert_eq!(out.next_sealers, Some(sorted(vec![a, c, d])));
    state.apply(&out.write_set);
    assert_eq!(sealers(&state).unwrap(), sorted(vec![a, c, d]));

    // Observers do not change the sealer set; an observer can be promoted.
    let e = node(5);
    let out = execute_block(&cfg(), &state, &ctx(2), &[tx(3, 2, add_observer(&e))]).unwrap();
    assert_eq!(codes(&out), vec![0]);
    assert_eq!(out.next_sealers, None);
    state.apply(&out.write_set);
    let roles: Vec<_> = consensus_nodes(&state).unwrap();
    assert!(roles.contains(&(e, NodeRole::Observer)));
    let out = execute_block(&cfg(), &state, &ctx(3), &[tx(4, 3, add_sealer(&e))]).unwrap();
    assert_eq!(out.next_sealers, Some(sorted(vec![a, c, d, e])));
    // A block without node changes reports none.
    let out = execute_block(&cfg(), &state, &ctx(3), &[]).unwrap();
    assert_eq!(out.next_sealers, None);
}

#[test]
fn fisco_codes_for_bad_requests() {
    let (a, b) = (node(1), node(2));
    let state = genesis(&[a]);
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(1),
        &[
            tx(1, 1, add_sealer(&a)),   // already a sealer
            tx(2, 1, remove(&a)),       // the last sealer
            tx(3, 1, add_observer(&a)), // would lose the last sealer
            tx(4, 1, IConsensus::addSealerCall { nodeID: "abc".into() }.abi_encode()), // not 128 hex
            tx(5, 1, remove(&b)), // not a member
            tx(6, 1, add_observer(&b)),
            tx(7, 1, add_observer(&b)), // already an observer
        ],
    )
    .unwrap();
    assert_eq!(
        codes(&out),
        vec![
            i64::from(CODE_ALREADY_SEALER),
            i64::from(CODE_LAST_SEALER),
            i64::from(CODE_LAST_SEALER),
            i64::from(CODE_INVALID_NODE_ID),
            i64::from(CODE_NOT_A_MEMBER),
            0,
            i64::from(CODE_ALREADY_OBSERVER)
        ]
    );
    assert_eq!(out.next_sealers, None);
}

#[test]
fn removal_keeps_the_list_consistent() {
    let ids: Vec<[u8; 64]> = (1..=6).map(node).collect();
    let mut state = genesis(&ids);
    // Remove from the middle, the front and the end; the survivors stay listed once each.
    for (n, victim) in [ids[2], ids[0], ids[5]].iter().enumerate() {
        let out = execute_block(
            &cfg(),
            &state,
            &ctx(1 + n as u64),
            &[tx(10 + n as u64, 1 + n as u64, remove(victim))],
        )
        .unwrap();
        assert_eq!(codes(&out), vec![0]);
        state.apply(&out.write_set);
    }
    let left = consensus_nodes(&state).unwrap();
    assert_eq!(left.len(), 3);
    assert_eq!(
        sorted(left.iter().map(|(id, _)| *id).collect()),
        sorted(vec![ids[1], ids[3], ids[4]])
    );
    // And each can still be found (removed again) by id.
    let out = execute_block(
        &cfg(),
        &state,
        &ctx(9),
        &[tx(20, 9, remove(&ids[4])), tx(21, 9, remove(&ids[1]))],
    )
    .unwrap();
    assert_eq!(codes(&out), vec![0, 0]);
    assert_eq!(out.next_sealers, Some(vec![ids[3]]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Random calldata (and random node ids under the right selectors) never panics the
    /// executor and never leaves the group without a sealer.
    #[test]
    fn random_calldata_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), pick in 0u8..4) {
        let state = genesis(&[node(1), node(2)]);
        let input = match pick {
            0 => data,
            1 => remove(&node(1)),
            2 => IConsensus::addSealerCall { nodeID: String::from_utf8_lossy(&data).into_owned() }.abi_encode(),
            _ => { let mut d = data; if d.len() >= 4 { d[..4].copy_from_slice(&IConsensus::removeCall::SELECTOR); } d }
        };
        let out = execute_block(&cfg(), &state, &ctx(1), &[tx(1, 1, input), tx(2, 1, remove(&node(2)))]);
        proptest::prop_assert!(out.is_ok());
        let mut after = state.clone();
        after.apply(&out.unwrap().write_set);
        proptest::prop_assert!(!sealers(&after).unwrap().is_empty());
    }
}
