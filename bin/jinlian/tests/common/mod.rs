//! Real `jinlian node` processes on loopback, for multi-node tests: a chain made by
//! `jinlian chain new` on free ports, processes started and killed at will, and a minimal
//! JSON-RPC client. Waits are on conditions with deadlines, never fixed sleeps.

#![allow(dead_code, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_primitives::{ConsortiumTx, Transaction, TxBody};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The first of `n` consecutive loopback ports that are free now.
pub fn free_ports(n: u16) -> u16 {
    for _ in 0..200 {
        let base = free_port();
        if base > u16::MAX - n {
            continue;
        }
        let held: Vec<_> = (base..base + n).map(|p| TcpListener::bind(("127.0.0.1", p))).collect();
        if held.iter().all(Result::is_ok) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports");
}

/// A chain directory and its running nodes.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<NodeProc>,
    pub chain_id: u64,
    pub suite: CryptoSuite,
    next_id: std::cell::Cell<u64>,
}

pub struct NodeProc {
    pub name: String,
    pub dir: PathBuf,
    pub rpc: SocketAddr,
    pub child: Option<Child>,
    pub log: PathBuf,
    pub starts: u32,
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl Net {
    /// Generates a chain of `sealers` + `observers` nodes and starts them all.
    pub fn start(sealers: usize, observers: usize, suite: CryptoSuite) -> Net {
        Net::start_with(sealers, observers, suite, 200)
    }

    /// As [`Net::start`], with a block interval.
    pub fn start_with(
        sealers: usize,
        observers: usize,
        suite: CryptoSuite,
        interval_ms: u64,
    ) -> Net {
        let mut net = Net::generate_with(sealers, observers, suite, interval_ms);
        for i in 0..net.nodes.len() {
            net.start_node(i);
        }
        for i in 0..net.nodes.len() {
            net.wait_rpc(i);
        }
        net
    }

    /// Generates the chain without starting anything.
    pub fn generate(sealers: usize, observers: usize, suite: CryptoSuite) -> Net {
        Net::generate_with(sealers, observers, suite, 200)
    }

    /// Generates the chain with a block interval, without starting anything.
    pub fn generate_with(
        sealers: usize,
        observers: usize,
        suite: CryptoSuite,
        interval_ms: u64,
    ) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let chain = dir.path().join("chain");
        // Distinct ports: hold every listener until all are chosen.
        let held: Vec<TcpListener> =
            (0..sealers + observers).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let ports: Vec<u16> = held.iter().map(|l| l.local_addr().unwrap().port()).collect();
        // The RPC ports are chosen while the peer ports are still held, so the two ranges
        // cannot overlap.
        let rpc_base = free_ports((sealers + observers) as u16);
        drop(held);
        let addr = |p: &u16| format!("127.0.0.1:{p}");
        let s: Vec<String> = ports[..sealers].iter().map(addr).collect();
        let o: Vec<String> = ports[sealers..].iter().map(addr).collect();
        let mut args = vec![
            "chain".to_string(),
            "new".into(),
            "--dir".into(),
            chain.to_str().unwrap().into(),
            "--agencies".into(),
            "bankA,bankB".into(),
            "--sealers".into(),
            s.join(","),
            "--block-interval-ms".into(),
            interval_ms.to_string(),
            "--rpc-port-base".into(),
            rpc_base.to_string(),
        ];
        if !o.is_empty() {
            args.push("--observers".into());
            args.push(o.join(","));
        }
        if suite == CryptoSuite::Sm {
            args.push("--sm".into());
        }
        let out = Command::new(env!("CARGO_BIN_EXE_jinlian")).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let manifest = jinlian_node::chain::load_manifest(&chain).unwrap();
        let nodes = manifest
            .nodes
            .iter()
            .map(|n| NodeProc {
                name: n.name.clone(),
                dir: chain.join("nodes").join(&n.name),
                rpc: n.rpc,
                child: None,
                log: dir.path().join(format!("{}.log", n.name)),
                starts: 0,
            })
            .collect();
        Net { dir, nodes, chain_id: manifest.chain_id, suite, next_id: std::cell::Cell::new(1) }
    }

    /// A free port that no node of this chain uses.
    pub fn unused_port(&self) -> u16 {
        let m = jinlian_node::chain::load_manifest(&self.chain_dir()).unwrap();
        loop {
            let p = free_port();
            let taken =
                m.nodes.iter().any(|n| n.rpc.port() == p || n.p2p.ends_with(&format!(":{p}")));
            if !taken {
                return p;
            }
        }
    }

