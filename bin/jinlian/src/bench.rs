//! `jinlian bench`: ERC-20 transfers from many senders against a running chain (and, with
//! `--baseline anvil`, the identical workload against anvil in the same invocation).
//!
//! Setup, untimed: deploy the TestToken, give every sender tokens (and gas money where gas
//! has a price), read the senders' nonces, then sign every transfer. The clock starts at the
//! first submission. Transfers go out as JSON-RPC batches over several HTTP connections (one
//! sender's transactions always on one connection, in nonce order); a "busy" answer is
//! retried after a pause. A tracker follows the chain's blocks and stamps each transfer when
//! it first sees it committed, so latency is submission → visible in a committed block, and
//! committed TPS is transfers committed ÷ (last commit − first submission). Every node's CPU
//! and resident memory come from its `/metrics` (`jinlian_process_*`) before and after.
//!
//! `--calibrate` measures this machine's per-transaction costs the way a node pays them (one
//! signature check, execution against a redb ledger, the block's durable commit) on its own
//! freshly signed transfers of the same kind, and from them the ceiling
//! `cores ÷ Σ per-node cost` for the nodes of the chain (all assumed on this machine, as with
//! `jinlian up`; observers skip the signature check, trusting the commit certificate).

use crate::client_cmd::key_from_hex;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use anyhow::{Context, Result, anyhow, bail, ensure};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_primitives::{ConsortiumTx, LegacyTx, Transaction, TxBody};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::{ArrayParams, BatchRequestBuilder};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
}

/// How transfers pick their recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Every transfer pays a fresh account.
    Spread,
    /// Nine transfers in ten pay one hot account; the rest pay fresh ones.
    Hot,
}

/// Which transaction format the transfers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvelopeArg {
    /// Ethereum (EIP-155) on secp256k1 chains, consortium on SM chains.
    Auto,
    /// Ethereum legacy transactions with nonces (secp256k1 only).
    Eth,
    /// FISCO-style consortium transactions (random id and block limit, no nonce).
    Consortium,
}

/// A chain to compare against, started by the bench itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    /// anvil (Foundry) with automine, from npm `@foundry-rs/anvil-linux-amd64`.
    Anvil,
}

/// `jinlian bench` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// JSON-RPC URLs of the chain's nodes, comma-separated (`jinlian up` prints them).
    /// Transfers are spread over all of them; blocks are followed on the first; every node's
    /// CPU and memory are read from its `/metrics`.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8545")]
    pub rpc: Vec<String>,
    /// Transfers to submit.
    #[arg(long, default_value_t = 20_000)]
    pub txs: usize,
    /// Sending accounts (transfers are shared out evenly).
    #[arg(long, default_value_t = 20)]
    pub senders: usize,
    /// Recipients: `spread` (a fresh account each) or `hot` (9 in 10 pay one account).
    #[arg(long, value_enum, default_value = "spread")]
    pub mix: Mix,
    /// Transaction format.
    #[arg(long, value_enum, default_value = "auto")]
    pub envelope: EnvelopeArg,
    /// Submit at most this many transfers per second (default: as fast as the chain takes them).
    #[arg(long)]
    pub rate: Option<f64>,
    /// HTTP connections submitting at once (default: 4 per URL, at least 8; at most one per
    /// sender, since a sender's transfers stay on one connection).
    #[arg(long)]
    pub connections: Option<usize>,
    /// Transfers per JSON-RPC batch request (at most 100, a node's default `max_batch`).
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also run the identical workload against this chain, started here, and print the ratio.
    #[arg(long, value_enum)]
    pub baseline: Option<Baseline>,
    /// The anvil binary (default: `$JINLIAN_ANVIL`, then `anvil` on PATH, then
    /// `node_modules/.bin/anvil` or `node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil` in
    /// this directory or a parent).
    #[arg(long, value_name = "PATH")]
    pub anvil_bin: Option<PathBuf>,
    /// Measure this machine's per-transaction costs (signature check, execution, storage) and
    /// report the ceiling they allow and the efficiency achieved.
    #[arg(long)]
    pub calibrate: bool,
    /// Hex secret key that pays for the setup (default: `jinlian up`'s first dev key on a
    /// Jinlian chain, anvil's first dev account on anvil).
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// Give up (and report what is left as not committed) when the chain commits none of the
    /// transfers for this many seconds.
    #[arg(long, default_value_t = 60)]
    pub stall_secs: u64,
}

/// Gas limit of one transfer (an ERC-20 transfer to a fresh account uses about 52,000).
const TRANSFER_GAS: u64 = 100_000;
/// Tokens each sender gets.
const SENDER_TOKENS: u64 = 1_000_000_000;
/// The secret of anvil's first dev account (public, printed by anvil itself).
const ANVIL_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Transfers signed and measured by `--calibrate`, in blocks of [`CALIBRATE_BLOCK`].
const CALIBRATE_TXS: usize = 20_000;
const CALIBRATE_BLOCK: usize = 4_000;
/// How long a baseline may hold accepted transfers without mining before it is nudged.
const NUDGE_AFTER: Duration = Duration::from_millis(100);
/// Most transfers per sender with Ethereum nonces (a node refuses a nonce more than 1,000
/// ahead of the account's).
const MAX_PER_SENDER: usize = 1_000;
/// Most error messages kept by kind in the report.
const MAX_ERROR_KINDS: usize = 20;

