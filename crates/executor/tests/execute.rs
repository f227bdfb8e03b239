//! Blocks executed on revm: transfers without fees, contract creation and calls, storage,
//! logs, reverts, out of gas, replay rules of both envelopes, and determinism.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::*;
use jinlian_primitives::{
    ConsortiumTx, Eip1559Tx, LegacyTx, RecoveredTx, Transaction, TxBody, status,
};

const CHAIN: u64 = 20_261_130;

fn cfg(suite: CryptoSuite) -> ExecConfig {
    ExecConfig { suite, chain_id: CHAIN, group_id: 1, ..ExecConfig::default() }
}

fn ctx(height: u64, parent_state_root: B256) -> BlockContext {
    BlockContext {
        height,
        timestamp_ms: 1_764_000_000_123 + height * 1000,
        gas_limit: 1_000_000_000,
        coinbase: Address::repeat_byte(0xcb),
        parent_state_root,
    }
}

fn legacy(
    key: &KeyPair,
    nonce: u64,
    to: TxKind,
    value: u64,
    input: Vec<u8>,
    gas: u64,
) -> RecoveredTx {
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit: gas,
        to,
        value: U256::from(value),
        input: Bytes::from(input),
        chain_id: Some(CHAIN),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

fn consortium(
    key: &KeyPair,
    random_id: u64,
    block_limit: u64,
    to: TxKind,
    input: Vec<u8>,
) -> RecoveredTx {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(random_id),
        gas_price: U256::from(30_000_000u64),
        gas_limit: 3_000_000,
        block_limit,
        to,
        value: U256::ZERO,
        input: Bytes::from(input),
        chain_id: CHAIN,
        group_id: 1,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

/// Runtime: store calldata word 0 at slot 0 and emit LOG1 with it as the topic.
const STORE_AND_LOG: [u8; 13] = hex!("6000358060005560006000a100");
/// Runtime: revert with the 4 bytes 0xdeadbeef.
const REVERTS: [u8; 13] = hex!("63deadbeef600052600460" "1cfd");
/// Runtime: loop forever.
const LOOPS: [u8; 4] = hex!("5b600056");

/// Init code that deploys `runtime`.
fn deploy(runtime: &[u8]) -> Vec<u8> {
    let mut code =
        vec![0x60, runtime.len() as u8, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(runtime);
    code
}

fn apply(state: &mut MemState, out: &BlockOutcome) {
    common::check_prior(state, out);
    state.apply(&out.write_set);
}

#[test]
fn transfers_charge_no_fees_and_need_balance() {
    let alice = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let bob = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap();
    let mut state = MemState::new();
    state.set_account(alice.address(), 0, U256::from(1000));
    let txs = vec![
        legacy(&alice, 0, TxKind::Call(bob.address()), 300, vec![], 21_000),
        // Bob had nothing: sending zero value works, no fee is taken.
        legacy(&bob, 0, TxKind::Call(alice.address()), 0, vec![], 21_000),
    ];
    let out = execute_block(&cfg(CryptoSuite::Ecdsa), &state, &ctx(1, B256::ZERO), &txs).unwrap();
    assert!(out.receipts.iter().all(|r| r.status == status::OK));
    assert_eq!(out.receipts[0].gas_used, 21_000);
    assert_eq!(out.receipts[1].cumulative_gas_used, 42_000);
    assert_eq!(out.gas_used, 42_000);
    apply(&mut state, &out);
    assert_eq!(state.account(&alice.address()).unwrap().balance, U256::from(700));
    assert_eq!(state.account(&bob.address()).unwrap().balance, U256::from(300));
    assert_eq!(state.account(&bob.address()).unwrap().nonce, 1);
    // Nothing minted, nothing paid to the coinbase.
    assert!(state.account(&Address::repeat_byte(0xcb)).is_none_or(|a| a.balance.is_zero()));

    // More value than the balance: the transaction fails with FISCO's NotEnoughCash, moves
    // nothing, and still uses its nonce (like any executed transaction).
    let txs = vec![legacy(&bob, 1, TxKind::Call(alice.address()), 301, vec![], 21_000)];
    let out =
        execute_block(&cfg(CryptoSuite::Ecdsa), &state, &ctx(2, out.state_root), &txs).unwrap();
    assert_eq!(out.receipts[0].status, status::NOT_ENOUGH_CASH);
    apply(&mut state, &out);
    assert_eq!(state.account(&bob.address()).unwrap().balance, U256::from(300));
    assert_eq!(state.account(&alice.address()).unwrap().balance, U256::from(700));
    assert_eq!(state.account(&bob.address()).unwrap().nonce, 2);
}

#[test]
fn ethereum_nonces_must_follow_the_account() {
    let alice = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let state = MemState::new();
    let to = TxKind::Call(Address::repeat_byte(1));
    for (nonce, ok) in [(0, true), (1, false)] {
        let r = execute_block(
            &cfg(CryptoSuite::Ecdsa),
            &state,
            &ctx(1, B256::ZERO),
            &[legacy(&alice, nonce, to, 0, vec![], 21_000)],
        );
        assert_eq!(r.is_ok(), ok, "nonce {nonce}: {r:?}");
    }
    // Two in a row in one block, and a replay of the first.
    let txs = [legacy(&alice, 0, to, 0, vec![], 21_000), legacy(&alice, 1, to, 0, vec![], 21_000)];
    assert!(execute_block(&cfg(CryptoSuite::Ecdsa), &state, &ctx(1, B256::ZERO), &txs).is_ok());
    let replay = [txs[0].clone(), txs[0].clone()];
    let err =
        execute_block(&cfg(CryptoSuite::Ecdsa), &state, &ctx(1, B256::ZERO), &replay).unwrap_err();
    assert!(err.to_string().contains("nonce"), "{err}");
    // Another chain's transaction.
    let mut other = cfg(CryptoSuite::Ecdsa);
    other.chain_id = 7;
    assert!(execute_block(&other, &state, &ctx(1, B256::ZERO), &txs[..1]).is_err());
}

#[test]
fn contracts_deploy_store_log_revert_and_run_out_of_gas() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let dev = KeyPair::from_secret(suite, &[9; 32]).unwrap();
        let mut state = MemState::new();
        // CREATE addresses: Ethereum's rule with the chain's hash (SM3 on sm chains).
        let (c1, c2, c3) = (
            create_address(suite, &dev.address(), 0),
            create_address(suite, &dev.address(), 1),
            create_address(suite, &dev.address(), 2),
        );
        let txs = vec![
            consortium(&dev, 1, 5, TxKind::Create, deploy(&STORE_AND_LOG)),
            consortium(&dev, 2, 5, TxKind::Create, deploy(&REVERTS)),
            consortium(&dev, 3, 5, TxKind::Create, deploy(&LOOPS)),
        ];
        let out = execute_block(&cfg(suite), &state, &ctx(1, B256::ZERO), &txs).unwrap();
        let addrs: Vec<_> = out.receipts.iter().map(|r| r.contract_address).collect();
        assert_eq!(addrs, vec![Some(c1), Some(c2), Some(c3)]);
        if suite == CryptoSuite::Ecdsa {
            assert_eq!(c1, dev.address().create(0), "as Ethereum");
        }
        apply(&mut state, &out);

        let word = B256::repeat_byte(0x42);
        let calls = vec![
            consortium(&dev, 4, 5, TxKind::Call(c1), word.to_vec()),
            consortium(&dev, 5, 5, TxKind::Call(c2), vec![]),
            consortium(&dev, 6, 5, TxKind::Call(c3), vec![]),
        ];
        let out2 = execute_block(&cfg(suite), &state, &ctx(2, out.state_root), &calls).unwrap();
        let [stored, reverted, looped] = &out2.receipts[..] else { panic!() };
        assert_eq!(stored.status, status::OK);
        assert_eq!(stored.logs.len(), 1);
        assert_eq!(stored.logs[0].address, c1);
        assert_eq!(stored.logs[0].topics(), &[word]);
        assert!(stored.logs_bloom().contains_log(&stored.logs[0]));
        assert!(out2.logs_bloom.contains_log(&stored.logs[0]));
        assert_eq!(reverted.status, status::REVERT_INSTRUCTION);
        assert_eq!(reverted.output.as_ref(), hex!("deadbeef"));
        assert_eq!(looped.status, status::OUT_OF_GAS);
        assert_eq!(looped.gas_used, 3_000_000, "out of gas uses the whole limit");
        apply(&mut state, &out2);
        assert_eq!(state.storage(&c1, U256::ZERO), U256::from_be_bytes(word.0));
        // Consortium transactions took the account's next nonce each time.
        assert_eq!(state.account(&dev.address()).unwrap().nonce, 6);
    }
}

#[test]
fn consortium_replay_rules() {
    let k = KeyPair::from_secret(CryptoSuite::Sm, &[3; 32]).unwrap();
    let other = KeyPair::from_secret(CryptoSuite::Sm, &[4; 32]).unwrap();
    let to = TxKind::Call(Address::repeat_byte(7));
    let mut state = MemState::new();
    let c = cfg(CryptoSuite::Sm);
    // blockLimit must be in [height, height + 1000).
    for (limit, ok) in [(9, false), (10, true), (1009, true), (1010, false)] {
        let r = execute_block(
            &c,
            &state,
            &ctx(10, B256::ZERO),
            &[consortium(&k, 1, limit, to, vec![])],
        );
        assert_eq!(r.is_ok(), ok, "blockLimit {limit}");
    }
    // A randomid is single-use per sender, in a block and across blocks; other senders may
    // use the same number.
    let dup = [consortium(&k, 7, 20, to, vec![]), consortium(&k, 7, 21, to, vec![1])];
    assert!(execute_block(&c, &state, &ctx(10, B256::ZERO), &dup).is_err());
    let first = [consortium(&k, 7, 20, to, vec![]), consortium(&other, 7, 20, to, vec![])];
    let out = execute_block(&c, &state, &ctx(10, B256::ZERO), &first).unwrap();
    apply(&mut state, &out);
    let again = [consortium(&k, 7, 25, to, vec![2])];
    let err = execute_block(&c, &state, &ctx(11, out.state_root), &again).unwrap_err();
    assert!(err.to_string().contains("randomid"), "{err}");
    // Records are pruned once their blockLimit (20) has passed: at height 21 they go, and the
    // randomid is free again (a transaction with blockLimit 20 could not be valid any more).
    let record = jinlian_executor::state::keys::random_id(&k.address(), &U256::from(7));
    assert!(state.entries.contains_key(&record));
    let mut h = 11;
    while h <= 21 {
        let out = execute_block(&c, &state, &ctx(h, B256::ZERO), &[]).unwrap();
        apply(&mut state, &out);
        h += 1;
        assert_eq!(state.entries.contains_key(&record), h <= 21, "after height {}", h - 1);
    }
    let expiry = jinlian_executor::state::keys::random_expiry(20);
    assert!(!state.entries.contains_key(&expiry));
    let reuse = [consortium(&k, 7, 30, to, vec![3])];
    let out = execute_block(&c, &state, &ctx(22, B256::ZERO), &reuse).unwrap();
    assert_eq!(out.receipts.len(), 1);
    // Wrong group.
    let mut g = c.clone();
    g.group_id = 2;
    assert!(
        execute_block(&g, &state, &ctx(11, out.state_root), &[consortium(&k, 8, 20, to, vec![])])
            .is_err()
    );
    // Over tx_gas_limit.
    let mut small = c.clone();
    small.tx_gas_limit = 100_000;
    assert!(
        execute_block(
            &small,
            &state,
            &ctx(11, out.state_root),
            &[consortium(&k, 9, 20, to, vec![])]
        )
        .is_err()
    );
}

#[test]
fn the_same_block_gives_the_same_roots_and_blocks_see_their_fields() {
    let alice = KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap();
    let mut state = MemState::new();
    state.set_account(alice.address(), 0, U256::from(10u64).pow(U256::from(18)));
    // Runtime: store TIMESTAMP at slot 0, CHAINID at slot 1, NUMBER at slot 2.
    let fields = hex!("42600055466001554360025500");
    let body = TxBody::Eip1559(Eip1559Tx {
        chain_id: CHAIN,
        nonce: 0,
        max_priority_fee_per_gas: 1_000_000_000, // wallets insist on a tip; it is never charged
        max_fee_per_gas: 2_000_000_000,
        gas_limit: 200_000,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from(deploy(&fields)),
        access_list: vec![],
    });
    let create =
        Transaction::sign(body, &alice).unwrap().into_recovered(CryptoSuite::Ecdsa).unwrap();
    let call = legacy(&alice, 1, TxKind::Call(alice.address().create(0)), 0, vec![], 100_000);
    let c = cfg(CryptoSuite::Ecdsa);
    let a = execute_block(&c, &state, &ctx(7, B256::repeat_byte(1)), std::slice::from_ref(&create))
        .unwrap();
    let b = execute_block(&c, &state, &ctx(7, B256::repeat_byte(1)), &[create]).unwrap();
    assert_eq!(a, b);
    apply(&mut state, &a);
    let out = execute_block(&c, &state, &ctx(8, a.state_root), &[call]).unwrap();
    apply(&mut state, &out);
    let contract = alice.address().create(0);
    assert_eq!(
        state.storage(&contract, U256::ZERO),
        U256::from(ctx(8, B256::ZERO).timestamp_ms / 1000),
        "seconds"
    );
    assert_eq!(state.storage(&contract, U256::from(1)), U256::from(CHAIN));
    assert_eq!(state.storage(&contract, U256::from(2)), U256::from(8));
    // The balance paid no fee for the 1559 transaction with a tip.
    assert_eq!(
        state.account(&alice.address()).unwrap().balance,
        U256::from(10u64).pow(U256::from(18))
    );
    // A different parent root gives a different state root; the write set is sorted.
    let c2 = execute_block(&c, &MemState::new(), &ctx(7, B256::repeat_byte(2)), &[]).unwrap();
    assert_ne!(c2.state_root, a.state_root);
    assert!(a.write_set.windows(2).all(|w| w[0].0 < w[1].0));
}

/// On `sm` chains the SHA3 opcode is SM3 (as FISCO's 国密 build); on `ecdsa` chains Keccak.
#[test]
fn sha3_opcode_follows_the_chain_suite() {
    // Runtime: slot 0 = SHA3("abc"), slot 1 = SHA3("").
    let runtime = hex!("62616263600052600360" "1d20600055600060002060015500");
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let dev = KeyPair::from_secret(suite, &[8; 32]).unwrap();
        let mut state = MemState::new();
        let out = execute_block(
            &cfg(suite),
            &state,
            &ctx(1, B256::ZERO),
            &[consortium(&dev, 1, 5, TxKind::Create, deploy(&runtime))],
        )
        .unwrap();
        let contract = out.receipts[0].contract_address.unwrap();
        apply(&mut state, &out);
        let out = execute_block(
            &cfg(suite),
            &state,
            &ctx(2, out.state_root),
            &[consortium(&dev, 2, 5, TxKind::Call(contract), vec![])],
        )
        .unwrap();
        assert_eq!(out.receipts[0].status, status::OK);
        apply(&mut state, &out);
        assert_eq!(
            state.storage(&contract, U256::ZERO),
            U256::from_be_bytes(suite.hash(b"abc").0),
            "{suite}"
        );
        assert_eq!(
            state.storage(&contract, U256::from(1)),
            U256::from_be_bytes(suite.hash(b"").0),
            "{suite}"
        );
    }
}

