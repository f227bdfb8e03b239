//! Transition tables: for each rule of the replica, (situation, input) → expected outputs.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{B256, Bytes};
use jinlian_consensus::*;
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_primitives::{Block, BlockTx, Certificate, GroupId, Header, Height, View};

const SUITE: CryptoSuite = CryptoSuite::Ecdsa;
const T0: u64 = 1_000_000;

struct Fixture {
    keys: Vec<KeyPair>,
    sealers: Vec<PublicKey>,
    parent: Committed,
}

fn fixture(n: usize) -> Fixture {
    let mut keys: Vec<KeyPair> =
        (1..=n as u8).map(|i| KeyPair::from_secret(SUITE, &[i; 32]).unwrap()).collect();
    keys.sort_by_key(|k| k.public());
    let sealers = keys.iter().map(|k| k.public()).collect();
    let parent = Committed {
        height: Height(9),
        hash: B256::repeat_byte(9),
        timestamp_ms: T0,
        view: View(0),
    };
    Fixture { keys, sealers, parent }
}

fn config() -> Config {
    Config { suite: SUITE, block_interval_ms: 500, timeout_ms: 3000, ..Config::default() }
}

impl Fixture {
    fn replica(&self, i: usize, wal: &[WalEntry]) -> Replica {
        Replica::new(config(), self.keys[i].clone(), self.parent, self.sealers.clone(), wal)
    }

    fn block(&self, tag: u8, ts: u64) -> Block {
        Block {
            header: Header {
                parent_hash: self.parent.hash,
                height: Height(10),
                timestamp_ms: ts,
                group_id: GroupId(1),
                chain_id: 1,
                proposer: 2,
                sealer_set_hash: jinlian_primitives::sealer_set_hash(SUITE, &self.sealers),
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

    fn signed(&self, i: usize, msg: Message) -> Input {
        Input::Message(SignedMessage::sign(&msg, i as u32, &self.keys[i]))
    }
}

fn run(r: &mut Replica, now: u64, input: Input) -> Vec<Output> {
    let mut out = Vec::new();
    r.step(now, input, &mut out);
    out
}

fn broadcasts(out: &[Output]) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(Message::decode(&m.payload).unwrap()),
            _ => None,
        })
        .collect()
}

fn faults(out: &[Output]) -> Vec<Fault> {
    out.iter()
        .filter_map(|o| match o {
            Output::ReportFault { fault, .. } => Some(fault.clone()),
            _ => None,
        })
        .collect()
}

/// Index of the first output matching `f`.
fn pos(out: &[Output], f: impl Fn(&Output) -> bool) -> Option<usize> {
    out.iter().position(f)
}

/// A predicate over a step's outputs.
type Check = Box<dyn Fn(&[Output]) -> bool>;

// Height 10, view 0, n = 4: the primary is sealers[10 % 4] = index 2.
const PRIMARY: usize = 2;

