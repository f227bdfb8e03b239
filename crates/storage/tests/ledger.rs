//! The ledger schema over both engines: commit, reads, indexes, ordering rules, snapshots,
//! the WAL, reopening, and refusal of foreign, mismatched and corrupt files.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::B256;
use common::*;
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{Height, merkle_root, status};
use jinlian_storage::*;

fn exercise<S: KvStore>(ledger: &Ledger<S>) {
    let suite = ledger.suite();
    assert_eq!(ledger.head().unwrap(), None);

    // Genesis must be height 0.
    let (b1, r1, w1) = make_block(suite, None, 1, 2);
    assert!(matches!(ledger.commit_block(&b1, &r1, &w1), Err(StoreError::NotNext { .. })));
    let (g, gr, gw) = make_block(suite, None, 0, 0);
    let mut head = ledger.commit_block(&g, &gr, &gw).unwrap();
    assert_eq!(ledger.view().unwrap().genesis_hash().unwrap(), Some(g.hash(suite)));

    let before = ledger.view().unwrap();
    let mut blocks = vec![g];
    for h in 1..=5u64 {
        let (b, r, w) = make_block(suite, Some(head), h, h as u32 * 3);
        head = ledger.commit_block(&b, &r, &w).unwrap();
        assert_eq!(head, ChainHead { height: Height(h), hash: b.hash(suite) });
        blocks.push(b);
    }
    // A snapshot taken before does not see later blocks.
    assert_eq!(before.head().unwrap().unwrap().height, Height(0));
    assert!(before.header(Height(1)).unwrap().is_none());

    let view = ledger.view().unwrap();
    assert_eq!(view.head().unwrap(), Some(head));
    for (h, b) in blocks.iter().enumerate() {
        let h = Height(h as u64);
        assert_eq!(view.block(h).unwrap().as_ref(), Some(b));
        assert_eq!(view.block_by_hash(&b.hash(suite)).unwrap().as_ref(), Some(b));
        let receipts = view.block_receipts(h).unwrap();
        assert_eq!(receipts.len(), b.txs.len());
        assert_eq!(
            merkle_root(suite, &receipts.iter().map(|r| r.hash(suite)).collect::<Vec<_>>()),
            b.header.receipt_root
        );
        for (i, btx) in b.txs.iter().enumerate() {
            let hash = jinlian_primitives::Transaction::decode(&btx.raw, suite).unwrap().hash();
            let (tx, loc) = view.transaction(&hash).unwrap().unwrap();
            assert_eq!(loc, TxLocation { height: h, index: i as u32 });
            assert_eq!(tx.sender, btx.sender);
            assert_eq!(tx.tx.encoded(), &btx.raw);
            let (receipt, _) = view.receipt(&hash).unwrap().unwrap();
            assert_eq!(receipt, receipt_for(h.0, i as u32));
            let logs_before: u64 = receipts[..i].iter().map(|r| r.logs.len() as u64).sum();
            assert_eq!(view.first_log_index(loc).unwrap(), logs_before, "tx {i} of block {h}");
        }
    }
    assert!(view.block(Height(6)).unwrap().is_none());
    // Running totals: every transaction, and those whose receipt failed.
    let (txs, failed) = blocks.iter().enumerate().fold((0u64, 0u64), |(t, f), (h, b)| {
        let fails = (0..b.txs.len() as u32).filter(|i| !receipt_for(h as u64, *i).is_success());
        (t + b.txs.len() as u64, f + fails.count() as u64)
    });
    assert!(failed > 0 && txs == 45, "the fixture has failures ({failed}) among 45 txs ({txs})");
    assert_eq!(view.totals().unwrap(), Totals { txs, failed });
    assert!(view.transaction(&B256::repeat_byte(9)).unwrap().is_none());
    assert!(view.block_by_hash(&B256::repeat_byte(9)).unwrap().is_none());

    // State writes and deletes.
    assert_eq!(view.state(HEIGHT_KEY).unwrap(), Some(5u64.to_be_bytes().to_vec()));
    assert_eq!(view.state(&block_key(5)).unwrap(), Some(15u32.to_be_bytes().to_vec()));
    assert_eq!(view.state(&block_key(3)).unwrap(), None, "deleted by block 5");
    assert_eq!(view.state(&block_key(4)).unwrap(), Some(12u32.to_be_bytes().to_vec()));

    // Ordering rules.
    let (stale, sr, sw) = make_block(suite, Some(head), 5, 1);
    assert!(matches!(ledger.commit_block(&stale, &sr, &sw), Err(StoreError::NotNext { .. })));
    let fake_parent = ChainHead { height: head.height, hash: B256::repeat_byte(1) };
    let (orphan, or, ow) = make_block(suite, Some(fake_parent), 6, 1);
    assert!(matches!(ledger.commit_block(&orphan, &or, &ow), Err(StoreError::WrongParent { .. })));
    let (b6, r6, w6) = make_block(suite, Some(head), 6, 2);
    assert!(matches!(
        ledger.commit_block(&b6, &r6[..1], &w6),
        Err(StoreError::ReceiptCount { txs: 2, receipts: 1 })
    ));
    let mut garbage = b6.clone();
    garbage.txs[0].raw = alloy_primitives::Bytes::from_static(&[0x01, 0x02]);
    assert!(matches!(ledger.commit_block(&garbage, &r6, &w6), Err(StoreError::Invalid(_))));
    // Nothing of the refused blocks was written.
    assert_eq!(ledger.head().unwrap(), Some(head));
    assert!(ledger.view().unwrap().header(Height(6)).unwrap().is_none());

    // WAL.
    for seq in 10..20u64 {
        ledger.append_wal(seq, format!("entry {seq}").as_bytes()).unwrap();
    }
    let view = ledger.view().unwrap();
    let entries = view.wal_entries(15, 100).unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0], (15, b"entry 15".to_vec()));
    assert_eq!(ledger.truncate_wal(17, 100).unwrap(), 7);
    assert_eq!(ledger.view().unwrap().wal_entries(0, 100).unwrap().first().unwrap().0, 17);
}