/// What the bench learnt about a chain.
#[derive(Debug, Clone)]
struct Chain {
    name: String,
    urls: Vec<String>,
    chain_id: u64,
    suite: CryptoSuite,
    group_id: u64,
    gas_price: u128,
    /// A Jinlian node (its metrics and sealer lists are there to read).
    jinlian: bool,
    sealers: usize,
    observers: usize,
    /// The process to read CPU and memory from directly (a baseline the bench started).
    pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Envelope {
    Eth,
    Consortium,
}

/// A signed transfer.
struct Signed {
    raw: String,
    hash: B256,
}

/// One run's figures.
#[derive(Debug, Clone, serde::Serialize)]
struct Report {
    target: String,
    /// The ERC-20 the transfers moved.
    token: Address,
    txs: usize,
    senders: usize,
    mix: String,
    envelope: String,
    rate: Option<f64>,
    committed: usize,
    failed: Failures,
    window_s: f64,
    tps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    blocks: u64,
    txs_per_block: f64,
    busy_retries: usize,
    /// Times the bench had to ask a stalled baseline to mine (`evm_mine`).
    mine_nudges: usize,
    nodes: Vec<NodeUsage>,
    /// CPU all the nodes spent per committed transfer (µs), from their metrics.
    node_cpu_us_per_tx: Option<f64>,
    bench_cpu_cores: f64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
struct Failures {
    /// Refused at submission (not "busy").
    refused: usize,
    /// Committed but reverted.
    reverted: usize,
    /// Not seen committed before the chain stalled (accepted, or never sent because the
    /// bench gave up).
    not_committed: usize,
    /// Refusal messages by count.
    reasons: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct NodeUsage {
    url: String,
    /// CPU cores busy on average over the window.
    cpu_cores: Option<f64>,
    rss_mib: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Calibration {
    cores: usize,
    suite: String,
    /// µs of CPU per transaction.
    check_us: f64,
    execute_us: f64,
    store_us: f64,
    sealers: usize,
    observers: usize,
    /// Σ over this machine's nodes of each one's per-transaction cost, µs.
    per_tx_all_nodes_us: f64,
}

/// Runs the bench.
#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> Result<()> {
    ensure!(args.txs > 0, "--txs must be at least 1");
    ensure!(args.senders > 0, "--senders must be at least 1");
    ensure!(
        (1..=100).contains(&args.batch),
        "--batch must be between 1 and 100 (a node answers larger batches with an error unless its [rpc.limits] max_batch is raised)"
    );
    if let Some(r) = args.rate {
        ensure!(
            r.is_finite() && r > 0.0,
            "--rate must be a positive number of transfers per second"
        );
    }
    ensure!(!args.rpc.is_empty(), "--rpc needs at least one URL");
    ensure!(args.connections != Some(0), "--connections must be at least 1");
    ensure!(args.stall_secs >= 1, "--stall-secs must be at least 1");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
                let anvil_bin = match args.baseline {
            Some(Baseline::Anvil) => Some(find_anvil(args.anvil_bin.as_deref())?),
            None => None,
        };
        let chain = discover("jinlian", &args.rpc, None).await?;
        for url in &args.rpc[1..] {
            let c = http_client(url)?;
            let id = quantity(
                &call(&c, "eth_chainId", vec![])
                    .await
                    .with_context(|| format!("no JSON-RPC answer at {url}"))?,
            )?;
            ensure!(
                id == chain.chain_id,
                "{url} is on chain {id}, {} on chain {}: give the URLs of one chain",
                args.rpc[0],
                chain.chain_id
            );
        }
        let env = match (args.envelope, chain.suite) {
            (EnvelopeArg::Eth, CryptoSuite::Sm) => {
                bail!("an SM chain takes consortium transactions only: use --envelope consortium")
            }
            (EnvelopeArg::Eth, _) => Envelope::Eth,
            (EnvelopeArg::Consortium, _) => Envelope::Consortium,
            (EnvelopeArg::Auto, CryptoSuite::Sm) => Envelope::Consortium,
            (EnvelopeArg::Auto, _) => Envelope::Eth,
        };
        if !chain.jinlian && env == Envelope::Consortium {
                        bail!("{} is not a Jinlian node: consortium transactions need one", args.rpc[0]);
        }
        let per_sender = args.txs.div_ceil(args.senders);
        ensure!(
            env == Envelope::Consortium || per_sender <= MAX_PER_SENDER,
            "{per_sender} transfers per sender: a node takes Ethereum nonces at most {MAX_PER_SENDER} ahead of an account's, so use --senders {} or more (or --envelope consortium)",
            args.txs.div_ceil(MAX_PER_SENDER)
        );
        if chain.suite == CryptoSuite::Sm && args.baseline.is_some() {
            eprintln!(
                "note: anvil runs the same transfers as secp256k1 Ethereum transactions; this chain checks SM2 signatures"
            );
        }
        let funder = match &args.key {
            Some(hex) => key_from_hex(chain.suite, hex, "--key")?,
            None if chain.jinlian => crate::up::dev_keys(chain.suite)
                .into_iter()
                .next()
                .context("no dev key for this suite")?,
            None => key_from_hex(chain.suite, ANVIL_KEY, "anvil's key")?,
        };
        let calibration = if args.calibrate {
            eprintln!("calibrating: {CALIBRATE_TXS} transfers checked, executed and stored here…");
            let c = chain.clone();
            let mix = args.mix;
            Some(tokio::task::spawn_blocking(move || calibrate(&c, env, mix)).await??)
        } else {
            None
        };
        let report = workload(&args, &chain, env, &funder).await?;
        print_report(&report);
        let mut out = serde_json::to_value(&report)?;
        if let Some(c) = &calibration {
            let ceiling = c.cores as f64 / (c.per_tx_all_nodes_us / 1e6);
            let efficiency = report.tps / ceiling;
            println!(
                "calibration ({} cores, {}): signature check {:.1} µs, execution {:.1} µs, storage {:.1} µs per transaction and node",
                c.cores, c.suite, c.check_us, c.execute_us, c.store_us
            );
            println!(
                "  {} sealer(s) + {} observer(s) on this machine: {:.1} µs of CPU per transaction in all → ceiling {:.0} TPS; efficiency {:.2}",
                c.sealers, c.observers, c.per_tx_all_nodes_us, ceiling, efficiency
            );
            out["calibration"] = serde_json::to_value(c)?;
            out["ceiling_tps"] = json!(ceiling);
            out["efficiency"] = json!(efficiency);
        }
                if let Some(bin) = anvil_bin {
            let anvil = Anvil::start(&bin)?;
            let base = discover("anvil", std::slice::from_ref(&anvil.url), Some(anvil.pid())).await?;
            let key = key_from_hex(CryptoSuite::Ecdsa, ANVIL_KEY, "anvil's key")?;
            eprintln!("baseline: the same workload against anvil ({})", bin.display());
            let b = workload(&args, &base, Envelope::Eth, &key).await?;
            drop(anvil);
            print_report(&b);
            let ratio = report.tps / b.tps.max(f64::MIN_POSITIVE);
            println!("jinlian / anvil: {ratio:.2}× the committed TPS");
            out["baseline"] = serde_json::to_value(&b)?;
            out["baseline"]["name"] = json!("anvil");
            out["baseline"]["ratio"] = json!(ratio);
        }
        if let Some(path) = &args.out {
            std::fs::write(path, serde_json::to_string_pretty(&out)? + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
                        println!("report written to {}", path.display());
        }
        let failed = |r: &Value| {
            ["refused", "reverted", "not_committed"]
                .iter()
                .map(|k| r["failed"][k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        let (ours, theirs) = (failed(&out), failed(&out["baseline"]));
        ensure!(
            ours == 0 && theirs == 0,
            "transfers failed (this chain: {ours}, the baseline: {theirs}); the figures above count only what committed"
        );
        Ok(())
    })
}

fn http_client(url: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .max_request_size(64 * 1024 * 1024)
        .max_response_size(256 * 1024 * 1024)
        .request_timeout(Duration::from_secs(60))
        .build(url)
        .with_context(|| format!("bad URL {url}"))
}

fn params(v: Vec<Value>) -> Result<ArrayParams> {
    let mut p = ArrayParams::new();
    for x in v {
        p.insert(x)?;
    }
    Ok(p)
}

async fn call(c: &HttpClient, method: &str, args: Vec<Value>) -> Result<Value> {
    c.request::<Value, _>(method, params(args)?).await.with_context(|| format!("{method} failed"))
}

fn quantity(v: &Value) -> Result<u64> {
    let s = v.as_str().with_context(|| format!("expected a hex quantity, got {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).with_context(|| format!("bad quantity {s}"))
}

/// Several calls in one request, each answer in order (an error answer becomes `Err`).
async fn batch(
    c: &HttpClient,
    calls: &[(&str, Vec<Value>)],
) -> Result<Vec<Result<Value, (i32, String)>>> {
    let mut b = BatchRequestBuilder::new();
    for (m, a) in calls {
        b.insert(m, params(a.clone())?)?;
    }
    let resp = c.batch_request::<Value>(b).await?;
    Ok(resp.into_iter().map(|r| r.map_err(|e| (e.code(), e.message().to_string()))).collect())
}

/// The chain behind `urls`: id, suite, group, gas price, and its sealers and observers.
async fn discover(name: &str, urls: &[String], pid: Option<u32>) -> Result<Chain> {
    let c = http_client(&urls[0])?;
    let chain_id = quantity(
        &call(&c, "eth_chainId", vec![])
            .await
            .with_context(|| format!("no JSON-RPC answer at {}", urls[0]))?,
    )?;
    let gas_price = u128::from(quantity(&call(&c, "eth_gasPrice", vec![]).await?)?);
    let mut chain = Chain {
        name: name.into(),
        urls: urls.to_vec(),
        chain_id,
        suite: CryptoSuite::Ecdsa,
        group_id: 1,
        gas_price,
        jinlian: false,
        sealers: 1,
        observers: 0,
        pid,
    };
    if pid.is_none()
        && let Ok(v) = call(&c, "web3_clientVersion", vec![]).await
        && let Some(v) = v.as_str()
    {
        chain.name = v.split('/').next().unwrap_or(v).to_lowercase();
    }
    if let Ok(info) = call(&c, "jinlian_nodeInfo", vec![]).await {
        chain.name = name.into();
        chain.jinlian = true;
        chain.suite = info["suite"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .context("jinlian_nodeInfo names no known suite")?;
        chain.group_id = info["groupId"].as_u64().unwrap_or(1);
        let g = json!(chain.group_id);
        let count = |v: Value| v.as_array().map_or(0, Vec::len);
        chain.sealers = count(call(&c, "getSealerList", vec![g.clone()]).await?);
        chain.observers = count(call(&c, "getObserverList", vec![g]).await?);
    }
    Ok(chain)
}

/// A transaction of `key` in the chain's format.
#[allow(clippy::too_many_arguments)]
fn sign(
    chain: &Chain,
    env: Envelope,
    key: &KeyPair,
    nonce: u64,
    block_limit: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas_limit: u64,
) -> Result<Transaction> {
    let body = match env {
        Envelope::Eth => TxBody::Legacy(LegacyTx {
            nonce,
            gas_price: chain.gas_price,
            gas_limit,
            to,
            value,
            input,
            chain_id: Some(chain.chain_id),
        }),
        Envelope::Consortium => TxBody::Consortium(ConsortiumTx {
            random_id: U256::from(rand::random::<u128>()),
            gas_price: U256::ZERO,
            gas_limit,
            block_limit,
            to,
            value,
            input,
            chain_id: chain.chain_id,
            group_id: chain.group_id,
            extra_data: Bytes::new(),
        }),
    };
    Transaction::sign(body, key).map_err(|e| anyhow!("signing: {e}"))
}

fn raw_hex(tx: &Transaction) -> String {
    format!("0x{}", alloy_primitives::hex::encode(tx.encoded()))
}

/// The TestToken's deployment code, minting `supply` to the deployer.
fn token_code(supply: U256) -> Result<Bytes> {
    let v: Value =
        serde_json::from_str(include_str!("../../../contracts/artifacts/TestToken.json"))?;
    let mut code = alloy_primitives::hex::decode(
        v["bytecode"].as_str().context("TestToken.json has no bytecode")?,
    )?;
    code.extend_from_slice(&supply.abi_encode());
    Ok(code.into())
}

fn sender_keys(suite: CryptoSuite, n: usize) -> Result<Vec<KeyPair>> {
    (0..n)
        .map(|i| {
            let secret = keccak256(format!("jinlian bench sender {i}"));
            KeyPair::from_secret(suite, &secret.0).map_err(|e| anyhow!("sender key: {e}"))
        })
        .collect()
}

/// The recipient of transfer `j` of a run salted with `salt`.
fn recipient(mix: Mix, salt: u64, j: usize) -> Address {
    if mix == Mix::Hot && !j.is_multiple_of(10) {
        return Address::repeat_byte(0x40);
    }
    Address::from_slice(&keccak256((salt, j as u64).abi_encode())[12..])
}

fn transfer_input(to: Address) -> Bytes {
    transferCall { to, value: U256::from(1) }.abi_encode().into()
}

/// Transfers of `token` from `keys` (transfer `j` from sender `j % keys`, nonces counting up
/// from `nonces`).
struct Plan<'a> {
    chain: &'a Chain,
    env: Envelope,
    keys: &'a [KeyPair],
    nonces: &'a [u64],
    block_limit: u64,
    token: Address,
    mix: Mix,
}

/// Signs the first `n` transfers of `plan`, on all cores.
fn sign_transfers(plan: &Plan<'_>, n: usize) -> Result<Vec<Transaction>> {
    let Plan { chain, env, keys, nonces, block_limit, token, mix } = *plan;
    let salt = rand::random::<u64>();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|from| {
                s.spawn(move || {
                    (from..(from + chunk).min(n))
                        .map(|j| {
                            let k = j % keys.len();
                            let nonce = nonces[k] + (j / keys.len()) as u64;
                            let to = recipient(mix, salt, j);
                            sign(
                                chain,
                                env,
                                &keys[k],
                                nonce,
                                block_limit,
                                TxKind::Call(token),
                                U256::ZERO,
                                transfer_input(to),
                                TRANSFER_GAS,
                            )
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow!("a signing thread panicked"))??);
        }
        Ok(all)
    })
}

/// Sends `txs` (in order, in batches) and waits for all their receipts; fails unless all
/// succeeded. Returns the receipts. `nudge`: ask the chain to mine while receipts are
/// missing (see [`track`]).
async fn send_and_wait(c: &HttpClient, txs: &[Transaction], nudge: bool) -> Result<Vec<Value>> {
    for part in txs.chunks(50) {
        let calls: Vec<_> =
            part.iter().map(|t| ("eth_sendRawTransaction", vec![json!(raw_hex(t))])).collect();
        for (t, r) in part.iter().zip(batch(c, &calls).await?) {
            if let Err((code, msg)) = r {
                bail!("setup transaction {} refused ({code}): {msg}", t.hash());
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut receipts: Vec<Option<Value>> = vec![None; txs.len()];
    loop {
        let missing: Vec<usize> = (0..txs.len()).filter(|i| receipts[*i].is_none()).collect();
        if missing.is_empty() {
            break;
        }
        ensure!(Instant::now() < deadline, "setup transactions not committed within 120 s");
        for part in missing.chunks(100) {
            let calls: Vec<_> = part
                .iter()
                .map(|i| ("eth_getTransactionReceipt", vec![json!(txs[*i].hash())]))
                .collect();
            for (i, r) in part.iter().zip(batch(c, &calls).await?) {
                if let Ok(v) = r
                    && !v.is_null()
                {
                    ensure!(
                        v["status"] == "0x1",
                        "setup transaction {} failed: {v}",
                        txs[*i].hash()
                    );
                    receipts[*i] = Some(v);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if nudge {
            let _ = call(c, "evm_mine", vec![]).await;
        }
    }
    Ok(receipts.into_iter().flatten().collect())
}

/// Head height of the chain.
async fn height(c: &HttpClient) -> Result<u64> {
    quantity(&call(c, "eth_blockNumber", vec![]).await?)
}

/// Deploys the token, funds the senders, signs the workload. Returns (signed transfers,
/// the head before the first submission, the token).
async fn prepare(
    args: &Args,
    chain: &Chain,
    env: Envelope,
    funder: &KeyPair,
) -> Result<(Vec<Signed>, u64, Address)> {
    let c = http_client(&chain.urls[0])?;
    let keys = sender_keys(chain.suite, args.senders)?;
    let head = height(&c).await?;
    let block_limit = head + jinlian_executor::BLOCK_LIMIT_WINDOW - 100;
    let mut nonce = quantity(
        &call(&c, "eth_getTransactionCount", vec![json!(funder.address()), json!("pending")])
            .await?,
    )?;
    let supply = U256::from(SENDER_TOKENS) * U256::from(args.senders as u64 + 1);
    let deploy = sign(
        chain,
        env,
        funder,
        nonce,
        block_limit,
        TxKind::Create,
        U256::ZERO,
        token_code(supply)?,
        3_000_000,
    )?;
    nonce += 1;
    eprintln!("setup: deploying the ERC-20 on {} ({})…", chain.name, chain.urls[0]);
    let r = send_and_wait(&c, std::slice::from_ref(&deploy), !chain.jinlian).await?;
    let token: Address = serde_json::from_value(r[0]["contractAddress"].clone())
        .context("the deployment's receipt has no contract address")?;
    let per_sender = args.txs.div_ceil(args.senders) as u128;
    // The funder's setup transactions, nonces counting up.
    let mut setup = Vec::new();
    let mut fund = |to: Address, value: U256, input: Bytes, gas: u64| -> Result<()> {
        setup.push(sign(
            chain,
            env,
            funder,
            nonce,
            block_limit,
            TxKind::Call(to),
            value,
            input,
            gas,
        )?);
        nonce += 1;
        Ok(())
    };
    for k in &keys {
        let input = transferCall { to: k.address(), value: U256::from(SENDER_TOKENS) }.abi_encode();
        fund(token, U256::ZERO, input.into(), TRANSFER_GAS)?;
        if chain.gas_price > 0 && env == Envelope::Eth {
            let gas_money = U256::from(chain.gas_price)
                * U256::from(u128::from(TRANSFER_GAS) * (per_sender + 10) * 2);
            fund(k.address(), gas_money, Bytes::new(), 21_000)?;
        }
    }
    eprintln!("setup: {} transactions give {} senders tokens…", setup.len(), keys.len());
    send_and_wait(&c, &setup, !chain.jinlian).await?;
    let calls: Vec<_> = keys
        .iter()
        .map(|k| ("eth_getTransactionCount", vec![json!(k.address()), json!("pending")]))
        .collect();
    let mut nonces = Vec::new();
    for part in calls.chunks(100) {
        for r in batch(&c, part).await? {
            let v = r.map_err(|(code, m)| anyhow!("eth_getTransactionCount ({code}): {m}"))?;
            nonces.push(quantity(&v)?);
        }
    }
    eprintln!("setup: signing {} transfers…", args.txs);
    let head = height(&c).await?;
    let block_limit = head + jinlian_executor::BLOCK_LIMIT_WINDOW - 100;
    let plan = Plan { chain, env, keys: &keys, nonces: &nonces, block_limit, token, mix: args.mix };
    let txs = sign_transfers(&plan, args.txs)?;
    let signed = txs.iter().map(|t| Signed { raw: raw_hex(t), hash: t.hash() }).collect();
    Ok((signed, height(&c).await?, token))
}

/// What submitters and the tracker share.
struct Shared {
    t0: Instant,
    /// µs after `t0` + 1 of each transfer's first submission (0: not yet).
    sent_us: Vec<AtomicU64>,
    /// µs after `t0` + 1 when each transfer was first seen committed (0: not yet).
    done_us: Vec<AtomicU64>,
    /// Refused at submission.
    refused: Vec<AtomicBool>,
    index: HashMap<B256, usize>,
    sent: AtomicUsize,
    committed: AtomicUsize,
    refused_count: AtomicUsize,
    busy: AtomicUsize,
    reasons: Mutex<BTreeMap<String, usize>>,
    submitting: AtomicUsize,
    blocks: AtomicU64,
    last_commit_us: AtomicU64,
    /// `evm_mine` calls made to a stalled baseline.
    nudges: AtomicUsize,
    /// The chain made no progress for the stall time: submitters stop.
    give_up: AtomicBool,
}

impl Shared {
    fn us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64 + 1
    }

    fn refuse(&self, j: usize, why: &str) {
        if !self.refused[j].swap(true, Ordering::AcqRel) {
            self.refused_count.fetch_add(1, Ordering::AcqRel);
            // Numbers (nonces, hashes' digits) are left out, so one kind of refusal is counted
            // under one reason.
            let mut kind = String::with_capacity(why.len());
            for ch in why.chars() {
                if ch.is_ascii_digit() {
                    if !kind.ends_with('#') {
                        kind.push('#');
                    }
                } else {
                    kind.push(ch);
                }
            }
            let mut r = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
            if r.len() < MAX_ERROR_KINDS || r.contains_key(&kind) {
                *r.entry(kind).or_insert(0) += 1;
            }
        }
    }
}

/// Whether an error answer means "try again later".
fn is_busy(code: i32, msg: &str) -> bool {
    code == -32005 || msg.contains("busy") || msg.contains("try again")
}

/// One submitting connection: it sends the transfers of senders `s` with
/// `s % conns == conn`.
struct Lane {
    url: String,
    conn: usize,
    conns: usize,
    senders: usize,
    batch_len: usize,
    rate: Option<f64>,
}

/// Submits one lane's transfers.
async fn submit(shared: Arc<Shared>, signed: Arc<Vec<Signed>>, lane: Lane) -> Result<()> {
    let Lane { url, conn, conns, senders, batch_len, rate } = lane;
    let c = http_client(&url)?;
    let mut queue: VecDeque<usize> =
        (0..signed.len()).filter(|j| (j % senders) % conns == conn).collect();
    let mut transport_errors = 0u32;
    while !queue.is_empty() && !shared.give_up.load(Ordering::Acquire) {
        let part: Vec<usize> = queue.drain(..batch_len.min(queue.len())).collect();
        if let (Some(rate), Some(last)) = (rate, part.last()) {
            let due = shared.t0 + Duration::from_secs_f64(*last as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let now = shared.us();
        for j in &part {
            let _ =
                shared.sent_us[*j].compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire);
        }
        let calls: Vec<_> =
            part.iter().map(|j| ("eth_sendRawTransaction", vec![json!(signed[*j].raw)])).collect();
        let mut retry = Vec::new();
        match batch(&c, &calls).await {
            Ok(answers) => {
                transport_errors = 0;
                for (j, a) in part.iter().zip(answers) {
                    match a {
                        Ok(_) => {
                            shared.sent.fetch_add(1, Ordering::AcqRel);
                        }
                        Err((code, msg)) if is_busy(code, &msg) => retry.push(*j),
                        // Taken by an earlier try whose answer was lost.
                        Err((_, msg)) if msg.contains("already") => {
                            shared.sent.fetch_add(1, Ordering::AcqRel);
                        }
                        Err((code, msg)) => shared.refuse(*j, &format!("{code}: {msg}")),
                    }
                }
            }
            Err(e) => {
                transport_errors += 1;
                if transport_errors > 30 {
                    for j in part.iter().chain(queue.iter()) {
                        shared.refuse(*j, &format!("transport: {e}"));
                    }
                    return Ok(());
                }
                retry = part;
            }
        }
        if !retry.is_empty() {
            shared.busy.fetch_add(retry.len(), Ordering::AcqRel);
            for j in retry.into_iter().rev() {
                queue.push_front(j);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Follows the chain from `from + 1`, stamping transfers as their blocks appear, until all
/// accepted transfers are committed or the chain made no progress for `stall`. With `nudge`
/// (a chain with automine, not Jinlian), a chain holding accepted transfers that has not
/// mined for [`NUDGE_AFTER`] is asked to mine (`evm_mine`): anvil 1.7.1's automine stops
/// mining under this load with thousands of transactions pending (cf. foundry#10122), and
/// this keeps the baseline going at its best rather than stalled.
async fn track(
    shared: Arc<Shared>,
    url: String,
    from: u64,
    stall: Duration,
    nudge: bool,
) -> Result<u64> {
    let c = http_client(&url)?;
    let total = shared.sent_us.len();
    let mut next = from + 1;
    let mut last_progress = Instant::now();
    loop {
        let head = height(&c).await?;
        let mut fetched = false;
        while next <= head {
            let to = head.min(next + 19);
            let calls: Vec<_> = (next..=to)
                .map(|h| ("eth_getBlockByNumber", vec![json!(format!("0x{h:x}")), json!(false)]))
                .collect();
            let answers = batch(&c, &calls).await?;
            let now = shared.us();
            for a in answers {
                let block = a.map_err(|(code, m)| anyhow!("eth_getBlockByNumber ({code}): {m}"))?;
                for h in block["transactions"].as_array().into_iter().flatten() {
                    let Some(hash) = h.as_str().and_then(|s| s.parse::<B256>().ok()) else {
                        continue;
                    };
                    if let Some(&j) = shared.index.get(&hash)
                        && shared.done_us[j]
                            .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                    {
                        shared.committed.fetch_add(1, Ordering::AcqRel);
                        shared.last_commit_us.store(now, Ordering::Release);
                    }
                }
                shared.blocks.fetch_add(1, Ordering::AcqRel);
            }
            next = to + 1;
            fetched = true;
            last_progress = Instant::now();
        }
        let committed = shared.committed.load(Ordering::Acquire);
        let refused = shared.refused_count.load(Ordering::Acquire);
        if committed + refused >= total {
            return Ok(next - 1);
        }
        if last_progress.elapsed() > stall {
            // Submitters still retrying "busy" answers give up too.
            shared.give_up.store(true, Ordering::Release);
            return Ok(next - 1);
        }
        if nudge
            && last_progress.elapsed() > NUDGE_AFTER
            && shared.sent.load(Ordering::Acquire) > committed
        {
            shared.nudges.fetch_add(1, Ordering::AcqRel);
            let _ = call(&c, "evm_mine", vec![]).await;
            continue;
        }
        if !fetched {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// `/metrics` of the node behind a JSON-RPC URL: (CPU seconds, resident bytes).
fn node_usage(url: &str) -> Option<(f64, u64)> {
    let rest = url.strip_prefix("http://")?;
    let hostport = rest.split('/').next()?;
    let mut s = std::net::TcpStream::connect(hostport).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {hostport}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
    };
    Some((
        value("jinlian_process_cpu_seconds_total")?,
        value("jinlian_process_resident_memory_bytes")? as u64,
    ))
}

fn usage_of(chain: &Chain) -> Vec<Option<(f64, u64)>> {
    match chain.pid {
        Some(pid) => vec![jinlian_node::metrics::process_usage(Some(pid))],
        None => chain.urls.iter().map(|u| node_usage(u)).collect(),
    }
}

/// Prints progress to standard error until `stop`.
async fn progress(shared: Arc<Shared>, total: usize, stop: Arc<AtomicBool>) {
    let tty = std::io::stderr().is_terminal();
    // A line every 250 ms on a terminal, every 5 s otherwise; the stop flag is seen within
    // 50 ms either way, so the bar never holds the run up.
    let every = if tty { 5 } else { 100 };
    let mut tick = 0u64;
    while !stop.load(Ordering::Acquire) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tick += 1;
        if !tick.is_multiple_of(every) {
            continue;
        }
        let sent = shared.sent.load(Ordering::Acquire);
        let done = shared.committed.load(Ordering::Acquire);
        let secs = shared.t0.elapsed().as_secs_f64();
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let line = format!(
            "[{}{}] {secs:5.1} s  submitted {sent}/{total}  committed {done}  {:.0} TPS  busy answers {}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            done as f64 / secs.max(1e-9),
            shared.busy.load(Ordering::Acquire),
        );
        if tty {
            eprint!("\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
    }
    if tty {
        eprintln!();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs the workload against one chain.
async fn workload(args: &Args, chain: &Chain, env: Envelope, funder: &KeyPair) -> Result<Report> {
    let (signed, start_height, token) = prepare(args, chain, env, funder).await?;
    let n = signed.len();
    let index = signed.iter().enumerate().map(|(j, s)| (s.hash, j)).collect();
    let conns = args.connections.unwrap_or((4 * chain.urls.len()).max(8)).clamp(1, args.senders);
    let batch_len = match args.rate {
        // About 20 ms of the rate per connection, so pacing stays smooth.
        Some(r) => ((r / conns as f64 / 50.0) as usize).clamp(1, args.batch),
        None => args.batch,
    };
    let usage_before = usage_of(chain);
    let bench_before = jinlian_node::metrics::process_usage(None);
    let sampled = Instant::now();
    let shared = Arc::new(Shared {
        t0: Instant::now(),
        sent_us: (0..n).map(|_| AtomicU64::new(0)).collect(),
        done_us: (0..n).map(|_| AtomicU64::new(0)).collect(),
        refused: (0..n).map(|_| AtomicBool::new(false)).collect(),
        index,
        sent: AtomicUsize::new(0),
        committed: AtomicUsize::new(0),
        refused_count: AtomicUsize::new(0),
        busy: AtomicUsize::new(0),
        reasons: Mutex::new(BTreeMap::new()),
        submitting: AtomicUsize::new(conns),
        blocks: AtomicU64::new(0),
        last_commit_us: AtomicU64::new(0),
        nudges: AtomicUsize::new(0),
        give_up: AtomicBool::new(false),
    });
    let signed = Arc::new(signed);
    let stop = Arc::new(AtomicBool::new(false));
    let bar = tokio::spawn(progress(shared.clone(), n, stop.clone()));
    let tracker = tokio::spawn(track(
        shared.clone(),
        chain.urls[0].clone(),
        start_height,
        Duration::from_secs(args.stall_secs),
        !chain.jinlian,
    ));
    let mut submitters = Vec::new();
    for c in 0..conns {
        let url = chain.urls[c % chain.urls.len()].clone();
        let (shared, signed) = (shared.clone(), signed.clone());
        let lane = Lane { url, conn: c, conns, senders: args.senders, batch_len, rate: args.rate };
        submitters.push(tokio::spawn(async move {
            let r = submit(shared.clone(), signed, lane).await;
            shared.submitting.fetch_sub(1, Ordering::AcqRel);
            r
        }));
    }
    for s in submitters {
        s.await??;
    }
    tracker.await??;
    stop.store(true, Ordering::Release);
    let _ = bar.await;
    let window_s = shared.last_commit_us.load(Ordering::Acquire) as f64 / 1e6;
    let usage_after = usage_of(chain);
    let bench_after = jinlian_node::metrics::process_usage(None);
    // CPU is averaged over the time between the two samples (the window plus the wait for
    // stragglers), so what a node spent finishing up is counted.
    let usage_secs = sampled.elapsed().as_secs_f64().max(1e-9);

    // Latencies, and which committed transfers reverted (read after the clock stopped).
    let mut lat: Vec<f64> = Vec::new();
    for j in 0..n {
        let (s, d) =
            (shared.sent_us[j].load(Ordering::Acquire), shared.done_us[j].load(Ordering::Acquire));
        if s > 0 && d > 0 {
            lat.push(d.saturating_sub(s) as f64 / 1e3);
        }
    }
    lat.sort_by(f64::total_cmp);
    let reverted = count_reverted(chain, &signed, &shared).await?;
    let committed = shared.committed.load(Ordering::Acquire);
    // Per transfer, so one refused after a lost answer that then committed counts once.
    let open = |j: usize| shared.done_us[j].load(Ordering::Acquire) == 0;
    let refused = (0..n).filter(|j| open(*j) && shared.refused[*j].load(Ordering::Acquire)).count();
    let not_committed = (0..n).filter(|j| open(*j)).count() - refused;
    let blocks = shared.blocks.load(Ordering::Acquire);
    let nodes = chain
        .urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let (before, after) =
                (usage_before.get(i).copied().flatten(), usage_after.get(i).copied().flatten());
            NodeUsage {
                url: url.clone(),
                cpu_cores: before.zip(after).map(|(b, a)| (a.0 - b.0) / usage_secs),
                rss_mib: after.map(|a| a.1 as f64 / (1024.0 * 1024.0)),
            }
        })
        .collect();
    let reasons = shared.reasons.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let node_cpu: Option<f64> =
        usage_before.iter().zip(&usage_after).map(|(b, a)| b.zip(*a).map(|(b, a)| a.0 - b.0)).sum();
    Ok(Report {
        target: chain.name.clone(),
        token,
        txs: n,
        senders: args.senders,
        mix: format!("{:?}", args.mix).to_lowercase(),
        envelope: format!("{env:?}").to_lowercase(),
        rate: args.rate,
        committed,
        failed: Failures { refused, reverted, not_committed, reasons },
        window_s,
        tps: committed as f64 / window_s.max(1e-9),
        p50_ms: percentile(&lat, 0.50),
        p90_ms: percentile(&lat, 0.90),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().copied().unwrap_or(0.0),
        blocks,
        txs_per_block: committed as f64 / blocks.max(1) as f64,
        busy_retries: shared.busy.load(Ordering::Acquire),
        mine_nudges: shared.nudges.load(Ordering::Acquire),
        nodes,
        node_cpu_us_per_tx: node_cpu.filter(|_| committed > 0).map(|s| s * 1e6 / committed as f64),
        bench_cpu_cores: bench_before
            .zip(bench_after)
            .map_or(0.0, |(b, a)| (a.0 - b.0) / usage_secs),
    })
}

/// Committed transfers of the run whose receipts say they failed (read in batches of 100
/// receipts, so no answer grows with the block size).
async fn count_reverted(chain: &Chain, signed: &[Signed], shared: &Shared) -> Result<usize> {
    let c = http_client(&chain.urls[0])?;
    let committed: Vec<&Signed> = signed
        .iter()
        .enumerate()
        .filter(|(j, _)| shared.done_us[*j].load(Ordering::Acquire) > 0)
        .map(|(_, s)| s)
        .collect();
    let mut reverted = 0;
    for part in committed.chunks(100) {
        let calls: Vec<_> =
            part.iter().map(|s| ("eth_getTransactionReceipt", vec![json!(s.hash)])).collect();
        for r in batch(&c, &calls).await? {
            let rc = r.map_err(|(code, m)| anyhow!("eth_getTransactionReceipt ({code}): {m}"))?;
            if rc["status"] != "0x1" {
                reverted += 1;
            }
        }
    }
    Ok(reverted)
}

#[allow(clippy::print_stdout)]
fn print_report(r: &Report) {
    println!(
        "{}: {} of {} transfers committed in {:.2} s: {:.0} TPS; latency p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms (max {:.0}); {} blocks ({:.1} transfers each)",
        r.target,
        r.committed,
        r.txs,
        r.window_s,
        r.tps,
        r.p50_ms,
        r.p90_ms,
        r.p99_ms,
        r.max_ms,
        r.blocks,
        r.txs_per_block
    );
    println!(
        "  failed: {} refused, {} reverted, {} not committed; {} busy answers retried",
        r.failed.refused, r.failed.reverted, r.failed.not_committed, r.busy_retries
    );
    if r.mine_nudges > 0 {
        println!(
            "  {} evm_mine calls: its automine had stopped with transfers pending",
            r.mine_nudges
        );
    }
    for (why, n) in &r.failed.reasons {
        println!("    {n} × {why}");
    }
    for n in &r.nodes {
        let cpu = n.cpu_cores.map_or("n/a".into(), |c| format!("{c:.2} cores"));
        let rss = n.rss_mib.map_or("n/a".into(), |m| format!("{m:.0} MiB"));
        println!("  {}: CPU {cpu}, RSS {rss}", n.url);
    }
    if let Some(us) = r.node_cpu_us_per_tx {
        println!("  all nodes together: {us:.0} µs of CPU per committed transfer");
    }
    println!("  this bench: CPU {:.2} cores", r.bench_cpu_cores);
}

/// anvil, started for the baseline and stopped on drop.
struct Anvil {
    child: std::process::Child,
    url: String,
}

impl Anvil {
    fn start(bin: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::process::Command::new(bin)
            .args(["--port", &port.to_string(), "--silent"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut a = Anvil { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = a.child.try_wait()? {
                bail!("anvil exited at start ({status})");
            }
            ensure!(Instant::now() < deadline, "anvil did not listen within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(a)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_anvil(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("JINLIAN_ANVIL") {
        return Ok(p.into());
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("anvil")).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut local = Vec::new();
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        local.push(d.join("node_modules/.bin/anvil"));
        local.push(d.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"));
        dir = d.parent().map(Path::to_path_buf);
    }
    on_path.into_iter().chain(local).find(|p| p.is_file()).context(
        "anvil not found: `npm install @foundry-rs/anvil-linux-amd64` here, or pass --anvil-bin",
    )
}

/// CPU seconds this process has used.
fn cpu_now() -> f64 {
    jinlian_node::metrics::process_usage(None).map_or(0.0, |u| u.0)
}

/// Per-transaction costs on this machine, as a node pays them, on freshly signed transfers
/// of the workload's kind: decode and signature check; execution against a redb ledger; the
/// block's commit to it (one durable transaction per block, with the default past-state
/// window).
fn calibrate(chain: &Chain, env: Envelope, mix: Mix) -> Result<Calibration> {
    use jinlian_executor::{BlockContext, ExecConfig};
    use jinlian_primitives::{Block, BlockTx, Certificate, GroupId, Header, Height};
    let suite = chain.suite;
    let dir = std::env::temp_dir().join(format!("jinlian-bench-calibrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let ledger = jinlian_storage::Ledger::open(dir.join("ledger.redb"), suite)?;
    ledger.set_state_history(10_000);
    let mut header = Header {
        parent_hash: B256::ZERO,
        height: Height(0),
        timestamp_ms: 1,
        group_id: GroupId(chain.group_id as u32),
        chain_id: chain.chain_id,
        proposer: 0,
        sealer_set_hash: B256::ZERO,
        tx_root: B256::ZERO,
        receipt_root: B256::ZERO,
        state_root: B256::ZERO,
        gas_used: 0,
        gas_limit: u64::MAX / 2,
        logs_bloom: Default::default(),
        extra: Bytes::new(),
    };
    let genesis =
        Block { header: header.clone(), txs: vec![], certificate: Certificate::default() };
    ledger.commit_block(&genesis, &[], &[])?;
    let cfg = ExecConfig {
        suite,
        chain_id: chain.chain_id,
        group_id: chain.group_id,
        ..ExecConfig::default()
    };
    let senders = 20usize;
    let keys = sender_keys(suite, senders)?;
    let deployer = KeyPair::from_secret(suite, &keccak256("jinlian bench calibrate").0)
        .map_err(|e| anyhow!("{e}"))?;
    let cal_chain = Chain { gas_price: 0, ..chain.clone() };
    // Executes and commits one block; returns (the first contract it created, (execute,
    // store) CPU seconds).
    let mut parent = genesis.hash(suite);
    type Costs = (Option<Address>, (f64, f64));
    let mut run_block = |txs: &[jinlian_primitives::RecoveredTx], height: u64| -> Result<Costs> {
        header.height = Height(height);
        header.parent_hash = parent;
        header.timestamp_ms = height * 1000;
        let ctx = BlockContext {
            height,
            timestamp_ms: header.timestamp_ms,
            gas_limit: header.gas_limit,
            coinbase: Address::ZERO,
            parent_state_root: B256::ZERO,
        };
        let state = jinlian_node::host::LedgerState(ledger.view()?);
        let t = cpu_now();
        let out = jinlian_executor::execute_block(&cfg, &state, &ctx, txs)
            .map_err(|e| anyhow!("calibration block {height}: {e}"))?;
        let executed = cpu_now() - t;
        header.state_root = out.state_root;
        header.receipt_root = out.receipt_root;
        let block = Block {
            header: header.clone(),
            txs: txs
                .iter()
                .map(|t| BlockTx { raw: t.tx.encoded().clone(), sender: t.sender })
                .collect(),
            certificate: Certificate::default(),
        };
        let t = cpu_now();
        let hashes: Vec<B256> = txs.iter().map(|t| t.tx.hash()).collect();
        ledger.commit_executed_block(&block, &out.receipts, &out.write_set, &out.prior, &hashes)?;
        let stored = cpu_now() - t;
        ensure!(
            out.receipts.iter().all(|r| r.is_success()),
            "a calibration transaction failed in block {height}"
        );
        parent = block.hash(suite);
        let created = out.receipts.iter().find_map(|r| r.contract_address);
        Ok((created, (executed, stored)))
    };
    // Blocks 1 and 2: the token, then the senders' tokens (not measured).
    let supply = U256::from(SENDER_TOKENS) * U256::from(senders as u64 + 1);
    let code = token_code(supply)?;
    let deploy =
        sign(&cal_chain, env, &deployer, 0, 900, TxKind::Create, U256::ZERO, code, 3_000_000)?;
    let recover = |t: Transaction| t.into_recovered(suite).map_err(|e| anyhow!("{e}"));
    let (token, _) = run_block(&[recover(deploy)?], 1)?;
    let token = token.context("the calibration token was not created")?;
    let mut setup = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let input = transferCall { to: k.address(), value: U256::from(SENDER_TOKENS) }.abi_encode();
        let t = sign(
            &cal_chain,
            env,
            &deployer,
            i as u64 + 1,
            900,
            TxKind::Call(token),
            U256::ZERO,
            input.into(),
            TRANSFER_GAS,
        )?;
        setup.push(recover(t)?);
    }
    run_block(&setup, 2)?;
    // The measured transfers.
    let nonces = vec![0; senders];
    let plan =
        Plan { chain: &cal_chain, env, keys: &keys, nonces: &nonces, block_limit: 900, token, mix };
    let txs = sign_transfers(&plan, CALIBRATE_TXS)?;
    let raws: Vec<Vec<u8>> = txs.iter().map(|t| t.encoded().to_vec()).collect();
    let t = cpu_now();
    let recovered: Vec<_> = raws
        .iter()
        .map(|r| {
            Transaction::decode(r, suite)
                .map_err(|e| anyhow!("{e}"))?
                .into_recovered(suite)
                .map_err(|e| anyhow!("{e}"))
        })
        .collect::<Result<_>>()?;
    let check = cpu_now() - t;
    let (mut execute, mut store) = (0.0, 0.0);
    for (i, block) in recovered.chunks(CALIBRATE_BLOCK).enumerate() {
        let (_, (e, s)) = run_block(block, i as u64 + 3)?;
        execute += e;
        store += s;
    }
    // CPU time comes in 10 ms ticks: ±0.5 µs per transfer, so one decimal is all there is.
    let per = |secs: f64| (secs * 1e7 / CALIBRATE_TXS as f64).round() / 10.0;
    let (check_us, execute_us, store_us) = (per(check), per(execute), per(store));
    let (sealers, observers) = (chain.sealers.max(1), chain.observers);
    let per_tx_all_nodes_us = sealers as f64 * (check_us + execute_us + store_us)
        + observers as f64 * (execute_us + store_us);
    Ok(Calibration {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        suite: suite.name().to_string(),
        check_us,
        execute_us,
        store_us,
        sealers,
        observers,
        per_tx_all_nodes_us,
    })
}