#[test]
fn primary_proposes_only_with_transactions_and_after_the_block_interval() {
    let fx = fixture(4);
    let mut p = fx.replica(PRIMARY, &[]);
    assert!(run(&mut p, T0 + 100, Input::TxsPending(false)).is_empty());
    // Pending transactions before the interval: a timer for when it has passed.
    let out = run(&mut p, T0 + 100, Input::TxsPending(true));
    assert!(out.contains(&Output::SetTimer {
        timer: Timer::Propose { height: Height(10), view: View(0) },
        at_ms: T0 + 500
    }));
    assert!(!out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
    let out =
        run(&mut p, T0 + 500, Input::Timer(Timer::Propose { height: Height(10), view: View(0) }));
    assert!(matches!(
        out.as_slice(),
        [Output::BuildProposal { height: Height(10), view: View(0), min_timestamp_ms, .. }] if *min_timestamp_ms == T0 + 500
    ));
    // A backup never asks to build.
    let mut b = fx.replica(0, &[]);
    let out = run(&mut b, T0 + 600, Input::TxsPending(true));
    assert!(!out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
}

#[test]
fn a_full_pool_makes_the_primary_propose_before_the_interval_but_never_from_nothing() {
    let fx = fixture(4);
    // BlockFull alone (nothing said to be pending) asks for nothing.
    let mut p = fx.replica(PRIMARY, &[]);
    assert!(
        !run(&mut p, T0 + 100, Input::BlockFull)
            .iter()
            .any(|o| matches!(o, Output::BuildProposal { .. }))
    );
    // Pending, then full: the build is asked for at once, not at T0 + 500.
    let mut p = fx.replica(PRIMARY, &[]);
    let out = run(&mut p, T0 + 100, Input::TxsPending(true));
    assert!(!out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
    let out = run(&mut p, T0 + 100, Input::BlockFull);
    assert!(matches!(
        out.as_slice(),
        [Output::BuildProposal { height: Height(10), view: View(0), min_timestamp_ms, .. }] if *min_timestamp_ms == T0 + 100
    ));
    // Asked once per view: a second BlockFull asks for nothing more.
    assert!(run(&mut p, T0 + 120, Input::BlockFull).is_empty());
    // A backup never asks to build, full pool or not.
    let mut b = fx.replica(0, &[]);
    run(&mut b, T0 + 100, Input::TxsPending(true));
    let out = run(&mut b, T0 + 100, Input::BlockFull);
    assert!(!out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
}

#[test]
fn timing_changed_by_the_chain_applies_to_the_height_being_agreed_on() {
    let fx = fixture(4);
    let mut p = fx.replica(PRIMARY, &[]);
    // Interval 500 ms: a proposal timer for T0 + 500 and a view timer for T0 + 100 + 3000.
    let out = run(&mut p, T0 + 100, Input::TxsPending(true));
    assert!(out.contains(&Output::SetTimer {
        timer: Timer::Propose { height: Height(10), view: View(0) },
        at_ms: T0 + 500
    }));
    // The interval drops to 200 ms: due already, so the build is asked for at once.
    let mut out = Vec::new();
    p.set_timing(T0 + 300, 200, 3000, &mut out);
    assert!(
        out.iter().any(|o| matches!(o, Output::BuildProposal { height: Height(10), .. })),
        "{out:?}"
    );
    // The timeout grows to 10 s: the view timer moves, and the old one no longer fires.
    let mut out = Vec::new();
    p.set_timing(T0 + 400, 200, 10_000, &mut out);
    let view_timer = Timer::ViewTimeout { height: Height(10), view: View(0) };
    assert!(out.contains(&Output::SetTimer { timer: view_timer, at_ms: T0 + 100 + 10_000 }));
    assert!(run(&mut p, T0 + 3100, Input::Timer(view_timer)).is_empty(), "stale view timer");
    let out = run(&mut p, T0 + 10_100, Input::Timer(view_timer));
    assert!(!broadcasts(&out).is_empty(), "the moved view timer fires: {out:?}");
    // The same values again change nothing.
    let mut out = Vec::new();
    p.set_timing(T0 + 10_200, 200, 10_000, &mut out);
    assert!(out.is_empty());
}

#[test]
fn a_build_answered_with_nothing_is_asked_again_when_transactions_arrive() {
    // The host's pool emptied between the request and the build (the transactions were in
    // the block just committed): it replies nothing. When new transactions arrive the primary
    // must ask again, not wait for a view timeout.
    let fx = fixture(4);
    let mut p = fx.replica(PRIMARY, &[]);
    let out = run(&mut p, T0 + 600, Input::TxsPending(true));
    assert!(out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
    assert!(run(&mut p, T0 + 601, Input::TxsPending(false)).is_empty());
    let out = run(&mut p, T0 + 700, Input::TxsPending(true));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::BuildProposal { height: Height(10), view: View(0), .. })),
        "{out:?}"
    );
    // Still pending (no change): no second request while one is outstanding.
    let out = run(&mut p, T0 + 701, Input::TxsPending(true));
    assert!(!out.iter().any(|o| matches!(o, Output::BuildProposal { .. })));
}

#[test]
fn primary_broadcasts_its_proposal_and_persists_its_prepare_before_sending_it() {
    let fx = fixture(4);
    let mut p = fx.replica(PRIMARY, &[]);
    run(&mut p, T0 + 600, Input::TxsPending(true));
    let block = fx.block(1, T0 + 600);
    let out = run(
        &mut p,
        T0 + 600,
        Input::ProposalBuilt {
            height: Height(10),
            view: View(0),
            block: Box::new(block.clone()),
            next_sealers: None,
        },
    );
    let msgs = broadcasts(&out);
    assert!(matches!(&msgs[0], Message::PrePrepare(pp) if pp.block == block));
    assert!(matches!(&msgs[1], Message::Prepare(pr) if pr.hash == block.hash(SUITE)));
    let persist = pos(&out, |o| matches!(o, Output::Persist(WalEntry::Prepare { .. }))).unwrap();
    let send = pos(&out, |o| matches!(o, Output::Broadcast(m) if matches!(Message::decode(&m.payload), Ok(Message::Prepare(_))))).unwrap();
    assert!(persist < send, "persist must come before the prepare is sent");
    // Our own host's stale or foreign replies are ignored.
    assert!(
        run(
            &mut p,
            T0 + 700,
            Input::ProposalBuilt {
                height: Height(10),
                view: View(0),
                block: Box::new(fx.block(2, T0 + 700)),
                next_sealers: None
            }
        )
        .is_empty()
    );
}

#[test]
fn backup_accepts_one_valid_proposal_from_the_primary_and_executes_before_voting() {
    let fx = fixture(4);
    let now = T0 + 600;
    let block = fx.block(1, now);
    let pp =
        |b: Block| Message::PrePrepare(PrePrepare { height: Height(10), view: View(0), block: b });

    let rows: Vec<(&str, Input, Check)> = vec![
        (
            "from the primary: execute",
            fx.signed(PRIMARY, pp(block.clone())),
            Box::new(|o| matches!(o, [Output::SetTimer { .. }, Output::Execute { .. }])),
        ),
        (
            "from a non-primary: fault",
            fx.signed(1, pp(block.clone())),
            Box::new(|o| faults(o) == vec![Fault::NotPrimary]),
        ),
        (
            "wrong parent",
            fx.signed(
                PRIMARY,
                pp({
                    let mut b = block.clone();
                    b.header.parent_hash = B256::ZERO;
                    b
                }),
            ),
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::InvalidProposal(_)])),
        ),
        (
            "timestamp not after parent",
            fx.signed(PRIMARY, pp(fx.block(1, T0))),
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::InvalidProposal(_)])),
        ),
        (
            "timestamp far ahead of our clock",
            fx.signed(PRIMARY, pp(fx.block(1, now + 60_000))),
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::InvalidProposal(_)])),
        ),
        (
            "empty block",
            fx.signed(
                PRIMARY,
                pp({
                    let mut b = block.clone();
                    b.txs.clear();
                    b
                }),
            ),
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::InvalidProposal(_)])),
        ),
        (
            "bad signature",
            {
                let mut m = SignedMessage::sign(&pp(block.clone()), PRIMARY as u32, &fx.keys[0]);
                m.from = PRIMARY as u32;
                Input::Message(m)
            },
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::BadMessage(_)])),
        ),
        (
            "garbage payload",
            Input::Message(SignedMessage {
                from: 1,
                payload: Bytes::from_static(&[9, 9]),
                signature: Bytes::new(),
            }),
            Box::new(|o| matches!(faults(o).as_slice(), [Fault::BadMessage(_)])),
        ),
    ];
    for (name, input, expect) in rows {
        let mut b = fx.replica(0, &[]);
        let out = run(&mut b, now, input);
        assert!(expect(&out), "{name}: {out:?}");
    }

    // Equivocation: a second, different proposal for the same (height, view).
    let mut b = fx.replica(0, &[]);
    run(&mut b, now, fx.signed(PRIMARY, pp(block.clone())));
    let out = run(&mut b, now, fx.signed(PRIMARY, pp(fx.block(2, now))));
    assert_eq!(faults(&out), vec![Fault::Equivocation { height: Height(10), view: View(0) }]);
    assert!(!out.iter().any(|o| matches!(o, Output::Execute { .. })));
}

