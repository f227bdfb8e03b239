//! `jinlian up` as a developer runs it: it starts a local chain, commits a block, prints what
//! to connect to, stops cleanly on Ctrl-C, and the same command resumes the same chain. Its
//! explorer and metrics are checked with independent tools: headless Chromium renders the
//! pages, html5lib parses them strictly, and Prometheus' own Python parser reads `/metrics`.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::sol;
use common::{free_ports, http, python, rpc};
use jinlian_crypto::{CryptoSuite, KeyPair};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
}

fn up(dir: &std::path::Path, base: u16, rpc_port: u16) -> (Up, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jinlian"))
        .args(["up", "--dir", dir.to_str().unwrap(), "--sealers", "4", "--observers", "1"])
        .args([
            "--block-interval-ms",
            "200",
            "--base-port",
            &base.to_string(),
            "--rpc-port",
            &rpc_port.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut line = String::new();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "jinlian up ended early:\n{text}");
        text.push_str(&line);
        if line.starts_with("Logs:") {
            break;
        }
        assert!(Instant::now() < deadline, "no summary:\n{text}");
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Up(Some(child)), text)
}

/// A running `jinlian up`; a failing test still stops it (and so its nodes) on the way out.
struct Up(Option<std::process::Child>);

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
        }
    }
}

fn interrupt_and_wait(mut up: Up) {
    let mut child = up.0.take().unwrap();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "jinlian up exited with {st}");
            return;
        }
        assert!(Instant::now() < deadline, "jinlian up did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn up_starts_a_usable_chain_stops_cleanly_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("local");
    let (base, rpc_port) = (free_ports(5), free_ports(5));
    let (child, text) = up(&dir, base, rpc_port);
    assert!(text.contains("is up") && text.contains("chain id 20261130"), "{text}");
    assert!(text.contains("(9) 0x"), "ten dev keys are printed:\n{text}");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{rpc_port}").parse().unwrap();
    let h = rpc(addr, "eth_blockNumber", json!([])).unwrap();
    assert_ne!(h, "0x0", "the first block is committed");
    let b1 = rpc(addr, "eth_getBlockByNumber", json!(["0x1", false])).unwrap();
    interrupt_and_wait(child);
    assert!(rpc(addr, "eth_blockNumber", json!([])).is_err(), "the nodes stopped");

    let (child, _) = up(&dir, base, rpc_port);
    let again = rpc(addr, "eth_getBlockByNumber", json!(["0x1", false])).unwrap();
    assert_eq!(again["hash"], b1["hash"], "the same chain resumed");
    interrupt_and_wait(child);
}

