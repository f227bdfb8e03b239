//! The client commands (`tx`, `sys`, `sealer`, `cns`, `proof`, `console`) as a person or a
//! script runs them against a real chain.

#![allow(clippy::unwrap_used)]

mod common;

use common::Net;
use jinlian_crypto::CryptoSuite;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

struct Cli<'a> {
    rpc: String,
    key: &'a std::path::Path,
}

impl Cli<'_> {
    /// Runs `jinlian ARGS --rpc … --key …`; (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_jinlian"))
            .args(args)
            .args(["--rpc", &self.rpc, "--key", self.key.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "jinlian {args:?} failed:\n{out}{err}");
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
}

#[test]
fn client_commands_deploy_transact_configure_name_and_prove() {
    let net = Net::start_with(1, 0, CryptoSuite::Ecdsa, 0);
    let admin = net.chain_dir().join("admin.key.json");
    let cli = Cli { rpc: format!("http://{}", net.nodes[0].rpc), key: &admin };
    let artifact = concat!(env!("CARGO_MANIFEST_DIR"), "/../../contracts/artifacts/TestToken.json");

    let d = cli.json(&["tx", "deploy", "--artifact", artifact, "1000"]);
    assert_eq!(d["success"], true, "{d}");
    let token = d["contractAddress"].as_str().unwrap().to_string();
    let other = "0x7777777777777777777777777777777777777777";
    let sent = cli.json(&["tx", "send", "--to", &token, "transfer(address,uint256)", other, "25"]);
    assert_eq!(sent["success"], true);
    assert_eq!(
        cli.ok(&["tx", "call", "--to", &token, "balanceOf(address)(uint256)", other]).trim(),
        "25"
    );
    assert_eq!(
        cli.json(&["tx", "call", "--to", &token, "symbol()(string)"]),
        serde_json::json!(["JLT"])
    );
    // A revert: non-zero exit, the reason shown.
    let (ok, out, _) = cli.run(&[
        "tx",
        "send",
        "--to",
        &token,
        "transferFrom(address,address,uint256)",
        other,
        &token,
        "1",
    ]);
    assert!(!ok);
    assert!(out.contains("reverted: allowance too low"), "{out}");
    // Wrong arguments are refused before anything is sent.
    let (ok, _, err) = cli.run(&[
        "tx",
        "send",
        "--to",
        &token,
        "transfer(address,uint256)",
        "not-an-address",
        "1",
    ]);
    assert!(!ok && err.contains("is not a address"), "{err}");

    // System configuration and the sealer list.
    assert_eq!(cli.ok(&["sys", "get", "tx_count_limit"]).trim(), "10000");
    let set = cli.json(&["sys", "set", "tx_count_limit", "5000"]);
    assert_eq!(set["value"], "5000");
    assert_eq!(cli.ok(&["sys", "get", "tx_count_limit"]).trim(), "5000");
    let (ok, _, err) = cli.run(&["sys", "set", "tx_count_limit", "lots"]);
    assert!(!ok && err.contains("not a valid value"), "{err}");
    let list = cli.json(&["sealer", "list"]);
    assert_eq!(list["sealers"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["sealers"][0].as_str().unwrap(),
        alloy_primitives::hex::encode(net.node_ids()[0])
    );

    let (ok, _, err) = cli.run(&["sys", "set", "no_such_key", "5"]);
    assert!(!ok && err.contains("not a configuration key"), "{err}");
    // A failure with --json is JSON on stdout too.
    let (ok, out, _) = cli.run(&["sys", "get", "no_such_key", "--json"]);
    assert!(!ok);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert!(e["error"].as_str().unwrap().contains("-40008"), "{e}");
    // Governance refusals say what the code means.
    let stranger = tempfile::tempdir().unwrap();
    let stranger_key = stranger.path().join("k.json");
    let kf = jinlian_crypto::KeyFile::new(
        &jinlian_crypto::KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x44; 32]).unwrap(),
    );
    std::fs::write(&stranger_key, kf.to_json()).unwrap();
    let outsider = Cli { rpc: cli.rpc.clone(), key: &stranger_key };
    let (ok, _, err) = outsider.run(&["sys", "set", "tx_count_limit", "7"]);
    assert!(!ok && (err.contains("permission denied") || err.contains("committee")), "{err}");
    // An unreachable node is named as such.
    let nowhere = Cli { rpc: format!("http://127.0.0.1:{}", common::free_port()), key: &admin };
    let (ok, _, err) = nowhere.run(&[
        "tx",
        "receipt",
        "0x0000000000000000000000000000000000000000000000000000000000000001",
    ]);
    assert!(!ok && err.contains("cannot reach the node"), "{err}");

    // Names.
    let (ok, _, err) = cli.run(&["cns", "resolve", "Nope"]);
    assert!(!ok && err.contains("not registered"), "{err}");
    cli.ok(&["cns", "register", "Token", "1.0", &token]);
    let at = cli.json(&["cns", "resolve", "Token", "--version", "1.0"]);
    assert_eq!(at["address"].as_str().unwrap().to_lowercase(), token.to_lowercase());
    let name_addr = cli.json(&["cns", "resolve", "Token"]);
    assert_ne!(name_addr["address"], at["address"], "the name has its own stable address");
    assert_eq!(
        cli.ok(&[
            "tx",
            "call",
            "--to",
            name_addr["address"].as_str().unwrap(),
            "balanceOf(address)(uint256)",
            other
        ])
        .trim(),
        "25",
        "calls through the name reach the token"
    );

    // A proof, fetched and verified offline against the genesis sealers; a changed copy fails.
    let hash = sent["transactionHash"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    cli.ok(&["proof", "get", hash, "--out", file.to_str().unwrap()]);
    let genesis = net.chain_dir().join("genesis.json");
    let v = cli.json(&[
        "proof",
        "verify",
        file.to_str().unwrap(),
        "--sealers",
        genesis.to_str().unwrap(),
    ]);
    assert_eq!(v["valid"], true);
    assert_eq!(v["transactionHash"], hash);
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut receipt =
        alloy_primitives::hex::decode(p["receipt"].as_str().unwrap().trim_start_matches("0x"))
            .unwrap();
    receipt[3] ^= 1;
    p["receipt"] = format!("0x{}", alloy_primitives::hex::encode(receipt)).into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, p.to_string()).unwrap();
    let (ok, _, err) = cli.run(&[
        "proof",
        "verify",
        bad.to_str().unwrap(),
        "--sealers",
        genesis.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("does not hold"), "{err}");

    // The console runs the same commands and survives errors.
    let mut child = Command::new(env!("CARGO_BIN_EXE_jinlian"))
        .args(["console", "--rpc", &cli.rpc])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script = format!(
        "tx call --to {token} \"balanceOf(address)(uint256)\" {other}\nsys get no_such_key\nnonsense\nsys get tx_count_limit\nexit\n"
    );
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "a script with failing commands exits non-zero");
    let text = String::from_utf8_lossy(&out.stdout);
    let banner = String::from_utf8_lossy(&out.stderr);
    assert!(banner.contains("connected to"), "{banner}");
    assert!(text.contains("25\n"), "{text}");
    assert!(text.contains("error: ") && text.contains("-40008"), "{text}");
    assert!(text.contains("5000"), "the console kept going after errors: {text}");
}