#[test]
fn backup_votes_only_after_valid_execution() {
    let fx = fixture(4);
    let now = T0 + 600;
    let block = fx.block(1, now);
    let hash = block.hash(SUITE);
    let mut b = fx.replica(0, &[]);
    run(
        &mut b,
        now,
        fx.signed(
            PRIMARY,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(0), block }),
        ),
    );
    let out = run(
        &mut b,
        now,
        Input::Executed {
            height: Height(10),
            view: View(0),
            hash,
            result: Execution::Invalid("state root differs".into()),
        },
    );
    assert!(broadcasts(&out).is_empty());
    assert!(matches!(faults(&out).as_slice(), [Fault::InvalidProposal(_)]));

    let mut b = fx.replica(0, &[]);
    let block = fx.block(1, now);
    run(
        &mut b,
        now,
        fx.signed(
            PRIMARY,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(0), block }),
        ),
    );
    let out = run(
        &mut b,
        now,
        Input::Executed {
            height: Height(10),
            view: View(0),
            hash,
            result: Execution::Valid { next_sealers: None },
        },
    );
    assert_eq!(
        out[0],
        Output::Persist(WalEntry::Prepare { height: Height(10), view: View(0), hash })
    );
    assert!(matches!(&broadcasts(&out)[..], [Message::Prepare(p)] if p.hash == hash));
}

