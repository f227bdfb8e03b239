//! Solidity contracts (contracts/src, compiled by contracts/build.sh with solc-js into
//! contracts/artifacts) run through the executor: ERC-20 balances and logs, custom errors and
//! revert reasons, block and chain fields, a system contract called from Solidity, CREATE2.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::{SolCall, SolError, SolEvent, SolValue, sol};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::system::install_genesis;
use jinlian_executor::*;
use jinlian_primitives::{LegacyTx, Receipt, RecoveredTx, Transaction, TxBody, status};

sol! {
    interface ITestToken {
        function transfer(address to, uint256 value) external returns (bool);
        function approve(address spender, uint256 value) external returns (bool);
        function transferFrom(address from, address to, uint256 value) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
        event Transfer(address indexed from, address indexed to, uint256 value);
        error InsufficientBalance(uint256 available, uint256 required);
    }
    interface IProbe {
        function fields() external view returns (uint256 number, uint256 timestamp, uint256 chainId, uint256 gasLimit);
        function record() external;
        function fail(string why) external pure;
        function config(string key) external view returns (string value, int256 enableNum);
        event Seen(uint256 indexed number, uint256 timestamp, uint256 chainId, address origin);
    }
    interface IFactory {
        function deploy(bytes32 salt) external returns (address at);
        function predict(bytes32 salt) external view returns (address);
    }
}

const CHAIN: u64 = 20_261_130;

fn artifact(name: &str) -> Vec<u8> {
    let text = match name {
        "TestToken" => include_str!("../../../contracts/artifacts/TestToken.json"),
        "Probe" => include_str!("../../../contracts/artifacts/Probe.json"),
        "Factory" => include_str!("../../../contracts/artifacts/Factory.json"),
        _ => unreachable!(),
    };
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    alloy_primitives::hex::decode(v["bytecode"].as_str().unwrap()).unwrap()
}

struct Chain {
    state: MemState,
    height: u64,
    root: B256,
    cfg: ExecConfig,
}

impl Chain {
    fn new() -> Self {
        let mut state = MemState::new();
        install_genesis(&mut state, &[("tx_count_limit", "1000")]);
        Self {
            state,
            height: 0,
            root: B256::ZERO,
            cfg: ExecConfig { chain_id: CHAIN, ..ExecConfig::default() },
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            height: self.height + 1,
            timestamp_ms: 1_764_500_000_000 + self.height * 2_000 + 345,
            gas_limit: 100_000_000,
            coinbase: Address::ZERO,
            parent_state_root: self.root,
        }
    }

    fn run(&mut self, txs: &[RecoveredTx]) -> Vec<Receipt> {
        let out = execute_block(&self.cfg, &self.state, &self.ctx(), txs).unwrap();
        common::check_prior(&self.state, &out);
        self.state.apply(&out.write_set);
        self.height += 1;
        self.root = out.state_root;
        out.receipts
    }

    fn call(&self, to: Address, data: Vec<u8>) -> CallOutcome {
        let req = CallRequest { to: TxKind::Call(to), data: data.into(), ..Default::default() };
        call(&self.cfg, &self.state, &self.ctx(), &req).unwrap()
    }
}

fn tx(key: &KeyPair, nonce: u64, to: TxKind, data: Vec<u8>) -> RecoveredTx {
    let body = TxBody::Legacy(LegacyTx {
        nonce,
        gas_price: 0,
        gas_limit: 3_000_000,
        to,
        value: U256::ZERO,
        input: Bytes::from(data),
        chain_id: Some(CHAIN),
    });
    Transaction::sign(body, key).unwrap().into_recovered(CryptoSuite::Ecdsa).unwrap()
}

fn deploy_code(name: &str, args: Vec<u8>) -> Vec<u8> {
    let mut code = artifact(name);
    code.extend(args);
    code
}

