//! Shared fixtures of the system-contract tests: chain id 5, group 1.

#![allow(dead_code, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use jinlian_crypto::KeyPair;
use jinlian_executor::{BlockContext, ExecConfig};
use jinlian_primitives::{ConsortiumTx, RecoveredTx, Transaction, TxBody};

/// Chain id of the fixtures.
pub const CHAIN: u64 = 5;

pub fn cfg() -> ExecConfig {
    ExecConfig { chain_id: CHAIN, ..ExecConfig::default() }
}

pub fn ctx(height: u64) -> BlockContext {
    BlockContext {
        height,
        timestamp_ms: height * 1000,
        gas_limit: 1_000_000_000,
        coinbase: Address::ZERO,
        parent_state_root: B256::ZERO,
    }
}

/// A signed consortium transaction valid at `height` (blockLimit `height + 10`).
pub fn consortium(
    key: &KeyPair,
    id: u64,
    height: u64,
    to: TxKind,
    gas: u64,
    data: Vec<u8>,
) -> RecoveredTx {
    let body = TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(id),
        gas_price: U256::ZERO,
        gas_limit: gas,
        block_limit: height + 10,
        to,
        value: U256::ZERO,
        input: Bytes::from(data),
        chain_id: CHAIN,
        group_id: 1,
        extra_data: Bytes::new(),
    });
    Transaction::sign(body, key).unwrap().into_recovered(key.suite()).unwrap()
}

/// Creation bytecode of a contract compiled into contracts/artifacts.
pub fn artifact(name: &str) -> Vec<u8> {
    let text = match name {
        "TestToken" => include_str!("../../../../contracts/artifacts/TestToken.json"),
        "Probe" => include_str!("../../../../contracts/artifacts/Probe.json"),
        "Factory" => include_str!("../../../../contracts/artifacts/Factory.json"),
        "Versioned" => include_str!("../../../../contracts/artifacts/Versioned.json"),
        "NameCaller" => include_str!("../../../../contracts/artifacts/NameCaller.json"),
        other => panic!("no artifact {other}"),
    };
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap()
}

thread_local! {
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

/// A consortium transaction for the chain's next block, with a fresh randomid.
pub fn next_tx(chain: &Chain, key: &KeyPair, to: TxKind, gas: u64, data: Vec<u8>) -> RecoveredTx {
    let id = NEXT_ID.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    consortium(key, id, chain.next(), to, gas, data)
}

/// A chain of blocks over a memory state, one block per `run`.
pub struct Chain {
    pub state: jinlian_executor::MemState,
    pub height: u64,
    pub cfg: ExecConfig,
}

impl Chain {
    /// A genesis with the system contracts.
    pub fn new(cfg: ExecConfig) -> Self {
        let mut state = jinlian_executor::MemState::new();
        jinlian_executor::system::install_genesis(&mut state, &[]);
        Self { state, height: 0, cfg }
    }

    /// The next block's height.
    pub fn next(&self) -> u64 {
        self.height + 1
    }

    /// Executes the next block.
    pub fn run(&mut self, txs: &[RecoveredTx]) -> Vec<jinlian_primitives::Receipt> {
        let out = jinlian_executor::execute_block(&self.cfg, &self.state, &ctx(self.next()), txs)
            .unwrap();
        check_prior(&self.state, &out);
        self.state.apply(&out.write_set);
        self.height += 1;
        out.receipts
    }

    /// A read-only call on the latest state.
    pub fn call(&self, from: Address, to: Address, data: Vec<u8>) -> jinlian_executor::CallOutcome {
        let req = jinlian_executor::CallRequest {
            from: Some(from),
            to: TxKind::Call(to),
            data: data.into(),
            ..Default::default()
        };
        jinlian_executor::call(&self.cfg, &self.state, &ctx(self.next()), &req).unwrap()
    }
}

/// The values the executor reports as replaced are the parent's (code excepted).
pub fn check_prior(parent: &jinlian_executor::MemState, out: &jinlian_executor::BlockOutcome) {
    assert_eq!(out.prior.len(), out.write_set.len());
    for ((k, _), prior) in out.write_set.iter().zip(&out.prior) {
        if k[0] != b'c' {
            assert_eq!(prior, &parent.entries.get(k).cloned(), "prior value of {k:02x?}");
        }
    }
}
