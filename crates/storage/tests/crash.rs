//! Crash safety with real processes: a child process commits blocks in a loop and is killed
//! with SIGKILL at random moments; after every kill the reopened ledger holds every block up
//! to its head completely (transactions, receipts, indexes, state) and nothing beyond it.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::{Height, Transaction, merkle_root};
use jinlian_storage::{Ledger, RedbStore, StoreError};
use rand::{Rng, SeedableRng};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SUITE: CryptoSuite = CryptoSuite::Ecdsa;
const KILLS: usize = 24;

/// The child: extends the ledger forever (until killed). Run by `kill_nine_never_leaves_a_partial_block`.
#[test]
#[ignore = "child process of kill_nine_never_leaves_a_partial_block"]
fn crash_child() {
    let Ok(path) = std::env::var("JINLIAN_CRASH_DB") else {
        return;
    };
    let seed: u64 = std::env::var("JINLIAN_CRASH_SEED").unwrap().parse().unwrap();
    let ledger = Ledger::open(&path, SUITE).unwrap();
    let mut head = ledger.head().unwrap();
    // Tell the parent (which cannot read our captured stdout) that the ledger is open.
    let ready = format!("{path}.ready");
    std::fs::write(&ready, head.map_or(-1, |h| h.height.0 as i64).to_string()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    loop {
        let height = head.map_or(0, |h| h.height.0 + 1);
        let ntx = if height == 0 { 0 } else { rng.random_range(1..300) };
        let (b, r, w) = make_block(SUITE, head, height, ntx);
        head = Some(ledger.commit_block(&b, &r, &w).unwrap());
    }
}

fn check_consistent(path: &std::path::Path) -> Result<Option<u64>, StoreError> {
    let ledger = Ledger::open(path, SUITE)?;
    let view = ledger.view()?;
    let Some(head) = view.head()? else {
        assert!(view.header(Height(0))?.is_none(), "a block exists but no head");
        return Ok(None);
    };
    let h = head.height.0;
    for height in 0..=h {
        let block = view
            .block(Height(height))?
            .unwrap_or_else(|| panic!("block {height} below head {h} is missing"));
        // All transactions (with senders) are there: the tx root commits to each one and to
        // their number.
        block.verify_tx_root(SUITE).unwrap_or_else(|e| panic!("block {height}: {e}"));
        let receipts = view.block_receipts(Height(height))?;
        let items: Vec<_> = receipts.iter().map(|r| r.hash(SUITE)).collect();
        assert_eq!(receipts.len(), block.txs.len(), "block {height} receipts");
        assert_eq!(
            merkle_root(SUITE, &items),
            block.header.receipt_root,
            "block {height} receipts"
        );
        for (i, btx) in block.txs.iter().enumerate() {
            let hash = Transaction::decode(&btx.raw, SUITE).unwrap().hash();
            let (_, loc) = view.transaction(&hash)?.expect("tx index entry");
            assert_eq!((loc.height.0, loc.index as usize), (height, i));
        }
        assert_eq!(view.height_of(&block.hash(SUITE))?, Some(Height(height)));
        if height >= 1 {
            assert_eq!(
                block.header.parent_hash,
                view.header(Height(height - 1))?.unwrap().hash(SUITE)
            );
        }
    }
    assert_eq!(view.block(Height(h))?.unwrap().hash(SUITE), head.hash);
    // State reflects exactly the head block's writes.
    assert_eq!(view.state(HEIGHT_KEY)?, Some(h.to_be_bytes().to_vec()));
    let ntx = view.block(Height(h))?.unwrap().txs.len() as u32;
    assert_eq!(view.state(&block_key(h))?, Some(ntx.to_be_bytes().to_vec()));
    if h >= 2 {
        assert_eq!(view.state(&block_key(h - 2))?, None);
    }
    // Nothing of the next block.
    assert!(view.header(Height(h + 1))?.is_none(), "header above head");
    assert!(view.block_txs(Height(h + 1))?.is_empty(), "transactions above head");
    assert!(view.block_receipts(Height(h + 1))?.is_empty(), "receipts above head");
    assert_eq!(view.state(&block_key(h + 1))?, None, "state of a block above head");
    Ok(Some(h))
}

#[test]
fn kill_nine_never_leaves_a_partial_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let ready = dir.path().join("ledger.redb.ready");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    let exe = std::env::current_exe().unwrap();
    let mut heads = Vec::new();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("JINLIAN_CRASH_DB", &path)
            .env("JINLIAN_CRASH_SEED", round.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has opened the ledger, then let it commit for a random while.
        let deadline = Instant::now() + Duration::from_secs(60);
        let before: i64 = loop {
            if let Some(h) = std::fs::read_to_string(&ready).ok().and_then(|t| t.parse().ok()) {
                break h;
            }
            assert!(child.try_wait().unwrap().is_none(), "round {round}: child exited early");
            assert!(Instant::now() < deadline, "round {round}: child did not open the ledger");
            std::thread::sleep(Duration::from_millis(2));
        };
        std::fs::remove_file(&ready).unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(5..250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let head = check_consistent(&path)
            .unwrap_or_else(|e| panic!("round {round}: ledger unreadable after kill: {e}"));
        let after = head.map_or(-1, |h| h as i64);
        assert!(after >= before, "round {round}: head went back from {before} to {after}");
        heads.push(after);
    }
    // The kills landed while blocks were being committed, not before the first one.
    let progressed = heads.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(progressed >= KILLS / 2, "too few rounds committed anything: {heads:?}");
    // The store is still usable after all this.
    let store = RedbStore::open(&path).unwrap();
    drop(store);
}
