//! The explorer's overview page under load (issue "`jinlian up`, explorer, metrics"): p50 and
//! p99 latency of `GET /explorer` from 100 concurrent keep-alive clients, measured when the
//! ledger holds 10,000 blocks and again at `JINLIAN_BENCH_BLOCKS` (default 100,000): the
//! ratio shows whether the page's cost grows with the chain (it must not).
//!
//! `cargo bench -p jinlian --bench explorer`. Figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use alloy_primitives::{Address, TxKind, U256};
use common::{Net, env_u64 as env};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_sdk::Client;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One keep-alive HTTP/1.1 client: GETs `path` until `until`; each request's latency.
async fn client(addr: std::net::SocketAddr, path: &'static str, until: Instant) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut out = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        w.write_all(req.as_bytes()).await.unwrap();
        let mut len = 0usize;
        let mut status = String::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            if status.is_empty() {
                status = line.clone();
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).await.unwrap();
        assert!(status.contains(" 200 "), "{status}");
        out.push(t.elapsed());
    }
    out
}

/// p50 and p99 (ms) and requests/s of `clients` clients over `secs`.
fn load(addr: std::net::SocketAddr, clients: usize, secs: u64) -> (f64, f64, f64) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let until = Instant::now() + Duration::from_secs(secs);
        let t = Instant::now();
        let tasks: Vec<_> =
            (0..clients).map(|_| tokio::spawn(client(addr, "/explorer", until))).collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let elapsed = t.elapsed().as_secs_f64();
        all.sort();
        let q = |p: f64| all[((all.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
        (q(0.5), q(0.99), all.len() as f64 / elapsed)
    })
}

/// Commits one-transfer blocks until the head reaches `target`.
fn fill(url: &str, me: &KeyPair, nonce: &mut u64, target: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = Client::connect(url).await.unwrap();
        let chain_id = client.chain_id().await.unwrap();
        // Two transactions in flight: most blocks hold one.
        let mut pending = std::collections::VecDeque::new();
        while client.block_number().await.unwrap() < target {
            let tx = jinlian_sdk::tx::ethereum(
                me,
                chain_id,
                *nonce,
                TxKind::Call(Address::repeat_byte(0x42)),
                U256::ZERO,
                vec![],
                21_000,
            )
            .unwrap();
            *nonce += 1;
            pending.push_back(client.send(&tx).await.unwrap());
            if pending.len() >= 2 {
                let h = pending.pop_front().unwrap();
                client.wait_for_receipt(h, Duration::from_secs(30)).await.unwrap();
            }
        }
        for h in pending {
            client.wait_for_receipt(h, Duration::from_secs(30)).await.unwrap();
        }
    });
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let blocks = env("JINLIAN_BENCH_BLOCKS", 100_000);
    let clients = env("JINLIAN_BENCH_CLIENTS", 100) as usize;
    let mut net = Net::generate_with(1, 0, CryptoSuite::Ecdsa, 0);
    net.start_node(0);
    net.wait_rpc(0);
    let addr = net.nodes[0].rpc;
    let url = format!("http://{addr}");
    // Value-free transfers: the sender needs no balance (no fees).
    let me = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x71; 32]).unwrap();
    let mut nonce = 0;
    let first = blocks.min(10_000);
    println!("explorer/overview: {clients} concurrent keep-alive clients, 10 s, 1 sealer");
    let mut rows = Vec::new();
    for target in [first, blocks] {
        let t = Instant::now();
        fill(&url, &me, &mut nonce, target);
        println!("  filled to {target} blocks in {:.0} s", t.elapsed().as_secs_f64());
        let (p50, p99, rps) = load(addr, clients, 10);
        println!("  {target} blocks: p50 {p50:.1} ms, p99 {p99:.1} ms, {rps:.0} pages/s");
        rows.push((target, p99));
        if target == blocks {
            break;
        }
    }
    if let [(a, pa), (b, pb)] = rows.as_slice() {
        println!("  p99 at {b} blocks / p99 at {a} blocks: {:.2}", pb / pa);
    }
    net.stop(0);
}
