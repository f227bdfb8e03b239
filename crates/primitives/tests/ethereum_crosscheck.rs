//! Ethereum envelopes decoded by us agree with an independent implementation (alloy-consensus):
//! same hash, same sender, same fields, in both directions.

#![allow(clippy::unwrap_used)]

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_eips::eip2930::{AccessList as AlloyAccessList, AccessListItem as AlloyItem};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use jinlian_crypto::{CryptoSuite, KeyPair};
use jinlian_primitives::{
    AccessListItem, CodecError, Eip1559Tx, Eip2930Tx, LegacyTx, Transaction, TxBody, TxType,
};
use proptest::prelude::*;

fn alloy_sign<T: SignableTransaction<alloy_primitives::Signature>>(
    tx: T,
    secret: &[u8; 32],
) -> alloy_consensus::Signed<T> {
    let key = k256::ecdsa::SigningKey::from_slice(secret).unwrap();
    let (sig, recid) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    tx.into_signed(alloy_primitives::Signature::from((sig, recid)))
}

fn arb_to() -> impl Strategy<Value = TxKind> {
    prop_oneof![
        Just(TxKind::Create),
        any::<[u8; 20]>().prop_map(|a| TxKind::Call(Address::from(a)))
    ]
}

fn arb_access_list() -> impl Strategy<Value = Vec<(Address, Vec<B256>)>> {
    proptest::collection::vec(
        (any::<[u8; 20]>(), proptest::collection::vec(any::<[u8; 32]>(), 0..3))
            .prop_map(|(a, ks)| (Address::from(a), ks.into_iter().map(B256::from).collect())),
        0..3,
    )
}

fn alloy_list(al: &[(Address, Vec<B256>)]) -> AlloyAccessList {
    AlloyAccessList(
        al.iter().map(|(a, k)| AlloyItem { address: *a, storage_keys: k.clone() }).collect(),
    )
}

fn our_list(al: &[(Address, Vec<B256>)]) -> Vec<AccessListItem> {
    al.iter().map(|(a, k)| AccessListItem { address: *a, storage_keys: k.clone() }).collect()
}

fn check_alloy_bytes(env: &TxEnvelope) -> Transaction {
    let raw = env.encoded_2718();
    let ours = Transaction::decode(&raw, CryptoSuite::Ecdsa).unwrap();
    assert_eq!(ours.hash(), *env.tx_hash());
    assert_eq!(ours.recover_sender(CryptoSuite::Ecdsa).unwrap(), env.recover_signer().unwrap());
    assert_eq!(ours.encoded().as_ref(), raw.as_slice());
    ours
}