/// `tests/clients/web_check.py` (html5lib and Prometheus' own parser) on `args`.
fn web_check(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let out = Command::new(python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/clients/web_check.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn chromium() -> String {
    let c = std::env::var("JINLIAN_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&c).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{c} not found: scripts/test.sh installs Chromium from Debian (apt-get install chromium)"
    );
    c
}

/// Headless Chromium: a screenshot of `url` into `png`, or (`png` None) the rendered DOM.
fn browse(
    chromium: &str,
    profile: &std::path::Path,
    url: &str,
    png: Option<&std::path::Path>,
) -> String {
    let mut cmd = Command::new("timeout");
    cmd.args(["120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1280,1800");
    match png {
        Some(p) => cmd.arg(format!("--screenshot={}", p.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(url).stderr(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "chromium failed on {url}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_explorer_and_metrics_show_what_the_rpc_shows() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().unwrap();
    let (base, rpc_port) = (free_ports(5), free_ports(5));
    let (child, text) = up(&tmp.path().join("local"), base, rpc_port);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{rpc_port}").parse().unwrap();
    assert!(text.contains(&format!("http://{addr}/explorer")), "{text}");
    assert!(text.contains(&format!("http://{addr}/metrics")), "{text}");

    // Some activity with the first dev key: a token and three transfers.
    let secret = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("(0) "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap();
    let secret: B256 = secret.parse().unwrap();
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &secret.0).unwrap();
    let to = Address::repeat_byte(0xaa);
    let (token, transfer_hash) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = jinlian_sdk::Client::connect(&format!("http://{addr}")).await.unwrap();
        let signer = jinlian_sdk::Signer::new(&client, key.clone()).await.unwrap();
        let token = signer
            .deploy(common::token_code(U256::from(1_000_000)))
            .await
            .unwrap()
            .contract_address
            .unwrap();
        // 40 at once (several share blocks), then three in turn.
        let calls: Vec<_> =
            (0..40u64).map(|v| transferCall { to, value: U256::from(100 + v) }).collect();
        let many = futures::future::join_all(calls.iter().map(|c| signer.transact(token, c))).await;
        assert!(many.iter().all(|r| r.as_ref().is_ok_and(|r| r.success())));
        let mut last = None;
        for v in 1..=3u64 {
            let r =
                signer.transact(token, &transferCall { to, value: U256::from(v) }).await.unwrap();
            assert!(r.success());
            last = Some(r.transaction_hash);
        }
        (token, last.unwrap())
    });
    // No more transactions: no more blocks, so the figures below stand still.
    let head = u64::from_str_radix(
        rpc(addr, "eth_blockNumber", json!([])).unwrap().as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let block = rpc(addr, "eth_getBlockByNumber", json!([format!("{head:#x}"), false])).unwrap();
    let head_hash = block["hash"].as_str().unwrap().to_string();

    // Every page answers 200 with HTML that parses strictly.
    let pages = [
        "/explorer".to_string(),
        "/explorer/blocks".into(),
        format!("/explorer/blocks?before={head}"),
        format!("/explorer/block/{head}"),
        format!("/explorer/block/{head_hash}"),
        format!("/explorer/tx/{transfer_hash}"),
        "/explorer/txs".into(),
        "/explorer/accounts".into(),
        "/explorer/contracts".into(),
        format!("/explorer/address/{token}"),
        format!("/explorer/address/{}", key.address()),
    ];
    let mut files = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let (status, head_text, body) = http(addr, "GET", p, "").unwrap();
        assert_eq!(status, 200, "{p}: {body}");
        assert!(head_text.to_ascii_lowercase().contains("content-type: text/html"), "{p}");
        let f = tmp.path().join(format!("page{i}.html"));
        std::fs::write(&f, &body).unwrap();
        files.push(f);
    }
    let mut args = vec![std::ffi::OsStr::new("html")];
    args.extend(files.iter().map(|f| f.as_os_str()));
    web_check(&args);

    // Following "Older" from the newest page lists every transaction of the chain once.
    let mut listed = Vec::new();
    let mut next = Some("/explorer/txs".to_string());
    while let Some(p) = next.take() {
        let (status, _, body) = http(addr, "GET", &p, "").unwrap();
        assert_eq!(status, 200, "{p}: {body}");
        for part in body.split("href=\"/explorer/tx/").skip(1) {
            listed.push(part[..66].to_string());
        }
        next = body
            .split("href=\"")
            .find_map(|s| s.split('"').next().filter(|l| l.contains("older=")))
            .map(|l| l.replace("&amp;", "&"));
        assert!(listed.len() <= 1_000, "the pages never end");
    }
    let mut newest_first = Vec::new();
    for n in (1..=head).rev() {
        let b = rpc(addr, "eth_getBlockByNumber", json!([format!("{n:#x}"), false])).unwrap();
        for t in b["transactions"].as_array().unwrap().iter().rev() {
            newest_first.push(t.as_str().unwrap().to_string());
        }
    }
    assert!(newest_first.len() >= 45);
    assert_eq!(listed, newest_first, "every transaction, newest first, exactly once");

    // What a browser shows matches the RPC: the head's height and hash, the transfer decoded.
    let profile = tmp.path().join("chromium");
    let url = |p: &str| format!("http://{addr}{p}");
    let overview = browse(&chromium, &profile, &url("/explorer"), None);
    assert!(overview.contains(&format!("Height</span><b>{head}</b>")), "{overview}");
    let short_head = format!("{}…{}", &head_hash[..10], &head_hash[head_hash.len() - 8..]);
    assert!(overview.contains(&short_head), "the head's hash is listed");
    let page = browse(&chromium, &profile, &url(&format!("/explorer/block/{head}")), None);
    assert!(page.contains(&format!("<h1>Block {head}</h1>")), "{page}");
    assert!(page.contains(&format!("id=\"block-hash\">{head_hash}<")), "{page}");
    let page = browse(&chromium, &profile, &url(&format!("/explorer/tx/{transfer_hash}")), None);
    assert!(page.contains("success"), "{page}");
    let decoded = format!(
        "Transfer(from = {}, to = {}, value = 3)",
        key.address().to_checksum(None),
        to.to_checksum(None)
    );
    assert!(page.contains(&decoded), "the log is decoded: {page}");
    for (name, p) in
        [("overview", "/explorer".to_string()), ("block", format!("/explorer/block/{head}"))]
    {
        let png = tmp.path().join(format!("{name}.png"));
        browse(&chromium, &profile, &url(&p), Some(&png));
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000, "{name} screenshot");
    }

    // Bad input gets a clear page, and search leads to the right page.
    let (status, _, body) = http(addr, "GET", "/explorer/block/99999999", "").unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no block at height 99999999"), "{body}");
    let (status, _, body) = http(addr, "GET", "/explorer/tx/0x12", "").unwrap();
    assert_eq!(status, 400, "{body}");
    let (status, head_text, _) =
        http(addr, "GET", &format!("/explorer/search?q={transfer_hash}"), "").unwrap();
    assert_eq!(status, 303);
    assert!(head_text.contains(&format!("/explorer/tx/{transfer_hash}")), "{head_text}");

    // /metrics in Prometheus' format, read by Prometheus' own parser, agrees with the RPC.
    let (status, head_text, body) = http(addr, "GET", "/metrics", "").unwrap();
    assert_eq!(status, 200);
    assert!(head_text.contains("openmetrics-text"), "{head_text}");
    let f = tmp.path().join("metrics.txt");
    std::fs::write(&f, &body).unwrap();
    let out = web_check(&[std::ffi::OsStr::new("metrics"), f.as_os_str()]);
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let num = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {m}"));
    assert_eq!(num("jinlian_block_height{group=\"1\"}"), head as f64, "{m}");
    assert_eq!(num("jinlian_peers{group=\"1\"}"), 4.0, "{m}");
    assert_eq!(num("jinlian_consensus_sealer{group=\"1\"}"), 1.0, "{m}");
    assert!(num("jinlian_transactions_committed_total{group=\"1\"}") >= 45.0, "{m}");
    assert!(num("jinlian_commit_latency_seconds_count{group=\"1\"}") >= 1.0, "{m}");
    assert!(
        body.contains("jinlian_rpc_requests_total{method=\"eth_blockNumber\",outcome=\"ok\"}"),
        "{body}"
    );
    interrupt_and_wait(child);
}
