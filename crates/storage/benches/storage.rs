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
use jinlian_storage::{ChainHead, Ledger, StateWrite};
use std::time::Instant;

const TXS: u32 = 10_000;
const WRITES: usize = 20_000;

fn process_write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
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
        r.logs_bloom = Receipt::bloom_of(std::slice::from_ref(&log));
        r.logs = vec![log];
    }
    // Two storage slots per transaction (sender and recipient balances), 52-byte keys.
    let writes = (0..if height == 0 { 0 } else { WRITES })
        .map(|i| {
            let mut k = Vec::with_capacity(52);
            k.extend_from_slice(Address::repeat_byte(0x20).as_slice());
            k.extend_from_slice(&U256::from(height * 1_000_000 + i as u64).to_be_bytes::<32>());
            (k, Some(U256::from(i).to_be_bytes::<32>().to_vec()))
        })
        .collect();
    (b, receipts, writes)
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent; only measure under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let blocks: u64 = std::env::var("JINLIAN_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = match std::env::var("JINLIAN_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let path = dir.path().join("ledger.redb");
    let suite = CryptoSuite::Ecdsa;
    let ledger = Ledger::open(&path, suite).unwrap();
    let (g, gr, gw) = block(suite, None, 0);
    let mut head = ledger.commit_block(&g, &gr, &gw).unwrap();

    let mut commit_secs = Vec::new();
    let mut written = 0u64;
    for h in 1..=blocks {
        let (b, r, w) = block(suite, Some(head), h);
        let io0 = process_write_bytes();
        let t = Instant::now();
        head = ledger.commit_block(&b, &r, &w).unwrap();
        commit_secs.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (io0, process_write_bytes()) {
            written += b - a;
        }
    }
    commit_secs.sort_by(f64::total_cmp);
    let total: f64 = commit_secs.iter().sum();
    let median = commit_secs[commit_secs.len() / 2];
    let txs = blocks * u64::from(TXS);
    let file = std::fs::metadata(&path).unwrap().len();
    println!(
        "storage/commit_block: {blocks} blocks x {TXS} txs + {TXS} receipts + {WRITES} state writes (redb, 1 fsync'd tx per block)"
    );
    println!(
        "  median commit   {:.1} ms/block  ({:.2} blocks/s, {:.0} tx/s)",
        median * 1e3,
        1.0 / median,
        f64::from(TXS) / median
    );
    println!(
        "  mean commit     {:.1} ms/block  ({:.0} tx/s)",
        total / blocks as f64 * 1e3,
        txs as f64 / total
    );
    println!(
        "  bytes written   {} per tx (to storage, /proc/self/io write_bytes)",
        written / txs.max(1)
    );
    println!(
        "  file size       {} per tx ({} MiB)",
        file / txs.max(1),
        file >> 20
    );
}