fn receipt_for(h: u64, i: u32) -> jinlian_primitives::Receipt {
    common::receipt(h, i)
}

#[test]
fn ledger_over_memory() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        exercise(&Ledger::new(MemStore::new(), suite).unwrap());
    }
}

#[test]
fn ledger_over_redb_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    exercise(&Ledger::open(&path, CryptoSuite::Sm).unwrap());
    let reopened = Ledger::open(&path, CryptoSuite::Sm).unwrap();
    let head = reopened.head().unwrap().unwrap();
    assert_eq!(head.height, Height(5));
    assert_eq!(
        reopened.view().unwrap().block(Height(5)).unwrap().unwrap().hash(CryptoSuite::Sm),
        head.hash
    );
    // The other suite is refused.
    drop(reopened);
    assert!(matches!(
        Ledger::open(&path, CryptoSuite::Ecdsa),
        Err(StoreError::SuiteMismatch { .. })
    ));
    // A refused block on redb leaves nothing behind either (checked in `exercise`); statuses
    // are stored as given.
    let l = Ledger::open(&path, CryptoSuite::Sm).unwrap();
    let (_, loc) = {
        let v = l.view().unwrap();
        let b = v.block(Height(3)).unwrap().unwrap();
        let h =
            jinlian_primitives::Transaction::decode(&b.txs[3].raw, CryptoSuite::Sm).unwrap().hash();
        v.receipt(&h).unwrap().unwrap()
    };
    assert_eq!(loc.index, 3);
    assert_eq!(common::receipt(3, 3).status, status::REVERT_INSTRUCTION);
}

#[test]
fn foreign_and_garbage_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database at all.
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, vec![0x42u8; 10_000]).unwrap();
    let err = Ledger::open(&junk, CryptoSuite::Ecdsa).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("junk.redb"));
    // A text file.
    let text = dir.path().join("config.toml");
    std::fs::write(&text, "[chain]\nid = 1\n").unwrap();
    assert!(Ledger::open(&text, CryptoSuite::Ecdsa).is_err());
    // A redb database written by something else.
    let foreign = dir.path().join("foreign.redb");
    {
        let store = RedbStore::open(&foreign).unwrap();
        let mut b = WriteBatch::new();
        b.put(Table::State, b"some".to_vec(), b"thing".to_vec());
        store.write(b).unwrap();
    }
    let err = Ledger::open(&foreign, CryptoSuite::Ecdsa).unwrap_err();
    assert!(matches!(err, StoreError::NotALedger(_)), "{err}");
    // A database whose marker names another format.
    let other = dir.path().join("other.redb");
    {
        let store = RedbStore::open(&other).unwrap();
        let mut b = WriteBatch::new();
        b.put(Table::Meta, b"format".to_vec(), b"someone-else/7".to_vec());
        store.write(b).unwrap();
    }
    assert!(matches!(Ledger::open(&other, CryptoSuite::Ecdsa), Err(StoreError::NotALedger(_))));
}

