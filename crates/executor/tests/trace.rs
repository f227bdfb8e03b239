//! Call traces (`trace_call`, geth's `callTracer` shape): nested frames with their kinds,
//! addresses, gas and failures, including frames that end at once (system contracts).

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, B256, TxKind};
use alloy_sol_types::{SolCall, sol};
use common::*;
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::{CallRequest, create_address, trace_call, trace_transaction};

sol! {
    function deploy(bytes32 salt) external returns (address at);
    function fail(string why) external pure;
    function config(string key) external view returns (string value, int256 enableNum);
}

fn trace(
    chain: &Chain,
    from: Address,
    to: Address,
    data: Vec<u8>,
) -> (jinlian_executor::CallOutcome, jinlian_executor::CallFrame) {
    let req = CallRequest {
        from: Some(from),
        to: TxKind::Call(to),
        data: data.into(),
        ..Default::default()
    };
    trace_call(&chain.cfg, &chain.state, &ctx(chain.next()), &req).unwrap()
}

#[test]
fn call_traces_show_nested_frames_failures_and_system_contract_calls() {
    let mut chain = Chain::new(cfg());
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x21; 32]).unwrap();
    let me = key.address();
    let r = chain.run(&[next_tx(&chain, &key, TxKind::Create, 3_000_000, artifact("Factory"))]);
    let factory = r[0].contract_address.unwrap();
    let r = chain.run(&[next_tx(&chain, &key, TxKind::Create, 3_000_000, artifact("Probe"))]);
    let probe = r[0].contract_address.unwrap();

    // A factory deploying with CREATE2: one CALL frame holding one CREATE2 frame.
    let salt = B256::repeat_byte(7);
    let (out, root) = trace(&chain, me, factory, deployCall { salt }.abi_encode());
    assert!(out.is_success());
    let created = deployCall::abi_decode_returns(&out.output).unwrap();
    assert_eq!((root.kind, root.from, root.to), ("CALL", me, Some(factory)));
    assert_eq!(root.gas_used, out.gas_used, "the top frame reports the call's gas");
    assert_eq!(root.calls.len(), 1, "{root:#?}");
    let child = &root.calls[0];
    assert_eq!((child.kind, child.from, child.to), ("CREATE2", factory, Some(created)));
    assert!(child.error.is_none() && child.gas_used > 0 && child.gas_used < root.gas_used);
    assert!(!child.input.is_empty(), "the init code is shown");

    // A revert: the frame says so and keeps the revert data.
    let (out, root) = trace(&chain, me, probe, failCall { why: "nope".into() }.abi_encode());
    assert!(!out.is_success());
    assert_eq!(root.error.as_deref(), Some("execution reverted"));
    assert_eq!(alloy_sol_types::decode_revert_reason(&root.output).unwrap(), "revert: nope");

    // A view reading the system configuration: a STATICCALL to 0x1000 that ends at once.
    let (out, root) =
        trace(&chain, me, probe, configCall { key: "tx_count_limit".into() }.abi_encode());
    assert!(out.is_success());
    assert_eq!(root.calls.len(), 1, "{root:#?}");
    let sys = &root.calls[0];
    assert_eq!(
        (sys.kind, sys.from, sys.to),
        ("STATICCALL", probe, Some(jinlian_executor::system::SYSTEM_CONFIG))
    );
    assert!(sys.error.is_none() && !sys.output.is_empty());
}

#[test]
fn a_committed_transaction_is_traced_after_the_ones_before_it_in_its_block() {
    let mut chain = Chain::new(cfg());
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x22; 32]).unwrap();
    let me = key.address();
    // One block: deploy a factory, CREATE2 through it, then the same salt again (a collision).
    let factory = create_address(CryptoSuite::Ecdsa, &me, 0);
    let salt = B256::repeat_byte(9);
    let data = deployCall { salt }.abi_encode();
    let txs = vec![
        next_tx(&chain, &key, TxKind::Create, 3_000_000, artifact("Factory")),
        next_tx(&chain, &key, TxKind::Call(factory), 3_000_000, data.clone()),
        next_tx(&chain, &key, TxKind::Call(factory), 3_000_000, data),
    ];
    let before = chain.state.clone();
    let block = ctx(chain.next());
    let receipts = chain.run(&txs);
    assert_eq!(receipts[0].contract_address, Some(factory));

    // The first call sees the factory deployed by the transaction before it.
    let root = trace_transaction(&chain.cfg, &before, &block, &txs, 1).unwrap();
    assert_eq!((root.kind, root.from, root.to), ("CALL", me, Some(factory)));
    assert_eq!((root.gas, root.gas_used), (3_000_000, receipts[1].gas_used));
    assert_eq!(root.calls.len(), 1, "{root:#?}");
    assert_eq!(root.calls[0].kind, "CREATE2");
    assert!(root.calls[0].error.is_none(), "{root:#?}");

    // The second one meets the contract the first one created: its CREATE2 fails.
    let root = trace_transaction(&chain.cfg, &before, &block, &txs, 2).unwrap();
    assert_eq!(root.gas_used, receipts[2].gas_used);
    assert_eq!(root.calls.len(), 1, "{root:#?}");
    assert!(root.calls[0].error.is_some() && root.calls[0].to.is_none(), "{root:#?}");

    // The deployment itself is a CREATE frame.
    let root = trace_transaction(&chain.cfg, &before, &block, &txs, 0).unwrap();
    assert_eq!((root.kind, root.to), ("CREATE", Some(factory)));
    assert!(trace_transaction(&chain.cfg, &before, &block, &txs, 3).is_err());
}
