//! The Rust SDK against a real chain (issue "JSON-RPC"): typed deploy, transactions and calls
//! with either suite, concurrent senders from one key, and a transaction proof fetched over
//! RPC that verifies offline and fails once any byte of it is changed.

#![allow(clippy::unwrap_used)]

mod common;

use alloy_primitives::{Address, U256};
use alloy_sol_types::sol;
use common::Net;
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_sdk::proof::{ProofError, verify};
use jinlian_sdk::{Client, Signer};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

#[test]
fn the_sdk_transacts_and_its_proofs_verify_offline_and_catch_any_change() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let net = Net::start_with(4, 0, suite, 0);
        let sealers: Vec<PublicKey> = net.node_ids()[..4].iter().map(|id| PublicKey(*id)).collect();
        let url = format!("http://{}", net.nodes[0].rpc);
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let client = Client::connect(&url).await.unwrap();
            let key = KeyPair::from_secret(suite, &[0x61; 32]).unwrap();
            let signer = Signer::new(&client, key).await.unwrap();
            let deployed = signer.deploy(common::token_code(U256::from(1_000_000))).await.unwrap();
            assert!(deployed.success(), "{deployed:?}");
            let token = deployed.contract_address.unwrap();
            // Twenty transfers from one key at once: no nonces to coordinate.
            let to = Address::repeat_byte(0x66);
            let call = transferCall { to, value: U256::from(3) };
            let sends = (0..20).map(|_| signer.transact(token, &call));
            let receipts = futures::future::join_all(sends).await;
            assert!(receipts.iter().all(|r| r.as_ref().unwrap().success()));
            let bal = client.call_typed(token, &balanceOfCall { who: to }).await.unwrap();
            assert_eq!(bal, U256::from(60));

            let r = receipts[7].as_ref().unwrap();
            let proof = client.proof(r.transaction_hash).await.unwrap().unwrap();
            let v = verify(&proof, &sealers).unwrap();
            assert_eq!(v.tx.tx.hash(), r.transaction_hash);
            assert_eq!(v.block_hash, r.block_hash);
            assert!(v.receipt.is_success());
            assert_eq!(v.receipt.logs.len(), 1);
            // One byte of the receipt changed: the proof no longer holds.
            for i in 0..proof.receipt.len() {
                let mut bad = proof.clone();
                let mut b = bad.receipt.to_vec();
                b[i] ^= 1;
                bad.receipt = b.into();
                assert!(
                    verify(&bad, &sealers).is_err(),
                    "receipt byte {i} changed and still verified"
                );
            }
            for i in [0, proof.header.len() / 2, proof.header.len() - 1] {
                let mut bad = proof.clone();
                let mut b = bad.header.to_vec();
                b[i] ^= 1;
                bad.header = b.into();
                assert!(
                    verify(&bad, &sealers).is_err(),
                    "header byte {i} changed and still verified"
                );
            }
            let mut bad = proof.clone();
            bad.sender = Address::repeat_byte(1);
            assert_eq!(verify(&bad, &sealers).unwrap_err(), ProofError::Sender);
            // Sealers the verifier does not trust.
            let strangers: Vec<PublicKey> = (1..=4u8)
                .map(|i| KeyPair::from_secret(suite, &[i; 32]).unwrap().public())
                .collect();
            assert_eq!(verify(&proof, &strangers).unwrap_err(), ProofError::NotTrustedSealers);
            // A transaction not in the chain has no proof.
            assert!(client.proof(alloy_primitives::B256::repeat_byte(3)).await.unwrap().is_none());
            // A key of the other suite is refused before anything is sent.
            let other =
                if suite == CryptoSuite::Ecdsa { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
            let e = Signer::new(&client, KeyPair::from_secret(other, &[9; 32]).unwrap())
                .await
                .unwrap_err();
            assert!(e.to_string().contains("the chain uses"), "{e}");
        });
    }
}