/// Drives replica 0 (a backup) to the prepared state; returns it, the block and the outputs.
fn prepared_backup(fx: &Fixture) -> (Replica, Block, Vec<Output>) {
    let now = T0 + 600;
    let block = fx.block(1, now);
    let hash = block.hash(SUITE);
    let mut b = fx.replica(0, &[]);
    run(
        &mut b,
        now,
        fx.signed(
            PRIMARY,
            Message::PrePrepare(PrePrepare {
                height: Height(10),
                view: View(0),
                block: block.clone(),
            }),
        ),
    );
    run(
        &mut b,
        now,
        Input::Executed {
            height: Height(10),
            view: View(0),
            hash,
            result: Execution::Valid { next_sealers: None },
        },
    );
    let prepare = |i: usize| {
        fx.signed(i, Message::Prepare(Prepare { height: Height(10), view: View(0), hash }))
    };
    assert!(broadcasts(&run(&mut b, now, prepare(PRIMARY))).is_empty(), "2 of 4 is no quorum");
    let out = run(&mut b, now, prepare(3));
    (b, block, out)
}

#[test]
fn quorum_of_prepares_persists_the_certificate_then_sends_commit() {
    let fx = fixture(4);
    let (_, block, out) = prepared_backup(&fx);
    let hash = block.hash(SUITE);
    let cert = pos(&out, |o| matches!(o, Output::Persist(WalEntry::Prepared(c)) if c.prepares.len() == 3 && c.block == block)).unwrap();
    let vote = pos(&out, |o| {
        *o == Output::Persist(WalEntry::Commit { height: Height(10), view: View(0), hash })
    })
    .unwrap();
    let send = pos(&out, |o| matches!(o, Output::Broadcast(m) if matches!(Message::decode(&m.payload), Ok(Message::Commit(_))))).unwrap();
    assert!(cert < send && vote < send);
}