/// Bytes flipped anywhere in a real ledger file: opening and reading everything either works
/// or returns an error; it never panics and never returns a block that fails its own checks.
#[test]
fn damaged_ledger_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.redb");
    {
        let l = Ledger::open(&good, CryptoSuite::Ecdsa).unwrap();
        let (g, gr, gw) = make_block(CryptoSuite::Ecdsa, None, 0, 0);
        let mut head = l.commit_block(&g, &gr, &gw).unwrap();
        for h in 1..=8 {
            let (b, r, w) = make_block(CryptoSuite::Ecdsa, Some(head), h, 20);
            head = l.commit_block(&b, &r, &w).unwrap();
        }
    }
    let bytes = std::fs::read(&good).unwrap();
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut outcomes = [0usize; 2];
    for round in 0..40 {
        let mut damaged = bytes.clone();
        for _ in 0..(1 + round % 4) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let pos = (rng as usize) % damaged.len();
            damaged[pos] ^= 1 << (rng % 8);
        }
        let path = dir.path().join(format!("damaged{round}.redb"));
        std::fs::write(&path, &damaged).unwrap();
        let result = std::panic::catch_unwind(|| -> Result<(), StoreError> {
            let l = Ledger::open(&path, CryptoSuite::Ecdsa)?;
            let view = l.view()?;
            let head = view.head()?.map_or(0, |h| h.height.0);
            for h in 0..=head {
                if let Some(b) = view.block(Height(h))? {
                    b.verify_tx_root(CryptoSuite::Ecdsa)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
            }
            Ok(())
        });
        let outcome =
            result.unwrap_or_else(|_| panic!("round {round}: reading a damaged ledger panicked"));
        outcomes[usize::from(outcome.is_err())] += 1;
    }
    // Both outcomes happen: damage in unused pages is harmless, damage in live pages is caught.
    assert!(outcomes[1] > 0, "no damage was ever detected: {outcomes:?}");
}

#[test]
fn duplicate_transactions_are_refused() {
    let suite = CryptoSuite::Ecdsa;
    let ledger = Ledger::new(MemStore::new(), suite).unwrap();
    let (g, gr, gw) = make_block(suite, None, 0, 0);
    let head = ledger.commit_block(&g, &gr, &gw).unwrap();
    // The same transaction twice in one block.
    let (mut b, mut r, w) = make_block(suite, Some(head), 1, 3);
    b.txs[2] = b.txs[0].clone();
    r[2] = r[0].clone();
    assert!(matches!(ledger.commit_block(&b, &r, &w), Err(StoreError::Invalid(_))));
    // A transaction already in an earlier block.
    let (b1, r1, w1) = make_block(suite, Some(head), 1, 3);
    let head = ledger.commit_block(&b1, &r1, &w1).unwrap();
    let (mut b2, r2, w2) = make_block(suite, Some(head), 2, 3);
    b2.txs[1] = b1.txs[1].clone();
    let err = ledger.commit_block(&b2, &r2, &w2).unwrap_err();
    assert!(err.to_string().contains("already in the chain"), "{err}");
    assert_eq!(ledger.head().unwrap(), Some(head));
}