fn check_our_bytes(tx: &Transaction, key: &KeyPair) {
    let env = TxEnvelope::decode_2718(&mut tx.encoded().as_ref()).unwrap();
    assert_eq!(*env.tx_hash(), tx.hash());
    assert_eq!(env.recover_signer().unwrap(), key.address());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn legacy_agrees(nonce: u64, gas_price: u128, gas_limit: u64, to in arb_to(), value: [u8; 32],
                     input: Vec<u8>, chain_id in proptest::option::of(1u64..1_000_000_000), seed in 1u8..255) {
        let secret = [seed; 32];
        let value = U256::from_be_bytes(value);
        let tx = TxLegacy { chain_id, nonce, gas_price, gas_limit, to, value, input: Bytes::from(input.clone()) };
        let env = TxEnvelope::from(alloy_sign(tx, &secret));
        let ours = check_alloy_bytes(&env);
        prop_assert_eq!(ours.tx_type(), TxType::Legacy);
        prop_assert_eq!(ours.chain_id(), chain_id);
        prop_assert_eq!(ours.nonce(), Some(nonce));
        prop_assert_eq!(ours.to(), to);

        let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &secret).unwrap();
        let body = TxBody::Legacy(LegacyTx { nonce, gas_price, gas_limit, to, value, input: Bytes::from(input), chain_id });
        let signed = Transaction::sign(body, &key).unwrap();
        check_our_bytes(&signed, &key);
    }

    #[test]
    fn eip2930_agrees(nonce: u64, gas_price: u128, gas_limit: u64, to in arb_to(), value: u128,
                      input: Vec<u8>, chain_id in 1u64..u64::MAX, al in arb_access_list(), seed in 1u8..255) {
        let secret = [seed; 32];
        let tx = TxEip2930 { chain_id, nonce, gas_price, gas_limit, to, value: U256::from(value),
                             access_list: alloy_list(&al), input: Bytes::from(input.clone()) };
        let env = TxEnvelope::from(alloy_sign(tx, &secret));
        let ours = check_alloy_bytes(&env);
        prop_assert_eq!(ours.tx_type(), TxType::Eip2930);
        prop_assert_eq!(ours.access_list().unwrap(), &our_list(&al));

        let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &secret).unwrap();
        let body = TxBody::Eip2930(Eip2930Tx { chain_id, nonce, gas_price, gas_limit, to,
            value: U256::from(value), input: Bytes::from(input), access_list: our_list(&al) });
        check_our_bytes(&Transaction::sign(body, &key).unwrap(), &key);
    }

    #[test]
    fn eip1559_agrees(nonce: u64, prio: u128, max_fee: u128, gas_limit: u64, to in arb_to(),
                      value: u128, input: Vec<u8>, chain_id in 1u64..u64::MAX, al in arb_access_list(), seed in 1u8..255) {
        let secret = [seed; 32];
        let tx = TxEip1559 { chain_id, nonce, gas_limit, max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: prio, to, value: U256::from(value),
            access_list: alloy_list(&al), input: Bytes::from(input.clone()) };
        let env = TxEnvelope::from(alloy_sign(tx, &secret));
        let ours = check_alloy_bytes(&env);
        prop_assert_eq!(ours.tx_type(), TxType::Eip1559);
        prop_assert_eq!(ours.gas_limit(), gas_limit);
        prop_assert_eq!(ours.chain_id(), Some(chain_id));

        let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &secret).unwrap();
        let body = TxBody::Eip1559(Eip1559Tx { chain_id, nonce, max_priority_fee_per_gas: prio,
            max_fee_per_gas: max_fee, gas_limit, to, value: U256::from(value),
            input: Bytes::from(input), access_list: our_list(&al) });
        check_our_bytes(&Transaction::sign(body, &key).unwrap(), &key);
    }
}

#[test]
fn high_s_ethereum_transaction_is_refused() {
    let secret = [7u8; 32];
    let tx = TxEip1559 {
        chain_id: 5,
        nonce: 1,
        gas_limit: 21_000,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    };
    let signed = alloy_sign(tx.clone(), &secret);
    let sig = *signed.signature();
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let twin = alloy_primitives::Signature::new(sig.r(), n - sig.s(), !sig.v());
    let env = TxEnvelope::from(tx.into_signed(twin));
    let ours = Transaction::decode(&env.encoded_2718(), CryptoSuite::Ecdsa).unwrap();
    assert!(matches!(
        ours.recover_sender(CryptoSuite::Ecdsa),
        Err(CodecError::Signature(jinlian_crypto::CryptoError::HighS))
    ));
}

#[test]
fn ethereum_envelopes_are_refused_on_sm_chains() {
    let secret = [9u8; 32];
    let tx = TxLegacy {
        chain_id: Some(1),
        gas_limit: 21_000,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    };
    let env = TxEnvelope::from(alloy_sign(tx, &secret));
    assert!(matches!(
        Transaction::decode(&env.encoded_2718(), CryptoSuite::Sm),
        Err(CodecError::SuiteNotAllowed { .. })
    ));
    let sm_key = KeyPair::from_secret(CryptoSuite::Sm, &secret).unwrap();
    let body = TxBody::Legacy(LegacyTx {
        nonce: 0,
        gas_price: 0,
        gas_limit: 1,
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::new(),
        chain_id: Some(1),
    });
    assert!(Transaction::sign(body, &sm_key).is_err());
}

#[test]
fn blob_and_set_code_types_are_refused_with_a_reason() {
    for (ty, word) in [(3u8, "blob"), (4u8, "7702")] {
        let err = Transaction::decode(&[ty, 0xc0], CryptoSuite::Ecdsa).unwrap_err();
        assert!(err.to_string().contains(word), "{err}");
    }
}
