//! `jinlian up`: a local multi-node chain in one command. The chain is generated with the
//! same code as `jinlian chain new` (on 127.0.0.1), the nodes run as child processes, the
//! first block is committed (a dev-key transaction), and the RPC addresses, chain id and
//! funded dev keys are printed. Ctrl-C stops the nodes cleanly; running it again with the same
//! `--dir` keeps the chain and its data.

use alloy_primitives::{B256, Bytes, TxKind, U256};
use anyhow::{Context, Result, bail};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_node::chain::{ChainSpec, load_manifest, new_chain};
use jinlian_node::genesis::{Funded, GenesisConfig};
use jinlian_primitives::{ConsortiumTx, Transaction, TxBody};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `jinlian up` options.
#[derive(Debug, Clone)]
pub struct Args {
    /// Chain directory.
    pub dir: PathBuf,
    /// Sealers.
    pub sealers: usize,
    /// Observers.
    pub observers: usize,
    /// SM suite.
    pub sm: bool,
    /// Block interval.
    pub block_interval_ms: u64,
    /// First peer port (RPC ports start at 8545).
    pub base_port: u16,
    /// First JSON-RPC port.
    pub rpc_port: u16,
}

/// Number of funded development keys.
pub const DEV_KEYS: usize = 10;

/// The development keys: fixed secrets, so scripts can rely on them (never use them on a
/// real chain).
pub fn dev_keys(suite: CryptoSuite) -> Vec<KeyPair> {
    (0..DEV_KEYS)
        .filter_map(|i| {
            let secret = alloy_primitives::keccak256(format!("jinlian dev key {i}"));
            KeyPair::from_secret(suite, &secret.0).ok()
        })
        .collect()
}

fn rpc(addr: SocketAddr, method: &str, params: Value) -> Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let start = resp.find("\r\n\r\n").context("no HTTP body")? + 4;
    let v: Value = serde_json::from_str(&resp[start..])?;
    if let Some(e) = v.get("error") {
        bail!("{e}");
    }
    Ok(v["result"].clone())
}

