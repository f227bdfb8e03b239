//! 国密 mode: on `sm` chains `CREATE` and `CREATE2` derive addresses with SM3, and the
//! `KECCAK256` opcode is SM3, so a contract predicting a CREATE2 address (Factory.predict,
//! which hashes with `keccak256`) agrees with where the chain puts it.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{B256, TxKind, keccak256};
use alloy_sol_types::{SolCall, sol};
use common::{Chain, artifact, cfg};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_executor::*;
use jinlian_primitives::status;

mod common;

sol! {
    interface IFactory {
        function deploy(bytes32 salt) external returns (address at);
        function predict(bytes32 salt) external view returns (address);
    }
}

#[test]
fn sm_chains_derive_contract_addresses_with_sm3() {
    let sm = CryptoSuite::Sm;
    let mut chain = Chain::new(ExecConfig { suite: sm, ..cfg() });
    let dev = KeyPair::from_secret(sm, &[8; 32]).unwrap();
    let deploy = common::consortium(&dev, 1, 1, TxKind::Create, 5_000_000, artifact("Factory"));
    let r = chain.run(&[deploy]);
    assert_eq!(r[0].status, status::OK);
    let factory = r[0].contract_address.unwrap();
    assert_eq!(factory, create_address(sm, &dev.address(), 0), "SM3(rlp([sender, nonce]))");
    assert_ne!(factory, dev.address().create(0), "not Keccak's address");

    let salt = B256::repeat_byte(0x5a);
    let tx = common::consortium(
        &dev,
        2,
        2,
        TxKind::Call(factory),
        5_000_000,
        IFactory::deployCall { salt }.abi_encode(),
    );
    let r = chain.run(&[tx]);
    assert_eq!(r[0].status, status::OK, "{r:?}");
    let at = IFactory::deployCall::abi_decode_returns(&r[0].output).unwrap();
    let probe_hash = sm.hash(&artifact("Probe"));
    assert_eq!(at, create2_address(sm, &factory, salt, &probe_hash));
    assert_ne!(at, factory.create2(salt, keccak256(artifact("Probe"))));
    let predicted = chain.call(dev.address(), factory, IFactory::predictCall { salt }.abi_encode());
    assert_eq!(IFactory::predictCall::abi_decode_returns(&predicted.output).unwrap(), at);
    // The deployed copy has code and runs.
    assert!(chain.call(dev.address(), at, keccak256("fields()")[..4].to_vec()).is_success());
}