#[test]
fn concurrent_committers_cannot_both_extend_the_head() {
    let suite = CryptoSuite::Ecdsa;
    let dir = tempfile::tempdir().unwrap();
    let ledger = std::sync::Arc::new(Ledger::open(dir.path().join("l.redb"), suite).unwrap());
    let (g, gr, gw) = make_block(suite, None, 0, 0);
    let head = ledger.commit_block(&g, &gr, &gw).unwrap();
    let results: Vec<_> = (0..4u32)
        .map(|n| {
            let ledger = ledger.clone();
            // Four different blocks for height 1.
            let (b, r, w) = make_block(suite, Some(head), 1, n + 1);
            std::thread::spawn(move || ledger.commit_block(&b, &r, &w).map(|_| b))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1);
    let view = ledger.view().unwrap();
    assert_eq!(view.block(Height(1)).unwrap().as_ref(), Some(winners[0]));
    assert_eq!(view.block_receipts(Height(1)).unwrap().len(), winners[0].txs.len());
}

#[test]
fn reads_at_extreme_heights_and_inverted_ranges_do_not_panic() {
    let ledger = Ledger::new(MemStore::new(), CryptoSuite::Ecdsa).unwrap();
    let view = ledger.view().unwrap();
    assert!(view.block_txs(Height(u64::MAX)).unwrap().is_empty());
    assert!(view.block_receipts(Height(u64::MAX)).unwrap().is_empty());
    assert!(view.block(Height(u64::MAX)).unwrap().is_none());
    assert!(view.state_range(b"z", Some(b"a"), 10).unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let redb = Ledger::open(dir.path().join("x.redb"), CryptoSuite::Ecdsa).unwrap();
    assert!(redb.view().unwrap().state_range(b"z", Some(b"a"), 10).unwrap().is_empty());
    assert!(redb.view().unwrap().block_txs(Height(u64::MAX)).unwrap().is_empty());
}

/// What `make_block` leaves under `block_key(k)` once block `at` is committed.
fn expected_block_key(k: u64, at: u64) -> Option<Vec<u8>> {
    (k <= at && at < k + 2).then(|| (k as u32 * 3).to_be_bytes().to_vec())
}

#[test]
fn past_state_is_readable_within_the_window_and_pruned_after_it() {
    let suite = CryptoSuite::Ecdsa;
    let ledger = Ledger::new(MemStore::new(), suite).unwrap();
    ledger.set_state_history(10);
    let (g, gr, gw) = make_block(suite, None, 0, 0);
    let mut head = ledger.commit_block(&g, &gr, &gw).unwrap();
    for h in 1..=30u64 {
        let (b, r, w) = make_block(suite, Some(head), h, h as u32 * 3);
        head = ledger.commit_block(&b, &r, &w).unwrap();
        let v = ledger.view().unwrap();
        let base = v.history_base().unwrap().0;
        assert_eq!(base, h.saturating_sub(10), "at head {h}");
        for at in base..=h {
            let got = v.state_at(HEIGHT_KEY, Height(at)).unwrap();
            let want = Some(at.to_be_bytes().to_vec());
            assert_eq!(got, want, "height key at {at}, head {h}");
            for k in at.saturating_sub(3)..=at + 1 {
                assert_eq!(
                    v.state_at(&block_key(k), Height(at)).unwrap(),
                    expected_block_key(k, at),
                    "block key {k} at {at}, head {h}"
                );
            }
        }
        if base > 0 {
            assert!(matches!(
                v.state_at(HEIGHT_KEY, Height(base - 1)),
                Err(StoreError::Pruned { .. })
            ));
        }
        assert!(matches!(v.state_at(HEIGHT_KEY, Height(h + 1)), Err(StoreError::Pruned { .. })));
    }

    // A smaller window catches up a few old blocks per commit, never reading pruned data.
    ledger.set_state_history(2);
    let mut last_base = 20;
    for h in 31..=40u64 {
        let (b, r, w) = make_block(suite, Some(head), h, 1);
        head = ledger.commit_block(&b, &r, &w).unwrap();
        let v = ledger.view().unwrap();
        let base = v.history_base().unwrap().0;
        assert!(base >= last_base && base <= h, "base {base} at {h}");
        last_base = base;
        for at in base..=h {
            assert_eq!(
                v.state_at(HEIGHT_KEY, Height(at)).unwrap(),
                Some(at.to_be_bytes().to_vec())
            );
        }
    }
    assert_eq!(last_base, 38);

    // No history at all: only the head, and the old entries go.
    ledger.set_state_history(0);
    for h in 41..=45u64 {
        let (b, r, w) = make_block(suite, Some(head), h, 1);
        head = ledger.commit_block(&b, &r, &w).unwrap();
    }
    let v = ledger.view().unwrap();
    assert_eq!(v.history_base().unwrap(), Height(45));
    assert!(matches!(v.state_at(HEIGHT_KEY, Height(44)), Err(StoreError::Pruned { .. })));
    assert_eq!(v.state_at(HEIGHT_KEY, Height(45)).unwrap(), Some(45u64.to_be_bytes().to_vec()));
    let snap = ledger.store().snapshot().unwrap();
    assert!(snap.last(Table::History).unwrap().is_none());
    assert!(snap.last(Table::HistoryKeys).unwrap().is_none());
}
