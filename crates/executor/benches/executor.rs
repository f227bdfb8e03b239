//! Executor throughput against bare revm, in the same run.
//!
//! A block of 10,000 ERC-20 transfers (contracts/src/TestToken.sol) from 1,000 senders,
//! executed by `execute_block` (state reads through our flat state view, receipts, sorted
//! write set, roots) and by bare revm (`transact_commit` on an in-memory `CacheDB`, nothing
//! else). Also 10,000 native value transfers, and the process's peak memory. The executor
//! digests receipts on a second thread when the machine has one (as a node does).
//! `JINLIAN_PROFILE=N` only executes the ERC-20 block N times, for `perf record`.
//!
//! `cargo bench -p jinlian-executor`; figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::state::keys;
use jinlian_executor::*;
use jinlian_primitives::{LegacyTx, RecoveredTx, Transaction, TxBody};
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};
use std::time::Instant;

sol! {
    interface ITestToken {
        function transfer(address to, uint256 value) external returns (bool);
    }
}

const CHAIN: u64 = 1;
const SENDERS: usize = 1_000;
const TXS: usize = 10_000;
const BALANCE_OF_SLOT: u64 = 3; // TestToken storage layout: name, symbol, totalSupply, balanceOf

fn runtime() -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../../contracts/artifacts/TestToken.json")).unwrap();
    alloy_primitives::hex::decode(v["deployedBytecode"].as_str().unwrap()).unwrap()
}

fn balance_slot(holder: Address) -> U256 {
    U256::from_be_bytes(keccak256((holder, U256::from(BALANCE_OF_SLOT)).abi_encode()).0)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let token = Address::repeat_byte(0x70);
    let code = runtime();
    let code_hash = keccak256(&code);
    let keys: Vec<KeyPair> = (0..SENDERS)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            s[31] = 1;
            KeyPair::from_secret(CryptoSuite::Ecdsa, &s).unwrap()
        })
        .collect();

    // Our state.
    let mut state = MemState::new();
    state.entries.insert(
        keys::account(&token),
        AccountRecord { nonce: 1, balance: U256::ZERO, code_hash }.encode_to_vec(),
    );
    state.entries.insert(keys::code(&code_hash), code.clone());
    for k in &keys {
        state.set_account(k.address(), 0, U256::from(1_000_000u64));
        let slot = balance_slot(k.address());
        state.entries.insert(
            keys::storage(&token, &slot),
            U256::from(1_000_000u64).to_be_bytes::<32>().to_vec(),
        );
    }

    let sign = |to: TxKind, value: u64, data: Vec<u8>, gas: u64, i: usize| -> RecoveredTx {
        let k = &keys[i % SENDERS];
        let body = TxBody::Legacy(LegacyTx {
            nonce: (i / SENDERS) as u64,
            gas_price: 0,
            gas_limit: gas,
            to,
            value: U256::from(value),
            input: Bytes::from(data),
            chain_id: Some(CHAIN),
        });
        Transaction::sign(body, k).unwrap().into_recovered(CryptoSuite::Ecdsa).unwrap()
    };
    let recipient =
        |i: usize| Address::from_word(B256::from(U256::from(0xdead_0000u64 + (i as u64 % 5_000))));
    let erc20: Vec<RecoveredTx> = (0..TXS)
        .map(|i| {
            sign(
                TxKind::Call(token),
                0,
                ITestToken::transferCall { to: recipient(i), value: U256::from(1) }.abi_encode(),
                100_000,
                i,
            )
        })
        .collect();
    let native: Vec<RecoveredTx> =
        (0..TXS).map(|i| sign(TxKind::Call(recipient(i)), 1, vec![], 21_000, i)).collect();

    let cfg = ExecConfig { chain_id: CHAIN, ..ExecConfig::default() };
    let ctx = BlockContext {
        height: 1,
        timestamp_ms: 1_000_000,
        gas_limit: u64::MAX / 2,
        coinbase: Address::ZERO,
        parent_state_root: B256::ZERO,
    };

    // Bare revm on an in-memory database with the same accounts.
    let bare = |txs: &[RecoveredTx]| -> f64 {
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            token,
            AccountInfo {
                nonce: 1,
                code_hash,
                code: Some(Bytecode::new_raw(code.clone().into())),
                ..AccountInfo::default()
            },
        );
        for k in &keys {
            db.insert_account_info(
                k.address(),
                AccountInfo { balance: U256::from(1_000_000u64), ..AccountInfo::default() },
            );
            db.insert_account_storage(token, balance_slot(k.address()), U256::from(1_000_000u64))
                .unwrap();
        }
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|c| {
                c.chain_id = CHAIN;
                c.disable_fee_charge = true;
                c.disable_base_fee = true;
            })
            .modify_block_chained(|b| {
                b.number = U256::from(1);
                b.gas_limit = u64::MAX / 2;
                b.basefee = 0;
                b.prevrandao = Some(B256::ZERO);
            })
            .build_mainnet();
        let t = Instant::now();
        for rtx in txs {
            let env = TxEnv {
                caller: rtx.sender,
                gas_limit: rtx.tx.gas_limit(),
                gas_price: 0,
                kind: rtx.tx.to(),
                value: rtx.tx.value(),
                data: rtx.tx.input().clone(),
                nonce: rtx.tx.nonce().unwrap(),
                chain_id: Some(CHAIN),
                ..TxEnv::default()
            };
            let r = evm.transact_commit(env).unwrap();
            assert!(r.is_success());
        }
        t.elapsed().as_secs_f64()
    };
    let ours = |txs: &[RecoveredTx]| -> f64 {
        let t = Instant::now();
        let out = execute_block(&cfg, &state, &ctx, txs).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(out.receipts.iter().all(|r| r.is_success()));
        secs
    };

    // `JINLIAN_PROFILE=N`: only execute the ERC-20 block N times (for `perf record`).
    if let Some(n) = std::env::var("JINLIAN_PROFILE").ok().and_then(|v| v.parse::<usize>().ok()) {
        let t: f64 = (0..n).map(|_| ours(&erc20)).sum();
        println!("executor/profile: {n} ERC-20 blocks, {:.1} ms each", t * 1e3 / n as f64);
        return;
    }
    println!(
        "executor/block: {TXS} transactions from {SENDERS} senders, median of 5 (executor: EVM on one thread, receipts digested on a second; bare revm: one thread)"
    );
    for (name, txs) in [("ERC-20 transfers", &erc20), ("native transfers", &native)] {
        let b = median((0..5).map(|_| bare(txs)).collect());
        let o = median((0..5).map(|_| ours(txs)).collect());
        println!(
            "  {name:<17} executor {:>8.0} tx/s ({:>6.1} ms)   bare revm {:>8.0} tx/s ({:>6.1} ms)   ratio {:.2}",
            TXS as f64 / o,
            o * 1e3,
            TXS as f64 / b,
            b * 1e3,
            b / o
        );
    }
    println!("  peak memory (whole process, VmHWM): {:.0} MiB", peak_rss_mib());
}
