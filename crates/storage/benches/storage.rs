//! Ledger commit benchmark: blocks of 10,000 transactions with receipts (one ERC-20-style
//! Transfer log each) and 20,000 state writes, committed to a redb file one durable
//! transaction per block. Reports blocks/s, tx/s and bytes written to storage per tx.
//!
//! `cargo bench -p jinlian-storage` (set `JINLIAN_BENCH_BLOCKS` to change the count, default
//! 12; set `JINLIAN_BENCH_DIR` to put the file on another disk).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use jinlian_crypto::CryptoSuite;
use jinlian_primitives::Receipt;
use jinlian_storage::{
    ChainHead, DEFAULT_STATE_HISTORY, KvStore, Ledger, RedbStore, StateWrite, Table, WriteBatch,
};
use std::time::Instant;

const TXS: u32 = 10_000;
const WRITES: usize = 20_000;

fn process_write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes: ")).and_then(|v| v.trim().parse().ok())
}

fn block(
    suite: CryptoSuite,
    head: Option<ChainHead>,
    height: u64,
) -> (jinlian_primitives::Block, Vec<Receipt>, Vec<StateWrite>) {
    let (b, mut receipts, _) =
        common::make_block(suite, head, height, if height == 0 { 0 } else { TXS });
    for (i, r) in receipts.iter_mut().enumerate() {
        let log = Log {
            address: Address::repeat_byte(0x20),
            data: LogData::new_unchecked(
                vec![
                    B256::repeat_byte(0xdd),
                    B256::from(U256::from(i)),
                    B256::from(U256::from(i + 1)),
                ],
                Bytes::from(U256::from(1000u64).to_be_bytes::<32>().to_vec()),
            ),
        };
        r.logs = vec![log];
    }
    // Two storage slots per transaction (sender and recipient balances), 52-byte keys, out of
    // 100,000 balances: from the sixth block on every write updates an existing slot.
    let writes = (0..if height == 0 { 0 } else { WRITES })
        .map(|i| {
            let mut k = Vec::with_capacity(52);
            k.extend_from_slice(Address::repeat_byte(0x20).as_slice());
            k.extend_from_slice(
                &U256::from((height * WRITES as u64 + i as u64) % 100_000).to_be_bytes::<32>(),
            );
            (k, Some(U256::from(i).to_be_bytes::<32>().to_vec()))
        })
        .collect();
    (b, receipts, writes)
}

struct Run {
    median_s: f64,
    total_s: f64,
    written: u64,
    file: u64,
}

/// Our schema: `Ledger::commit_block` (txs and receipts keyed by height ‖ index, hash index),
/// keeping the state of the last `history` blocks.
fn run_ledger(dir: &std::path::Path, blocks: u64, history: u64) -> Run {
    let path = dir.join(format!("ledger-{history}.redb"));
    let suite = CryptoSuite::Ecdsa;
    let ledger = Ledger::open(&path, suite).unwrap();
    ledger.set_state_history(history);
    let (g, gr, gw) = block(suite, None, 0);
    let mut head = ledger.commit_block(&g, &gr, &gw).unwrap();
    let mut secs = Vec::new();
    let mut written = 0u64;
    // The node passes the values its writes replace (execution read them): so does this.
    let mut current: std::collections::HashMap<Vec<u8>, Vec<u8>> = Default::default();
    for h in 1..=blocks {
        let (b, r, w) = block(suite, Some(head), h);
        let prior: Vec<Option<Vec<u8>>> = w.iter().map(|(k, _)| current.get(k).cloned()).collect();
        for (k, v) in &w {
            current.insert(k.clone(), v.clone().unwrap_or_default());
        }
        let io0 = process_write_bytes();
        let t = Instant::now();
        head = ledger.commit_block_with_prior(&b, &r, &w, &prior).unwrap();
        secs.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (io0, process_write_bytes()) {
            written += b - a;
        }
    }
    finish(secs, written, std::fs::metadata(&path).unwrap().len())
}

/// Baseline: the naive schema most chains start with, transactions and receipts keyed by
/// their hash (random insertion order in the B-tree), same data, one durable write per block.
fn run_hash_keyed(dir: &std::path::Path, blocks: u64) -> Run {
    let path = dir.join("hash-keyed.redb");
    let suite = CryptoSuite::Ecdsa;
    let store = RedbStore::open(&path).unwrap();
    let mut head: Option<ChainHead> = None;
    let mut secs = Vec::new();
    let mut written = 0u64;
    for h in 1..=blocks {
        let (b, r, w) = block(suite, head, h);
        let io0 = process_write_bytes();
        let t = Instant::now();
        let mut batch = WriteBatch::new();
        let hash = b.hash(suite);
        batch.put(Table::Headers, hash.as_slice(), alloy_rlp::encode(&b.header));
        for (tx, receipt) in b.txs.iter().zip(&r) {
            let tx_hash = jinlian_primitives::Transaction::decode(&tx.raw, suite).unwrap().hash();
            batch.put(Table::Txs, tx_hash.as_slice(), alloy_rlp::encode(tx));
            batch.put(Table::Receipts, tx_hash.as_slice(), alloy_rlp::encode(receipt));
        }
        for (k, v) in &w {
            batch.put(Table::State, k.clone(), v.clone().unwrap_or_default());
        }
        store.write(batch).unwrap();
        secs.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (io0, process_write_bytes()) {
            written += b - a;
        }
        head = Some(ChainHead { height: jinlian_primitives::Height(h), hash });
    }
    finish(secs, written, std::fs::metadata(&path).unwrap().len())
}

fn finish(mut secs: Vec<f64>, written: u64, file: u64) -> Run {
    secs.sort_by(f64::total_cmp);
    Run { median_s: secs[secs.len() / 2], total_s: secs.iter().sum(), written, file }
}

fn report(name: &str, r: &Run, blocks: u64) {
    let txs = blocks * u64::from(TXS);
    println!(
        "  {name:<28} median {:>6.1} ms/block  {:>5.2} blocks/s  {:>7.0} tx/s  {:>5} B written/tx  {:>5} B file/tx",
        r.median_s * 1e3,
        1.0 / r.median_s,
        txs as f64 / r.total_s,
        r.written / txs.max(1),
        r.file / txs.max(1),
    );
}

fn main() {
    // `cargo test --benches` runs this without `--bench`; only measure under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let blocks: u64 =
        std::env::var("JINLIAN_BENCH_BLOCKS").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let dir = match std::env::var("JINLIAN_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    println!(
        "storage/commit_block: {blocks} blocks x ({TXS} txs + {TXS} receipts + {WRITES} state writes), redb, one fsync'd transaction per block"
    );
    let ours = run_ledger(dir.path(), blocks, DEFAULT_STATE_HISTORY);
    let pruning = run_ledger(dir.path(), blocks, 4);
    let head_only = run_ledger(dir.path(), blocks, 0);
    let base = run_hash_keyed(dir.path(), blocks);
    report("ledger (height-keyed)", &ours, blocks);
    report("ledger, 4-block window", &pruning, blocks);
    report("ledger, head state only", &head_only, blocks);
    report("baseline (hash-keyed)", &base, blocks);
    println!("  ratio (baseline time / ours): {:.2}x", base.total_s / ours.total_s);
    println!(
        "  cost of keeping past state (ours / head state only): {:.2}x",
        ours.total_s / head_only.total_s
    );
}