#[test]
fn quorum_of_commits_commits_a_verifiable_certificate_and_advances() {
    let fx = fixture(4);
    let (mut b, block, _) = prepared_backup(&fx);
    let hash = block.hash(SUITE);
    let commit = |i: usize| {
        fx.signed(i, Message::Commit(Commit { height: Height(10), view: View(0), hash }))
    };
    assert!(!run(&mut b, T0 + 700, commit(PRIMARY)).iter().any(|o| matches!(o, Output::Commit(_))));
    let out = run(&mut b, T0 + 700, commit(1));
    let committed = out
        .iter()
        .find_map(|o| match o {
            Output::Commit(b) => Some(b.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(committed.hash(SUITE), hash);
    committed.verify_certificate(SUITE, &fx.sealers).unwrap();
    assert_eq!(b.height(), Height(11));
    assert_eq!(b.view(), View(0));
    // Late votes for the committed height are ignored.
    assert!(run(&mut b, T0 + 800, commit(3)).is_empty());
}

#[test]
fn commits_with_forged_signatures_do_not_count() {
    let fx = fixture(4);
    let (mut b, block, _) = prepared_backup(&fx);
    let hash = block.hash(SUITE);
    let msg = Message::Commit(Commit { height: Height(10), view: View(0), hash });
    for forger in [1usize, 2] {
        // Signed by replica 3's key but claiming to come from `forger`.
        let mut m = SignedMessage::sign(&msg, forger as u32, &fx.keys[3]);
        m.from = forger as u32;
        let out = run(&mut b, T0 + 700, Input::Message(m));
        assert!(matches!(faults(&out).as_slice(), [Fault::BadMessage(_)]));
    }
    assert_eq!(b.height(), Height(10));
}

#[test]
fn timeout_moves_to_the_next_view_and_stops_voting_in_the_old_one() {
    let fx = fixture(4);
    let (mut b, block, _) = prepared_backup(&fx);
    let out = run(
        &mut b,
        T0 + 4000,
        Input::Timer(Timer::ViewTimeout { height: Height(10), view: View(0) }),
    );
    assert_eq!(out[0], Output::Persist(WalEntry::ViewChange { height: Height(10), view: View(1) }));
    match &broadcasts(&out)[..] {
        [Message::ViewChange(vc)] => {
            assert_eq!(vc.view, View(1));
            assert_eq!(vc.prepared.as_ref().unwrap().block, block, "carries the prepared block");
        }
        other => panic!("{other:?}"),
    }
    // The next timeout is backed off: 3000 × 1.5.
    assert!(out.contains(&Output::SetTimer {
        timer: Timer::ViewTimeout { height: Height(10), view: View(1) },
        at_ms: T0 + 4000 + 4500
    }));
    assert!(b.in_view_change());
    // We no longer vote in view 0, but a quorum of view-0 commits for the block we executed
    // there is still that block's certificate: it commits (in view 0), it is not lost.
    let commit = |i: usize, view: u64| {
        fx.signed(
            i,
            Message::Commit(Commit {
                height: Height(10),
                view: View(view),
                hash: block.hash(SUITE),
            }),
        )
    };
    // Commits of mixed views never add up to a quorum.
    run(&mut b, T0 + 4001, commit(1, 1));
    assert!(
        !run(&mut b, T0 + 4001, commit(PRIMARY, 0)).iter().any(|o| matches!(o, Output::Commit(_)))
    );
    let out = run(&mut b, T0 + 4001, commit(1, 0));
    let committed = out.iter().find_map(|o| match o {
        Output::Commit(b) => Some(b.clone()),
        _ => None,
    });
    let committed = committed.expect("a view-0 quorum commits");
    assert_eq!(committed.certificate.view, View(0));
    committed.verify_certificate(SUITE, &fx.sealers).unwrap();
    // A stale timer does nothing.
    assert!(
        run(
            &mut b,
            T0 + 9000,
            Input::Timer(Timer::ViewTimeout { height: Height(10), view: View(0) })
        )
        .is_empty()
    );
}

#[test]
fn new_primary_with_a_quorum_of_view_changes_reproposes_the_highest_prepared_block() {
    let fx = fixture(4);
    // Replica 0 prepared the block in view 0; it and two others time out.
    let (mut b0, block, _) = prepared_backup(&fx);
    let vc0 = broadcasts(&run(
        &mut b0,
        T0 + 4000,
        Input::Timer(Timer::ViewTimeout { height: Height(10), view: View(0) }),
    ));
    let Message::ViewChange(vc0) = vc0[0].clone() else { panic!() };
    let vc = |i: usize, prepared: Option<PreparedCert>| {
        fx.signed(
            i,
            Message::ViewChange(ViewChange { height: Height(10), view: View(1), prepared }),
        )
    };
    // The primary of (10, 1) is index (10 + 1) % 4 = 3.
    let mut p = fx.replica(3, &[]);
    run(&mut p, T0 + 4000, vc(0, vc0.prepared.clone()));
    // f + 1 = 2 view changes for a higher view: replica 3 joins view 1 (and its own view
    // change completes the quorum).
    let out = run(&mut p, T0 + 4000, vc(1, None));
    let msgs = broadcasts(&out);
    assert!(
        msgs.iter().any(|m| matches!(m, Message::ViewChange(v) if v.view == View(1))),
        "{msgs:?}"
    );
    let nv = msgs
        .iter()
        .find_map(|m| match m {
            Message::NewView(nv) => Some(nv.clone()),
            _ => None,
        })
        .expect("new view");
    assert_eq!(nv.view_changes.len(), 3);
    let pp = msgs
        .iter()
        .find_map(|m| match m {
            Message::PrePrepare(pp) => Some(pp.clone()),
            _ => None,
        })
        .expect("re-proposal");
    assert_eq!(pp.block, block, "the prepared block is proposed again unchanged");
    assert_eq!(pp.view, View(1));
    assert!(out.iter().any(|o| matches!(o, Output::Execute { block: b, .. } if *b == block)));

    // A backup entering view 1 refuses any other block in it.
    let mut b1 = fx.replica(1, &[]);
    run(&mut b1, T0 + 4000, fx.signed(3, Message::NewView(nv.clone())));
    assert_eq!(b1.view(), View(1));
    assert!(!b1.in_view_change());
    let other = fx.block(7, T0 + 4000);
    let out = run(
        &mut b1,
        T0 + 4000,
        fx.signed(
            3,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(1), block: other }),
        ),
    );
    assert!(matches!(faults(&out).as_slice(), [Fault::InvalidProposal(_)]));
    let out = run(&mut b1, T0 + 4000, fx.signed(3, Message::PrePrepare(pp)));
    assert!(out.iter().any(|o| matches!(o, Output::Execute { .. })));
}

#[test]
fn new_views_without_a_valid_quorum_are_refused() {
    let fx = fixture(4);
    let vc = |i: usize| {
        SignedMessage::sign(
            &Message::ViewChange(ViewChange { height: Height(10), view: View(1), prepared: None }),
            i as u32,
            &fx.keys[i],
        )
    };
    let nv = |changes: Vec<SignedMessage>| {
        Message::NewView(NewView { height: Height(10), view: View(1), view_changes: changes })
    };
    let rows: Vec<(&str, Input)> = vec![
        ("two view changes", fx.signed(3, nv(vec![vc(0), vc(1)]))),
        ("the same sender three times", fx.signed(3, nv(vec![vc(0), vc(0), vc(0)]))),
        ("from a non-primary", fx.signed(2, nv(vec![vc(0), vc(1), vc(2)]))),
        (
            "a view change for another view",
            fx.signed(
                3,
                nv(vec![
                    vc(0),
                    vc(1),
                    SignedMessage::sign(
                        &Message::ViewChange(ViewChange {
                            height: Height(10),
                            view: View(2),
                            prepared: None,
                        }),
                        2,
                        &fx.keys[2],
                    ),
                ]),
            ),
        ),
    ];
    for (name, input) in rows {
        let mut b = fx.replica(1, &[]);
        let out = run(&mut b, T0, input);
        assert_eq!(b.view(), View(0), "{name}");
        assert_eq!(faults(&out).len(), 1, "{name}: {out:?}");
    }
    // A forged prepared certificate (prepares for another hash) inside a view change.
    let fake = PreparedCert {
        view: View(0),
        block: fx.block(5, T0 + 1),
        prepares: (0..3)
            .map(|i| {
                SignedMessage::sign(
                    &Message::Prepare(Prepare {
                        height: Height(10),
                        view: View(0),
                        hash: B256::repeat_byte(1),
                    }),
                    i,
                    &fx.keys[i as usize],
                )
            })
            .collect(),
    };
    let mut b = fx.replica(1, &[]);
    let out = run(
        &mut b,
        T0,
        fx.signed(
            0,
            Message::ViewChange(ViewChange {
                height: Height(10),
                view: View(1),
                prepared: Some(fake),
            }),
        ),
    );
    assert!(matches!(faults(&out).as_slice(), [Fault::InvalidCertificate(_)]));
}

#[test]
fn a_restarted_replica_never_prepares_a_second_hash_in_a_view() {
    let fx = fixture(4);
    let now = T0 + 600;
    let first = fx.block(1, now);
    let wal = [WalEntry::Prepare { height: Height(10), view: View(0), hash: first.hash(SUITE) }];
    // Encoded and decoded like a real WAL.
    let wal: Vec<WalEntry> =
        wal.iter().map(|e| WalEntry::decode(&e.encode_to_vec()).unwrap()).collect();
    let mut b = fx.replica(0, &wal);
    let second = fx.block(2, now);
    let h2 = second.hash(SUITE);
    run(
        &mut b,
        now,
        fx.signed(
            PRIMARY,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(0), block: second }),
        ),
    );
    let out = run(
        &mut b,
        now,
        Input::Executed {
            height: Height(10),
            view: View(0),
            hash: h2,
            result: Execution::Valid { next_sealers: None },
        },
    );
    assert!(broadcasts(&out).is_empty(), "must not prepare another hash: {out:?}");
    // A replica restarted after a view change stays in the new view and announces it again.
    let wal = [WalEntry::ViewChange { height: Height(10), view: View(3) }];
    let mut r = fx.replica(0, &wal);
    let mut out = Vec::new();
    r.start(now, &mut out);
    assert_eq!(r.view(), View(3));
    assert!(matches!(&broadcasts(&out)[..], [Message::ViewChange(v)] if v.view == View(3)));
}