    /// Adds nodes issued since (by `chain add-node`) to the ones this net can start.
    pub fn adopt_new_nodes(&mut self) {
        let m = jinlian_node::chain::load_manifest(&self.chain_dir()).unwrap();
        for n in m.nodes.iter().skip(self.nodes.len()) {
            self.nodes.push(NodeProc {
                name: n.name.clone(),
                dir: self.chain_dir().join("nodes").join(&n.name),
                rpc: n.rpc,
                child: None,
                log: self.dir.path().join(format!("{}.log", n.name)),
                starts: 0,
            });
        }
    }

    /// The chain directory.
    pub fn chain_dir(&self) -> PathBuf {
        self.dir.path().join("chain")
    }

    /// Node ids (from chain.json) in node order.
    pub fn node_ids(&self) -> Vec<[u8; 64]> {
        jinlian_node::chain::load_manifest(&self.chain_dir())
            .unwrap()
            .nodes
            .iter()
            .map(|n| n.node_id.0)
            .collect()
    }

    /// The node expected to propose the block after the head seen by node `i`.
    pub fn next_leader(&self, i: usize, sealers: usize) -> usize {
        let h = self.height(i).unwrap();
        let b = rpc(self.nodes[i].rpc, "eth_getBlockByNumber", json!([format!("{h:#x}"), false]))
            .unwrap();
        let view =
            u64::from_str_radix(b["view"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        let ids = self.node_ids();
        let mut sorted: Vec<(usize, [u8; 64])> =
            ids.iter().copied().enumerate().take(sealers).collect();
        sorted.sort_by_key(|(_, id)| *id);
        sorted[((h + 1 + view) % sealers as u64) as usize].0
    }

    /// Sends `n` transactions from `key` through node `via`; returns their hashes.
    pub fn send(&self, key: &KeyPair, via: usize, n: usize) -> Vec<String> {
        let h = self.height(via).unwrap_or(0);
        (0..n)
            .map(|_| {
                let id = self.next_id.get();
                self.next_id.set(id + 1);
                let raw = self.tx(key, id, h + 500, Address::repeat_byte(0x42), vec![]);
                let r = rpc(self.nodes[via].rpc, "eth_sendRawTransaction", json!([raw])).unwrap();
                r.as_str().unwrap().to_string()
            })
            .collect()
    }

    /// Whether node `i` has a receipt for every hash.
    pub fn has_receipts(&self, i: usize, hashes: &[String]) -> bool {
        hashes.iter().all(|h| {
            rpc(self.nodes[i].rpc, "eth_getTransactionReceipt", json!([h]))
                .is_ok_and(|r| !r.is_null())
        })
    }

    /// Every pair of running nodes agrees on every height both have.
    pub fn assert_no_fork(&self) {
        let heights: Vec<Option<u64>> = (0..self.nodes.len()).map(|i| self.height(i)).collect();
        let top = heights.iter().flatten().copied().max().unwrap_or(0);
        for h in 1..=top {
            let ids: Vec<(String, String)> =
                (0..self.nodes.len()).filter_map(|i| self.block_id(i, h)).collect();
            assert!(
                ids.windows(2).all(|w| w[0] == w[1]),
                "height {h} has two different blocks: {ids:?}"
            );
        }
    }

    pub fn start_node(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.starts += 1;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&n.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_jinlian"))
            .args(["node", "--config", n.dir.join("config.toml").to_str().unwrap()])
            .env("RUST_LOG", std::env::var("JINLIAN_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        n.child = Some(child);
    }

    /// SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self, i: usize) -> std::process::ExitStatus {
        let mut c = self.nodes[i].child.take().unwrap();
        let pid = c.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "{} did not stop on SIGTERM", self.nodes[i].name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    pub fn wait_rpc(&self, i: usize) {
        let d = Instant::now() + Duration::from_secs(60);
        while rpc(self.nodes[i].rpc, "eth_blockNumber", json!([])).is_err() {
            assert!(
                Instant::now() < d,
                "{} never answered RPC; log:\n{}",
                self.nodes[i].name,
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn height(&self, i: usize) -> Option<u64> {
        let v = rpc(self.nodes[i].rpc, "eth_blockNumber", json!([])).ok()?;
        u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
    }

    /// Waits until `cond` holds, or fails with the logs.
    pub fn wait_for(&self, what: &str, secs: u64, mut cond: impl FnMut(&Net) -> bool) {
        let d = Instant::now() + Duration::from_secs(secs);
        while !cond(self) {
            if Instant::now() > d {
                let logs: String = (0..self.nodes.len())
                    .map(|i| {
                        format!("--- {} ---\n{}\n", self.nodes[i].name, tail(&self.log(i), 40))
                    })
                    .collect();
                panic!("timed out waiting for {what}\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// (hash, stateRoot) of block `n` on node `i`.
    pub fn block_id(&self, i: usize, n: u64) -> Option<(String, String)> {
        let b = rpc(self.nodes[i].rpc, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
            .ok()?;
        Some((b["hash"].as_str()?.to_string(), b["stateRoot"].as_str()?.to_string()))
    }

    /// A signed Ethereum (EIP-155 legacy) transaction with an explicit nonce.
    pub fn eth_tx(&self, key: &KeyPair, nonce: u64) -> String {
        let body = TxBody::Legacy(jinlian_primitives::LegacyTx {
            nonce,
            gas_price: 0,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0x43)),
            value: U256::ZERO,
            input: Bytes::new(),
            chain_id: Some(self.chain_id),
        });
        let tx = Transaction::sign(body, key).unwrap();
        format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
    }

    /// A signed consortium transaction (no nonce management: a random id per transaction).
    pub fn tx(
        &self,
        key: &KeyPair,
        id: u64,
        block_limit: u64,
        to: Address,
        data: Vec<u8>,
    ) -> String {
        let body = TxBody::Consortium(ConsortiumTx {
            random_id: U256::from(id),
            gas_price: U256::ZERO,
            gas_limit: 1_000_000,
            block_limit,
            to: TxKind::Call(to),
            value: U256::ZERO,
            input: Bytes::from(data),
            chain_id: self.chain_id,
            group_id: 1,
            extra_data: Bytes::new(),
        });
        let tx = Transaction::sign(body, key).unwrap();
        format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// One HTTP/1.1 request; (status code, head, body).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String, String), String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {text}"))?;
    let start = text.find("\r\n\r\n").ok_or("no body")?;
    Ok((status, text[..start].to_string(), text[start + 4..].to_string()))
}

/// One HTTP/1.1 POST of `body` to `path`; (status code, response body).
pub fn post(addr: SocketAddr, path: &str, body: &str) -> Result<(u16, String), String> {
    http(addr, "POST", path, body).map(|(status, _, body)| (status, body))
}

/// One JSON-RPC call over HTTP/1.1 to `path`; the result, or the error object as `Err`.
pub fn rpc_at(addr: SocketAddr, path: &str, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, text) = post(addr, path, &body).map_err(|e| json!(e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| json!(e.to_string()))?;
    match v.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(v["result"].clone()),
    }
}

/// One JSON-RPC call over HTTP/1.1; the result, or the error object as `Err`.
pub fn rpc(addr: SocketAddr, method: &str, params: Value) -> Result<Value, Value> {
    rpc_at(addr, "/", method, params)
}

/// A path's display string.
pub fn show(p: &Path) -> String {
    p.display().to_string()
}

/// A fresh hash-like value.
pub fn word(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// A number from the environment, or `default` (benchmarks' knobs).
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Resident memory of a process, MiB (0 if it cannot be read).
pub fn rss_mib(pid: u32) -> f64 {
    jinlian_node::metrics::process_usage(Some(pid)).map_or(0.0, |(_, rss)| rss as f64 / 1048576.0)
}

/// CPU seconds (user + system) a process has used so far, from /proc.
pub fn cpu_secs(pid: u32) -> f64 {
    jinlian_node::metrics::process_usage(Some(pid)).map_or(0.0, |(cpu, _)| cpu)
}

/// The Python of the test venv (`scripts/test.sh` makes it and sets `JINLIAN_PYTHON`).
pub fn python() -> String {
    std::env::var("JINLIAN_PYTHON").unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../.venv/bin/python")
            .display()
            .to_string()
    })
}

/// A signed value-free Ethereum transfer to 0x42…42 (21,000 gas), as `0x` hex.
pub fn plain_transfer(key: &KeyPair, chain_id: u64, nonce: u64) -> String {
    let tx = jinlian_sdk::tx::ethereum(
        key,
        chain_id,
        nonce,
        TxKind::Call(Address::repeat_byte(0x42)),
        U256::ZERO,
        Vec::<u8>::new(),
        21_000,
    )
    .unwrap();
    format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
}

/// The TestToken's deployment code, minting `supply` to the deployer.
pub fn token_code(supply: U256) -> Bytes {
    use alloy_sol_types::SolValue;
    let text = include_str!("../../../../contracts/artifacts/TestToken.json");
    let v: Value = serde_json::from_str(text).unwrap();
    let mut code = alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap();
    code.extend_from_slice(&supply.abi_encode());
    code.into()
}