#[test]
fn erc20_balances_logs_custom_errors_and_reasons() {
    let mut chain = Chain::new();
    let (alice, bob) = (
        KeyPair::from_secret(CryptoSuite::Ecdsa, &[1; 32]).unwrap(),
        KeyPair::from_secret(CryptoSuite::Ecdsa, &[2; 32]).unwrap(),
    );
    let supply = U256::from(1_000_000u64);
    let r =
        chain.run(&[tx(&alice, 0, TxKind::Create, deploy_code("TestToken", supply.abi_encode()))]);
    assert_eq!(r[0].status, status::OK);
    let token = r[0].contract_address.unwrap();
    assert_eq!(token, alice.address().create(0));
    // The constructor's Transfer from the zero address.
    let minted = ITestToken::Transfer::decode_log_data(&r[0].logs[0].data).unwrap();
    assert_eq!((minted.from, minted.to, minted.value), (Address::ZERO, alice.address(), supply));

    let send = ITestToken::transferCall { to: bob.address(), value: U256::from(250) }.abi_encode();
    let r = chain.run(&[tx(&alice, 1, TxKind::Call(token), send)]);
    assert_eq!(r[0].status, status::OK);
    assert!(ITestToken::transferCall::abi_decode_returns(&r[0].output).unwrap());
    let ev = ITestToken::Transfer::decode_log_data(&r[0].logs[0].data).unwrap();
    assert_eq!((ev.from, ev.to, ev.value), (alice.address(), bob.address(), U256::from(250)));
    assert!(r[0].logs_bloom().contains_log(&r[0].logs[0]));
    // Gas of a first transfer to a new holder with this compiler output (pinned: a change
    // means the EVM rules or the artifact changed).
    assert_eq!(r[0].gas_used, 51_321, "gas of TestToken.transfer");
    let balance = |who: Address, chain: &Chain| {
        let out = chain.call(token, ITestToken::balanceOfCall { who }.abi_encode());
        ITestToken::balanceOfCall::abi_decode_returns(&out.output).unwrap()
    };
    assert_eq!(balance(bob.address(), &chain), U256::from(250));
    assert_eq!(balance(alice.address(), &chain), supply - U256::from(250));

    // Bob (zero ether balance, no fees) overspends: a custom error with its arguments.
    let over =
        ITestToken::transferCall { to: alice.address(), value: U256::from(251) }.abi_encode();
    let r = chain.run(&[tx(&bob, 0, TxKind::Call(token), over)]);
    assert_eq!(r[0].status, status::REVERT_INSTRUCTION);
    let err = ITestToken::InsufficientBalance::abi_decode(&r[0].output).unwrap();
    assert_eq!((err.available, err.required), (U256::from(250), U256::from(251)));
    // transferFrom without allowance: a require reason.
    let steal = ITestToken::transferFromCall {
        from: alice.address(),
        to: bob.address(),
        value: U256::from(1),
    }
    .abi_encode();
    let r = chain.run(&[tx(&bob, 1, TxKind::Call(token), steal)]);
    assert_eq!(
        alloy_sol_types::Revert::abi_decode(&r[0].output).unwrap().reason,
        "allowance too low"
    );
    assert_eq!(balance(bob.address(), &chain), U256::from(250), "reverts change nothing");
}

#[test]
fn contracts_see_block_fields_reasons_and_system_contracts() {
    let mut chain = Chain::new();
    let dev = KeyPair::from_secret(CryptoSuite::Ecdsa, &[3; 32]).unwrap();
    let r = chain.run(&[tx(&dev, 0, TxKind::Create, artifact("Probe"))]);
    let probe = r[0].contract_address.unwrap();

    let out = chain.call(probe, IProbe::fieldsCall {}.abi_encode());
    let f = IProbe::fieldsCall::abi_decode_returns(&out.output).unwrap();
    let ctx = chain.ctx();
    assert_eq!(f.number, U256::from(ctx.height));
    assert_eq!(f.timestamp, U256::from(ctx.timestamp_ms / 1000), "block.timestamp is in seconds");
    assert_eq!(f.chainId, U256::from(CHAIN));
    assert_eq!(f.gasLimit, U256::from(ctx.gas_limit));

    let r = chain.run(&[tx(&dev, 1, TxKind::Call(probe), IProbe::recordCall {}.abi_encode())]);
    let seen = IProbe::Seen::decode_log_data(&r[0].logs[0].data).unwrap();
    assert_eq!((seen.number, seen.origin), (U256::from(2), dev.address()));

    let out = chain.call(probe, IProbe::failCall { why: "not today".into() }.abi_encode());
    assert_eq!(out.status, status::REVERT_INSTRUCTION);
    assert_eq!(alloy_sol_types::Revert::abi_decode(&out.output).unwrap().reason, "not today");

    // A contract reading SystemConfig (0x1000) through its Solidity interface.
    let out = chain.call(probe, IProbe::configCall { key: "tx_count_limit".into() }.abi_encode());
    assert!(out.is_success());
    let v = IProbe::configCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!(v.value, "1000");
}

#[test]
fn create2_addresses_match_ethereum() {
    let mut chain = Chain::new();
    let dev = KeyPair::from_secret(CryptoSuite::Ecdsa, &[4; 32]).unwrap();
    let r = chain.run(&[tx(&dev, 0, TxKind::Create, artifact("Factory"))]);
    let factory = r[0].contract_address.unwrap();
    let salt = B256::repeat_byte(0x5a);
    let r = chain.run(&[tx(
        &dev,
        1,
        TxKind::Call(factory),
        IFactory::deployCall { salt }.abi_encode(),
    )]);
    assert_eq!(r[0].status, status::OK);
    let at = IFactory::deployCall::abi_decode_returns(&r[0].output).unwrap();
    let predicted = IFactory::predictCall::abi_decode_returns(
        &chain.call(factory, IFactory::predictCall { salt }.abi_encode()).output,
    )
    .unwrap();
    assert_eq!(at, predicted);
    assert_eq!(at, factory.create2(salt, keccak256(artifact("Probe"))), "CREATE2 as Ethereum");
    // The deployed copy works.
    let out = chain.call(at, IProbe::fieldsCall {}.abi_encode());
    assert!(out.is_success());
}