struct Children(Vec<(String, Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn generate(args: &Args, suite: CryptoSuite) -> Result<()> {
    let port = |i: usize| -> Result<String> {
        let p = usize::from(args.base_port) + i;
        let p = u16::try_from(p).context("--base-port is too high for that many nodes")?;
        Ok(format!("127.0.0.1:{p}"))
    };
    let total = args.sealers + args.observers;
    let addrs: Vec<String> = (0..total).map(port).collect::<Result<_>>()?;
    let spec = ChainSpec {
        name: "local".into(),
        suite,
        chain_id: 20_261_130,
        agencies: vec!["local".into()],
        sealers: addrs[..args.sealers].to_vec(),
        observers: addrs[args.sealers..].to_vec(),
        accounts: dev_keys(suite)
            .iter()
            .map(|k| Funded {
                address: k.address(),
                balance: U256::from(10u64).pow(U256::from(24)),
            })
            .collect(),
        // Dev key 0 governs the local chain (adds nodes, changes the system config).
        committee: dev_keys(suite).first().map(|k| vec![k.address()]).unwrap_or_default(),
        config: GenesisConfig {
            block_interval_ms: args.block_interval_ms,
            ..GenesisConfig::default()
        },
        rpc_port_base: args.rpc_port,
        timestamp_ms: jinlian_node::host::now_ms(),
    };
    new_chain(&args.dir, &spec)?;
    Ok(())
}

/// Runs `jinlian up` until Ctrl-C.
pub fn run(args: Args) -> Result<()> {
    if !(1..=32).contains(&args.sealers) || args.observers > 32 {
        bail!("--sealers must be 1 to 32 and --observers at most 32 (each node is a process)");
    }
    let suite = if args.sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
    let fresh = !args.dir.join("chain.json").exists();
    if fresh {
        eprintln!(
            "generating a {} + {} node {suite} chain in {}",
            args.sealers,
            args.observers,
            args.dir.display()
        );
        generate(&args, suite)?;
    } else {
        eprintln!(
            "reusing the chain in {} (its data is kept; the --sealers, --observers, --sm and port options it was made with still apply: use a new --dir for another chain)",
            args.dir.display()
        );
    }
    let m = load_manifest(&args.dir)?;
    let suite: CryptoSuite = m.suite.into();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc_handler(move || stop.store(true, Ordering::SeqCst))?;
    }
    // Another chain (or this one, already running) on these ports would answer in this
    // chain's place: refuse to start rather than report a chain that is not ours.
    for n in &m.nodes {
        for (addr, what) in [(n.p2p.clone(), "peer"), (n.rpc.to_string(), "JSON-RPC")] {
            if let Err(e) = std::net::TcpListener::bind(&addr) {
                bail!(
                    "{}'s {what} address {addr} is not free ({e}): is this chain already running, or another one? \
                     Stop it, or make a chain on other ports with a new --dir and --base-port/--rpc-port",
                    n.name
                );
            }
        }
    }
    let exe = std::env::current_exe().context("cannot find the jinlian executable")?;
    let logs = args.dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let mut children = Children(Vec::new());
    for n in &m.nodes {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("{}.log", n.name)))?;
        let child = Command::new(&exe)
            .args(["node", "--config"])
            .arg(args.dir.join("nodes").join(&n.name).join("config.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            // Ctrl-C goes to the whole process group: the nodes get it too; we also stop
            // them ourselves below.
            .spawn()
            .with_context(|| format!("cannot start {}", n.name))?;
        children.0.push((n.name.clone(), child));
    }
    // Progress: each node's RPC.
    for (n, (_, child)) in m.nodes.iter().zip(children.0.iter_mut()) {
        eprint!("  {} ({}) ", n.name, n.rpc);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = child.try_wait()? {
                bail!(
                    "{} exited ({st}); see {}",
                    n.name,
                    logs.join(format!("{}.log", n.name)).display()
                );
            }
            // The node answering must be this one (its id), not something else on the port.
            if let Ok(info) = rpc(n.rpc, "jinlian_nodeInfo", json!([])) {
                let id = info["nodeId"].as_str().unwrap_or_default().trim_start_matches("0x");
                if id != n.node_id.to_hex().trim_start_matches("0x") {
                    bail!(
                        "another node answers on {} (node id {id}); stop it or use other ports",
                        n.rpc
                    );
                }
                eprintln!("up");
                break;
            }
            if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
                bail!(
                    "{} did not start; see {}",
                    n.name,
                    logs.join(format!("{}.log", n.name)).display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let rpc0 = m.nodes[0].rpc;
    let keys = dev_keys(suite);
    let height = |v: Value| {
        v.as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0)
    };
    let h = height(rpc(rpc0, "eth_blockNumber", json!([]))?);
    if h == 0 {
        // No empty blocks: commit block 1 with a transaction of the first dev key.
        eprint!("  committing the first block ");
        let tx = Transaction::sign(
            TxBody::Consortium(ConsortiumTx {
                random_id: U256::from_be_bytes(
                    alloy_primitives::keccak256(jinlian_node::host::now_ms().to_be_bytes()).0,
                ),
                gas_price: U256::ZERO,
                gas_limit: 100_000,
                block_limit: 500,
                to: TxKind::Call(keys[0].address()),
                value: U256::ZERO,
                input: Bytes::new(),
                chain_id: m.chain_id,
                group_id: u64::from(m.group_id),
                extra_data: Bytes::new(),
            }),
            &keys[0],
        )?;
        let raw = format!("0x{}", alloy_primitives::hex::encode(tx.encoded()));
        rpc(rpc0, "eth_sendRawTransaction", json!([raw]))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while height(rpc(rpc0, "eth_blockNumber", json!([]))?) == 0 {
            if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
                bail!("no block was committed; see the logs in {}", logs.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("done");
    }
    print_summary(&args.dir, &m, &keys, suite);
    // A node that stops (or is killed to try fault tolerance) leaves the others running.
    let mut exited = vec![false; children.0.len()];
    while !stop.load(Ordering::SeqCst) {
        for (i, (name, c)) in children.0.iter_mut().enumerate() {
            if !exited[i]
                && let Some(st) = c.try_wait()?
            {
                exited[i] = true;
                eprintln!(
                    "{name} exited ({st}); the others keep running. Restart it with: jinlian node --config {}",
                    args.dir.join("nodes").join(name.as_str()).join("config.toml").display()
                );
            }
        }
        if exited.iter().all(|e| *e) {
            bail!("every node exited; see the logs in {}", logs.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("stopping the nodes");
    for (_, c) in &children.0 {
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for (name, c) in &mut children.0 {
        loop {
            if c.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                eprintln!("{name} did not stop in time; killing it");
                let _ = c.kill();
                let _ = c.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    children.0.clear();
    eprintln!("stopped; the chain and its data stay in {}", args.dir.display());
    Ok(())
}

fn print_summary(
    dir: &Path,
    m: &jinlian_node::chain::Manifest,
    keys: &[KeyPair],
    suite: CryptoSuite,
) {
    println!();
    println!("Jinlian local chain \"{}\" is up ({suite}, chain id {})", m.name, m.chain_id);
    println!();
    for n in &m.nodes {
        let role = format!("{:?}", n.role).to_lowercase();
        println!("  {:<6} {:<9} JSON-RPC http://{}  ws://{}", n.name, role, n.rpc, n.rpc);
    }
    if let Some(first) = m.nodes.first() {
        println!();
        println!("  Explorer  http://{}/explorer", first.rpc);
        println!(
            "  Metrics   http://{}/metrics   (Prometheus; every node serves its own)",
            first.rpc
        );
    }
    println!();
    println!("Funded dev keys (10^24 wei each; for this local chain only):");
    for (i, k) in keys.iter().enumerate() {
        let secret = B256::from(k.secret().0);
        println!("  ({i}) {}  {secret}", k.address().to_checksum(None));
    }
    println!();
    println!(
        "Logs: {}/logs/   Stop: Ctrl-C (the data stays; run the same command to resume)",
        dir.display()
    );
}

/// Calls `f` on SIGINT or SIGTERM (a small signal thread; no extra dependency).
fn ctrlc_handler(f: impl Fn() + Send + 'static) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        rt.block_on(async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            f();
        });
    })?;
    Ok(())
}
