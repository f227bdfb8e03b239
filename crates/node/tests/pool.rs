//! The transaction pool's admission rules, bounds, packing order and pruning.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::MemState;
use jinlian_node::pool::*;
use jinlian_primitives::{ConsortiumTx, LegacyTx, RecoveredTx, Transaction, TxBody};

const CHAIN: u64 = 9;

fn rules(next_height: u64) -> Rules {
    Rules { chain_id: CHAIN, group_id: 1, next_height, tx_gas_limit: 1_000_000 }
}

fn eth(key: &KeyPair, nonce: u64, chain: u64) -> RecoveredTx {
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(1)),
        value: U256::ZERO,
        input: Bytes::new(),
        chain_id: Some(chain),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

fn cons(key: &KeyPair, id: u64, limit: u64, group: u64) -> RecoveredTx {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(id),
        gas_price: U256::ZERO,
        gas_limit: 21_000,
        block_limit: limit,
        to: TxKind::Call(Address::repeat_byte(1)),
        value: U256::ZERO,
        input: Bytes::new(),
        chain_id: CHAIN,
        group_id: group,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

fn none(_: &B256) -> Result<bool, jinlian_executor::StateError> {
    Ok(false)
}

#[test]
fn admission_applies_the_executors_rules() {
    let k = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let mut state = MemState::new();
    state.set_account(k.address(), 5, U256::ZERO);
    let mut pool = Pool::new(100, 1 << 20);
    assert_eq!(MAX_PER_SENDER, 1024);
    let r = rules(10);
    assert!(pool.admit(eth(&k, 5, CHAIN), &r, &state, none).unwrap());
    assert!(!pool.admit(eth(&k, 5, CHAIN), &r, &state, none).unwrap(), "a duplicate is known");
    // Another transaction with a pooled nonce (here: another recipient) cannot replace it.
    let mut other = eth(&k, 5, CHAIN);
    if let TxBody::Legacy(mut b) = other.tx.body().clone() {
        b.to = TxKind::Call(Address::repeat_byte(2));
        other =
            Transaction::sign(TxBody::Legacy(b), &k).unwrap().into_recovered(k.suite()).unwrap();
    }
    let e = pool.admit(other, &r, &state, none).unwrap_err();
    assert_eq!(e, Reject::NonceTaken(5));
    assert!(e.to_string().contains("replacement transaction underpriced"), "clients recognise it");
    assert!(matches!(
        pool.admit(eth(&k, 4, CHAIN), &r, &state, none),
        Err(Reject::NonceTooLow { .. })
    ));
    assert!(matches!(
        pool.admit(eth(&k, 5 + 1001, CHAIN), &r, &state, none),
        Err(Reject::NonceTooHigh { .. })
    ));
    assert!(matches!(pool.admit(eth(&k, 6, 1), &r, &state, none), Err(Reject::WrongChain { .. })));
    assert!(matches!(
        pool.admit(cons(&k, 1, 10, 2), &r, &state, none),
        Err(Reject::WrongGroup { .. })
    ));
    assert!(matches!(
        pool.admit(cons(&k, 1, 9, 1), &r, &state, none),
        Err(Reject::BlockLimit { .. })
    ));
    assert!(matches!(
        pool.admit(cons(&k, 1, 1010, 1), &r, &state, none),
        Err(Reject::BlockLimit { .. })
    ));
    assert!(pool.admit(cons(&k, 1, 1009, 1), &r, &state, none).unwrap());
    // The same randomid in another transaction of the same sender is refused.
    assert!(matches!(pool.admit(cons(&k, 1, 500, 1), &r, &state, none), Err(Reject::RandomIdUsed)));
    // A committed transaction fails the nonce rule; the ledger's index then says why. One
    // whose nonce is still ahead cannot be in the chain, so the index is not read for it.
    let in_chain = |_: &B256| Ok(true);
    assert!(matches!(pool.admit(eth(&k, 3, CHAIN), &r, &state, in_chain), Err(Reject::InChain(_))));
    assert!(matches!(
        pool.admit(eth(&k, 3, CHAIN), &r, &state, none),
        Err(Reject::NonceTooLow { got: 3, next: 5 })
    ));
    let unread = |_: &B256| -> Result<bool, jinlian_executor::StateError> {
        panic!("the ledger's index was read for a transaction that cannot be in it")
    };
    assert!(pool.admit(eth(&k, 7, CHAIN), &r, &state, unread).unwrap());
    // Value above the balance, and gas below any transaction's cost, are refused up front.
    let rich = KeyPair::from_secret(CryptoSuite::Ecdsa, &[3; 32]).unwrap();
    let mut costly = cons(&rich, 50, 20, 1);
    let TxBody::Consortium(mut c) = costly.tx.body().clone() else { unreachable!() };
    c.value = U256::from(10);
    costly = Transaction::sign(TxBody::Consortium(c.clone()), &rich)
        .unwrap()
        .into_recovered(rich.suite())
        .unwrap();
    assert!(matches!(pool.admit(costly.clone(), &r, &state, none), Err(Reject::Balance { .. })));
    state.set_account(rich.address(), 0, U256::from(10));
    assert!(pool.admit(costly, &r, &state, none).unwrap());
    c.value = U256::ZERO;
    c.gas_limit = 20_000;
    c.random_id = U256::from(51);
    let cheap = Transaction::sign(TxBody::Consortium(c), &rich)
        .unwrap()
        .into_recovered(rich.suite())
        .unwrap();
    assert!(matches!(pool.admit(cheap, &r, &state, none), Err(Reject::IntrinsicGas(20_000))));
    let msg = Reject::BlockLimit { got: 9, from: 10, to: 1010 }.to_string();
    assert!(msg.contains("BlockLimitCheckFail") && msg.contains("[10, 1010)"), "{msg}");
}

#[test]
fn the_pool_is_bounded_and_packs_in_a_valid_order() {
    let a = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let b = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
    let state = MemState::new();
    let mut pool = Pool::new(5, 1 << 20);
    let r = rules(1);
    // a's nonce 1 arrives before nonce 0; a consortium tx of a takes a nonce too.
    let txs = [
        eth(&a, 1, CHAIN),
        eth(&b, 0, CHAIN),
        eth(&a, 0, CHAIN),
        cons(&a, 7, 5, 1),
        eth(&a, 2, CHAIN),
    ];
    for t in &txs {
        assert!(pool.admit(t.clone(), &r, &state, none).unwrap());
    }
    assert!(matches!(pool.admit(eth(&b, 1, CHAIN), &r, &state, none), Err(Reject::Full(5))));
    let packed: Vec<B256> = pool.pack(10, &state).unwrap().iter().map(|t| t.tx.hash()).collect();
    // a:1 waits (a's next is 0); b:0; a:0, then the a:1 that came early; the consortium tx
    // (a's nonce 2 at execution); a:2 no longer fits.
    let want: Vec<B256> = [1, 2, 0, 3].iter().map(|&i| txs[i].tx.hash()).collect();
    assert_eq!(packed, want);
    assert_eq!(pool.pack(2, &state).unwrap().len(), 2);
    let three: Vec<B256> = pool.pack(3, &state).unwrap().iter().map(|t| t.tx.hash()).collect();
    assert_eq!(three, want[..3], "the limit holds inside a sender's run of early nonces");
    // After a block, committed ones go and stale ones are pruned.
    pool.remove([txs[1].tx.hash(), txs[2].tx.hash()].iter());
    assert_eq!(pool.len(), 3);
    let mut after = MemState::new();
    after.set_account(a.address(), 2, U256::ZERO);
    assert_eq!(
        pool.prune(6, &after).unwrap(),
        2,
        "a:1 is below the nonce, the consortium tx expired"
    );
    assert_eq!(pool.len(), 1);
    // The randomid of a removed transaction is free again in the pool.
    assert!(pool.admit(cons(&a, 7, 8, 1), &rules(6), &after, none).unwrap());
}

#[test]
fn transactions_behind_a_nonce_gap_are_counted_as_queued_until_the_gap_fills() {
    let a = KeyPair::from_secret(CryptoSuite::Ecdsa, &[3; 32]).unwrap();
    let b = KeyPair::from_secret(CryptoSuite::Ecdsa, &[4; 32]).unwrap();
    let mut state = MemState::new();
    state.set_account(a.address(), 5, U256::ZERO);
    let mut pool = Pool::new(100, 1 << 20);
    let r = rules(1);
    // a is at nonce 5: 7 and 8 wait for 6; b:0 and a consortium tx are ready.
    for t in [eth(&a, 7, CHAIN), eth(&a, 8, CHAIN), eth(&b, 0, CHAIN), cons(&a, 1, 5, 1)] {
        assert!(pool.admit(t, &r, &state, none).unwrap());
    }
    assert_eq!(pool.queued(), 2);
    assert!(pool.waits_for_gap(&eth(&a, 7, CHAIN), 5));
    assert!(!pool.waits_for_gap(&eth(&b, 0, CHAIN), 0));
    assert!(pool.admit(eth(&a, 5, CHAIN), &r, &state, none).unwrap());
    assert_eq!(pool.queued(), 2, "5 is ready, 6 still missing");
    assert!(pool.admit(eth(&a, 6, CHAIN), &r, &state, none).unwrap());
    assert_eq!(pool.queued(), 0, "6 releases 7 and 8");

    // After a block moved a to nonce 9 (5..8 committed elsewhere): a new gap at 10 is queued.
    assert!(pool.admit(eth(&a, 11, CHAIN), &r, &state, none).unwrap());
    assert_eq!(pool.queued(), 1);
    state.set_account(a.address(), 9, U256::ZERO);
    assert_eq!(pool.prune(2, &state).unwrap(), 4, "a:5..8 are below the nonce");
    assert_eq!(pool.queued(), 1, "a:11 still waits for 9 and 10");
    state.set_account(a.address(), 11, U256::ZERO);
    pool.prune(3, &state).unwrap();
    assert_eq!(pool.queued(), 0, "a:11 is next now");
}
