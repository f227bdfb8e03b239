//! `jinlian up` as a developer runs it: it starts a local chain, commits a block, prints what
//! to connect to, stops cleanly on Ctrl-C, and the same command resumes the same chain.

#![allow(clippy::unwrap_used)]

mod common;

use common::{free_ports, rpc};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn up(dir: &std::path::Path, base: u16, rpc_port: u16) -> (std::process::Child, String) {
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
    (child, text)
}

fn interrupt_and_wait(mut child: std::process::Child) {
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
