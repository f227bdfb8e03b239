//! Cross-checks against independent implementations: k256 (RustCrypto secp256k1) for ECDSA,
//! the pure-Python `gmssl` package for SM2 and SM3, and `efficient-sm2` (the faster SM2
//! verifier DESIGN §12 asked to measure) for SM2 signatures in both directions.

#![allow(clippy::unwrap_used)]

use alloy_primitives::B256;
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey, Signature};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn secp256k1_agrees_with_k256() {
    use k256::ecdsa::SigningKey;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..32 {
        let key = KeyPair::generate(CryptoSuite::Ecdsa, &mut rng);
        let mut d = [0u8; 32];
        rng.fill_bytes(&mut d);
        let digest = B256::from(d);
        // Their signature, our recovery.
        let theirs = SigningKey::from_slice(&key.secret().0).unwrap();
        let (sig, recid) = theirs.sign_prehash_recoverable(&d).unwrap();
        let sig = sig.normalize_s().map(|s| (s, true)).unwrap_or((sig, false));
        let parity = recid.is_y_odd() ^ sig.1;
        let bytes = sig.0.to_bytes();
        let ours = Signature::Ecdsa {
            r: B256::from_slice(&bytes[..32]),
            s: B256::from_slice(&bytes[32..]),
            y_parity: parity,
        };
        assert_eq!(CryptoSuite::Ecdsa.recover(&digest, &ours).unwrap(), key.public());
        // Their public key equals ours.
        let point = theirs.verifying_key().to_encoded_point(false);
        assert_eq!(&point.as_bytes()[1..], key.public().as_bytes());
        // Our signature, their verification.
        let Signature::Ecdsa { r, s, .. } = key.sign(&digest) else { panic!("suite") };
        let mut rs = [0u8; 64];
        rs[..32].copy_from_slice(r.as_slice());
        rs[32..].copy_from_slice(s.as_slice());
        let k_sig = k256::ecdsa::Signature::from_slice(&rs).unwrap();
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        theirs.verifying_key().verify_prehash(&d, &k_sig).unwrap();
    }
}

/// The Python interpreter with `gmssl` installed: `$JINLIAN_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("JINLIAN_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn gmssl_peer(request: &serde_json::Value) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gmssl_peer.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python (set JINLIAN_PYTHON to an interpreter with gmssl; .ci/run does)");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gmssl peer failed (is gmssl installed? .ci/run makes a venv with it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn sm2_and_sm3_agree_with_python_gmssl() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut ours_keys = Vec::new();
    let mut verify = Vec::new();
    let mut sign = Vec::new();
    let mut sm3 = Vec::new();
    let mut messages = Vec::new();
    for i in 0..12 {
        let key = KeyPair::generate(CryptoSuite::Sm, &mut rng);
        let mut msg = vec![0u8; 1 + (rng.next_u32() % 200) as usize];
        rng.fill_bytes(&mut msg);
        let digest = CryptoSuite::Sm.hash(&msg);
        let sig = key.sign(&digest);
        let Signature::Sm { r, s, .. } = sig else { panic!("suite") };
        // Even entries carry our valid signatures; odd ones a signature over another message,
        // which the peer must refuse (so a peer that says "true" to everything fails the test).
        let signed_msg = if i % 2 == 0 { digest } else { CryptoSuite::Sm.hash(b"other") };
        verify.push(serde_json::json!({
            "pub": key.public().to_hex(),
            "msg": hex::encode(signed_msg),
            "sig": format!("{}{}", hex::encode(r), hex::encode(s)),
        }));
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        sign.push(serde_json::json!({"secret": hex::encode(secret), "msg": hex::encode(digest)}));
        sm3.push(serde_json::Value::String(hex::encode(&msg)));
        ours_keys.push(secret);
        messages.push((msg, digest));
    }
    // Include the empty message and a 64-byte block boundary for SM3.
    sm3.push(serde_json::Value::String(String::new()));
    sm3.push(serde_json::Value::String(hex::encode([0x61u8; 64])));
    let answer = gmssl_peer(&serde_json::json!({"verify": verify, "sign": sign, "sm3": sm3}));

    // Our signatures verify there (and the wrong-message ones do not).
    let verdicts: Vec<bool> =
        answer["verify"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap()).collect();
    let expected: Vec<bool> = (0..12).map(|i| i % 2 == 0).collect();
    assert_eq!(verdicts, expected);

    // Their signatures verify here, their public keys equal ours for the same secrets, and a
    // signature of theirs does not verify for a different digest.
    for (i, item) in answer["sign"].as_array().unwrap().iter().enumerate() {
        let ours = KeyPair::from_secret(CryptoSuite::Sm, &ours_keys[i]).unwrap();
        let public: PublicKey = item["pub"].as_str().unwrap().parse().unwrap();
        assert_eq!(public, ours.public());
        let rs = hex::decode(item["sig"].as_str().unwrap()).unwrap();
        let sig = Signature::Sm {
            r: B256::from_slice(&rs[..32]),
            s: B256::from_slice(&rs[32..]),
            public,
        };
        let digest = messages[i].1;
        assert_eq!(CryptoSuite::Sm.recover(&digest, &sig).unwrap(), public);
        assert!(CryptoSuite::Sm.recover(&B256::repeat_byte(0xee), &sig).is_err());
    }

    // SM3 digests agree.
    let digests = answer["sm3"].as_array().unwrap();
    let mut inputs: Vec<Vec<u8>> = messages.iter().map(|(m, _)| m.clone()).collect();
    inputs.push(Vec::new());
    inputs.push(vec![0x61u8; 64]);
    assert_eq!(digests.len(), inputs.len());
    for (msg, theirs) in inputs.iter().zip(digests) {
        assert_eq!(hex::encode(CryptoSuite::Sm.hash(msg)), theirs.as_str().unwrap());
    }
}

#[test]
fn sm2_agrees_with_efficient_sm2_in_both_directions() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..16 {
        let key = KeyPair::generate(CryptoSuite::Sm, &mut rng);
        let mut d = [0u8; 32];
        rng.fill_bytes(&mut d);
        let digest = B256::from(d);
        // Ours, their verification; a changed message fails.
        let Signature::Sm { r, s, public } = key.sign(&digest) else { unreachable!() };
        let pk = efficient_sm2::PublicKey::from_slice(public.as_bytes());
        let sig = efficient_sm2::Signature::new(r.as_slice(), s.as_slice()).unwrap();
        sig.verify(&pk, digest.as_slice()).unwrap();
        let mut other = d;
        other[0] ^= 1;
        assert!(sig.verify(&pk, &other).is_err());
        // Theirs, our verification.
        let theirs = efficient_sm2::KeyPair::new(&key.secret().0).unwrap();
        assert_eq!(theirs.public_key().bytes_less_safe()[1..], public.as_bytes()[..]);
        let sig = theirs.sign(digest.as_slice()).unwrap();
        let ours = Signature::Sm { r: B256::from(sig.r()), s: B256::from(sig.s()), public };
        assert_eq!(CryptoSuite::Sm.recover(&digest, &ours).unwrap(), public);
        assert!(CryptoSuite::Sm.recover(&B256::from(other), &ours).is_err());
    }
}