#[test]
fn a_replica_restarted_inside_a_new_view_is_in_that_view_not_waiting_for_it() {
    // Found by the simulator: a replica that asked for view 1, entered it, prepared a block
    // in it and crashed used to come back "waiting for view 1" with a certificate prepared
    // in view 1, which every peer refuses; the group stalled.
    let fx = fixture(4);
    let (_, block, prepared_out) = prepared_backup(&fx);
    let Some(Output::Persist(WalEntry::Prepared(cert))) =
        prepared_out.into_iter().find(|o| matches!(o, Output::Persist(WalEntry::Prepared(_))))
    else {
        panic!("no certificate")
    };
    let mut cert = *cert;
    cert.view = View(1);
    let wal = [
        WalEntry::ViewChange { height: Height(10), view: View(1) },
        WalEntry::EnterView {
            height: Height(10),
            view: View(1),
            required: Some(Box::new(block.clone())),
        },
        WalEntry::Prepared(Box::new(cert)),
    ];
    let r = fx.replica(0, &wal);
    assert_eq!(r.view(), View(1));
    assert!(!r.in_view_change());
    // Entries survive their encoding.
    let wal: Vec<WalEntry> =
        wal.iter().map(|e| WalEntry::decode(&e.encode_to_vec()).unwrap()).collect();
    let mut r = fx.replica(0, &wal);
    // It still insists on the required block: another proposal in view 1 is refused.
    let primary = 3; // (10 + 1) % 4
    let other = fx.block(7, T0 + 700);
    let out = run(
        &mut r,
        T0 + 700,
        fx.signed(
            primary,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(1), block: other }),
        ),
    );
    assert!(matches!(faults(&out).as_slice(), [Fault::InvalidProposal(_)]), "{out:?}");
    // Without the EnterView entry it would be waiting for view 1.
    let r = fx.replica(0, &wal[..1]);
    assert!(r.in_view_change());
}

