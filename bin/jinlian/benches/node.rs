//! Node benchmarks with real `jinlian node` processes on loopback (issue "Node"):
//!
//! 1. commit latency and blocks/s under a light load (one transaction at a time, each waited
//!    for), 4 sealers, block interval 0;
//! 2. sync: a fresh observer started after the chain has `SYNC_BLOCKS` blocks catches up
//!    (blocks/s);
//! 3. memory: RSS of every node after `MEMORY_TXS` more transactions.
//!
//! `cargo bench -p jinlian --bench node`; `JINLIAN_BENCH_SYNC_BLOCKS` (default 10000) and
//! `JINLIAN_BENCH_TXS` (default 100000) scale it. Figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Net, rpc};
use jinlian_crypto::{CryptoSuite, KeyPair};
use serde_json::json;
use std::time::{Duration, Instant};

use common::{env_u64 as env, rss_mib};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sync_blocks = env("JINLIAN_BENCH_SYNC_BLOCKS", 10_000);
    let memory_txs = env("JINLIAN_BENCH_TXS", 100_000);
    let mut net = Net::generate_with(4, 1, CryptoSuite::Ecdsa, 0);
    for i in 0..4 {
        net.start_node(i);
    }
    for i in 0..4 {
        net.wait_rpc(i);
    }
    let user = KeyPair::from_secret(CryptoSuite::Ecdsa, &[5; 32]).unwrap();

    // 1 + 2a: one transaction at a time until the chain has `sync_blocks` blocks.
    println!("node/latency: 4 sealers, block interval 0, one transaction at a time");
    let start = Instant::now();
    let mut lat = Vec::new();
    let mut last_report = Instant::now();
    while net.height(0).unwrap() < sync_blocks {
        let t = Instant::now();
        let h = net.send(&user, 0, 1).pop().unwrap();
        while !net.has_receipts(0, std::slice::from_ref(&h)) {
            std::thread::sleep(Duration::from_micros(500));
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        if last_report.elapsed() > Duration::from_secs(30) {
            println!("  … {} blocks", net.height(0).unwrap());
            last_report = Instant::now();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let blocks = net.height(0).unwrap();
    lat.sort_by(f64::total_cmp);
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    println!(
        "  {} transactions, {blocks} blocks in {secs:.1} s: {:.1} blocks/s; commit latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms",
        lat.len(),
        blocks as f64 / secs,
        p(0.5),
        p(0.9),
        p(0.99)
    );

    // 2b: a fresh observer catches up.
    let t = Instant::now();
    net.start_node(4);
    net.wait_rpc(4);
    while net.height(4).unwrap_or(0) < blocks {
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "node/sync: a fresh observer verified and applied {blocks} blocks in {s:.1} s: {:.0} blocks/s",
        blocks as f64 / s
    );

    // 3: memory after many transactions.
    println!("node/memory: {memory_txs} more transactions (20 senders), then RSS per node");
    let senders: Vec<KeyPair> = (0..20u8)
        .map(|i| KeyPair::from_secret(CryptoSuite::Ecdsa, &[100 + i; 32]).unwrap())
        .collect();
    let t = Instant::now();
    let mut last = Vec::new();
    for k in 0..memory_txs as usize {
        let hashes = net.send(&senders[k % 20], k % 4, 1);
        last = hashes;
    }
    while !net.has_receipts(0, &last) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "  submitted and committed in {s:.1} s ({:.0} tx/s through one-request-per-transaction RPC)",
        memory_txs as f64 / s
    );
    for (i, n) in net.nodes.iter().enumerate() {
        let pid = n.child.as_ref().unwrap().id();
        println!("  {} RSS {:.0} MiB", n.name, rss_mib(pid));
        let _ = i;
    }
    let _ = rpc(net.nodes[0].rpc, "eth_blockNumber", json!([]));
}