/// Large blocks digest receipts on a second thread while the EVM runs: the receipt root and
/// the bloom must still be exactly those of the receipts, in order.
#[test]
fn large_blocks_digest_receipts_in_order() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let dev = KeyPair::from_secret(suite, &[9; 32]).unwrap();
        let mut state = MemState::new();
        let out = execute_block(
            &cfg(suite),
            &state,
            &ctx(1, B256::ZERO),
            &[consortium(&dev, 1, 5, TxKind::Create, deploy(&STORE_AND_LOG))],
        )
        .unwrap();
        let store = out.receipts[0].contract_address.unwrap();
        apply(&mut state, &out);
        // 700 calls, each logging its own word (so every receipt and topic differs).
        let txs: Vec<RecoveredTx> = (0..700u64)
            .map(|i| {
                let word = B256::from(U256::from(i + 1));
                consortium(&dev, 10 + i, 5, TxKind::Call(store), word.to_vec())
            })
            .collect();
        let out = execute_block(&cfg(suite), &state, &ctx(2, out.state_root), &txs).unwrap();
        assert_eq!(out.receipts.len(), 700);
        for (i, r) in out.receipts.iter().enumerate() {
            assert_eq!(r.logs[0].topics()[0], B256::from(U256::from(i as u64 + 1)), "order kept");
        }
        let hashes: Vec<B256> = out.receipts.iter().map(|r| r.hash(suite)).collect();
        assert_eq!(out.receipt_root, jinlian_primitives::merkle_root(suite, &hashes));
        let mut bloom = alloy_primitives::Bloom::ZERO;
        for r in &out.receipts {
            bloom.accrue_bloom(&r.logs_bloom());
        }
        assert_eq!(out.logs_bloom, bloom);
    }
}