#[test]
fn sealer_changes_apply_from_the_next_height() {
    let fx = fixture(4);
    let now = T0 + 600;
    let block = fx.block(1, now);
    let hash = block.hash(SUITE);
    let extra = KeyPair::from_secret(SUITE, &[77u8; 32]).unwrap();
    let mut next: Vec<PublicKey> = fx.sealers.clone();
    next.push(extra.public());
    next.sort();
    let mut b = fx.replica(0, &[]);
    run(
        &mut b,
        now,
        fx.signed(
            PRIMARY,
            Message::PrePrepare(PrePrepare { height: Height(10), view: View(0), block }),
        ),
    );
    run(
        &mut b,
        now,
        Input::Executed {
            height: Height(10),
            view: View(0),
            hash,
            result: Execution::Valid { next_sealers: Some(next.clone()) },
        },
    );
    assert_eq!(b.sealers(), fx.sealers.as_slice(), "not before the block commits");
    for i in [PRIMARY, 3] {
        run(
            &mut b,
            now,
            fx.signed(i, Message::Prepare(Prepare { height: Height(10), view: View(0), hash })),
        );
    }
    for i in [PRIMARY, 3] {
        run(
            &mut b,
            now,
            fx.signed(i, Message::Commit(Commit { height: Height(10), view: View(0), hash })),
        );
    }
    assert_eq!(b.height(), Height(11));
    assert_eq!(b.sealers(), next.as_slice());
    assert_eq!(b.index(), next.iter().position(|s| *s == fx.keys[0].public()).map(|i| i as u32));
}

