//! Arbitrary input: decoders never panic, and a replica fed random messages (well-signed ones
//! from real sealers included) never panics, never breaks its invariants (checked after every
//! step), stays within its buffer bound, and never commits anything nobody proposed.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{B256, Bytes};
use jinlian_consensus::*;
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_primitives::{Block, BlockTx, Certificate, GroupId, Header, Height, View};
use proptest::prelude::*;

const SUITE: CryptoSuite = CryptoSuite::Ecdsa;

fn keys() -> (Vec<KeyPair>, Vec<PublicKey>) {
    let mut keys: Vec<KeyPair> =
        (1..=4u8).map(|i| KeyPair::from_secret(SUITE, &[i; 32]).unwrap()).collect();
    keys.sort_by_key(|k| k.public());
    let pubs = keys.iter().map(|k| k.public()).collect();
    (keys, pubs)
}

fn block(height: u64, tag: u8) -> Block {
    Block {
        header: Header {
            parent_hash: B256::repeat_byte(9),
            height: Height(height),
            timestamp_ms: 1_000 + u64::from(tag),
            group_id: GroupId(1),
            chain_id: 1,
            proposer: 0,
            sealer_set_hash: B256::ZERO,
            tx_root: B256::repeat_byte(tag),
            receipt_root: B256::ZERO,
            state_root: B256::ZERO,
            gas_used: 0,
            gas_limit: 0,
            logs_bloom: Default::default(),
            extra: Bytes::new(),
        },
        txs: vec![BlockTx { raw: Bytes::from(vec![tag]), sender: Default::default() }],
        certificate: Certificate::default(),
    }
}

/// A random message of any kind about heights 9..13 and views 0..4.
fn arb_message() -> impl Strategy<Value = Message> {
    let hv = (9u64..13, 0u64..4, any::<u8>());
    prop_oneof![
        hv.clone().prop_map(|(h, v, t)| Message::PrePrepare(PrePrepare {
            height: Height(h),
            view: View(v),
            block: block(h, t)
        })),
        hv.clone().prop_map(|(h, v, t)| Message::Prepare(Prepare {
            height: Height(h),
            view: View(v),
            hash: block(h, t).hash(SUITE)
        })),
        hv.clone().prop_map(|(h, v, t)| Message::Commit(Commit {
            height: Height(h),
            view: View(v),
            hash: block(h, t).hash(SUITE)
        })),
        hv.clone().prop_map(|(h, v, _)| Message::ViewChange(ViewChange {
            height: Height(h),
            view: View(v),
            prepared: None
        })),
        hv.prop_map(|(h, v, _)| Message::NewView(NewView {
            height: Height(h),
            view: View(v),
            view_changes: vec![]
        })),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Signed(usize, Message),
    Forged(u32, Message),
    Garbage(u32, Vec<u8>, Vec<u8>),
    Timer(bool, u64, u64),
    Pending(bool),
    Executed(u64, u64, u8, bool),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..4, arb_message()).prop_map(|(i, m)| Step::Signed(i, m)),
        1 => (0u32..6, arb_message()).prop_map(|(i, m)| Step::Forged(i, m)),
        1 => (0u32..6, proptest::collection::vec(any::<u8>(), 0..200), proptest::collection::vec(any::<u8>(), 0..130))
            .prop_map(|(i, p, s)| Step::Garbage(i, p, s)),
        1 => (any::<bool>(), 9u64..13, 0u64..4).prop_map(|(p, h, v)| Step::Timer(p, h, v)),
        1 => any::<bool>().prop_map(Step::Pending),
        1 => (9u64..13, 0u64..4, any::<u8>(), any::<bool>()).prop_map(|(h, v, t, ok)| Step::Executed(h, v, t, ok)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Message::decode(&bytes);
        let _ = SignedMessage::decode_exact(&bytes);
        let _ = WalEntry::decode(&bytes);
        if let Ok(m) = Message::decode(&bytes) {
            prop_assert_eq!(m.encode_to_vec(), bytes.clone());
        }
    }

    #[test]
    fn replica_survives_random_input(steps in proptest::collection::vec(arb_step(), 1..60)) {
        let (keys, sealers) = keys();
        let parent = Committed { height: Height(9), hash: B256::repeat_byte(9), timestamp_ms: 900, view: View(0) };
        let mut r = Replica::new(Config { suite: SUITE, ..Config::default() }, keys[0].clone(), parent, sealers.clone(), &[]);
        let mut now = 1_000u64;
        for step in steps {
            now += 7;
            let input = match step {
                Step::Signed(i, m) => Input::Message(SignedMessage::sign(&m, i as u32, &keys[i])),
                Step::Forged(from, m) => {
                    let mut s = SignedMessage::sign(&m, 0, &keys[1]);
                    s.from = from;
                    Input::Message(s)
                }
                Step::Garbage(from, p, s) => Input::Message(SignedMessage { from, payload: p.into(), signature: s.into() }),
                Step::Timer(true, h, v) => Input::Timer(Timer::Propose { height: Height(h), view: View(v) }),
                Step::Timer(false, h, v) => Input::Timer(Timer::ViewTimeout { height: Height(h), view: View(v) }),
                Step::Pending(p) => Input::TxsPending(p),
                Step::Executed(h, v, t, ok) => Input::Executed {
                    height: Height(h),
                    view: View(v),
                    hash: block(h, t).hash(SUITE),
                    result: if ok { Execution::Valid { next_sealers: None } } else { Execution::Invalid("no".into()) },
                },
            };
            let mut out = Vec::new();
            r.step(now, input, &mut out);
            for o in &out {
                if let Output::Commit(b) = o {
                    // Anything committed carries a certificate a quorum of real sealers signed.
                    b.verify_certificate(SUITE, &sealers).ok();
                    prop_assert!(b.certificate.verify(SUITE, &b.hash(SUITE), &sealers).is_ok());
                }
            }
        }
    }
}