#[test]
fn future_messages_are_buffered_within_bounds_and_replayed() {
    let fx = fixture(4);
    let mut b = fx.replica(0, &[]);
    // A flood of messages for the next height from one sender stays bounded (the replica
    // asserts its own bound after every step).
    for i in 0..10_000u64 {
        let m = Message::Prepare(Prepare {
            height: Height(11),
            view: View(0),
            hash: B256::from(alloy_primitives::U256::from(i)),
        });
        run(&mut b, T0, fx.signed(1, m));
    }
    // Far-future heights are dropped outright; past ones ignored.
    let far = Message::Prepare(Prepare { height: Height(1000), view: View(0), hash: B256::ZERO });
    assert!(run(&mut b, T0, fx.signed(1, far)).is_empty());
    let old = Message::Prepare(Prepare { height: Height(3), view: View(0), hash: B256::ZERO });
    assert!(run(&mut b, T0, fx.signed(1, old)).is_empty());
}

#[test]
fn a_flood_of_commits_for_random_hashes_is_bounded_and_reported() {
    let fx = fixture(4);
    let mut b = fx.replica(0, &[]);
    let mut reported = 0;
    for i in 0..1000u64 {
        let hash = B256::from(alloy_primitives::U256::from(i));
        let out = run(
            &mut b,
            T0,
            fx.signed(1, Message::Commit(Commit { height: Height(10), view: View(0), hash })),
        );
        reported += faults(&out).len();
    }
    assert_eq!(reported, 999, "one hash per sender and view; the rest are equivocation");
}
