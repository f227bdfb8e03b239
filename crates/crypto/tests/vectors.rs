//! Standard test vectors: SM3 (GB/T 32905), SM2 (GB/T 32918 / GM/T 0003.5 Annex A), Keccak-256,
//! known Ethereum private key → address pairs, and secp256k1 malleability rules.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, address, b256, hex};
use jinlian_crypto::{
    CryptoError, CryptoSuite, KeyFile, KeyPair, PublicKey, Signature, sm2_message_digest,
    sm2_verify_message,
};

#[test]
fn sm3_matches_gbt_32905_examples() {
    // GB/T 32905-2016 Annex A.1: "abc".
    assert_eq!(
        CryptoSuite::Sm.hash(b"abc"),
        b256!("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    );
    // Annex A.2: "abcd" repeated 16 times (64 bytes, two blocks after padding).
    assert_eq!(
        CryptoSuite::Sm.hash("abcd".repeat(16).as_bytes()),
        b256!("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    );
    // Incremental hashing gives the same digest as one shot.
    assert_eq!(CryptoSuite::Sm.hash_parts(&[b"ab", b"", b"c"]), CryptoSuite::Sm.hash(b"abc"));
}

#[test]
fn keccak_matches_known_digests() {
    assert_eq!(
        CryptoSuite::Ecdsa.hash(b""),
        b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    );
    assert_eq!(
        CryptoSuite::Ecdsa.hash(b"abc"),
        b256!("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
    );
}

// GM/T 0003.5-2012 (GB/T 32918.5) Annex A.2: signature example on the recommended curve with the
// default user id 1234567812345678.
const GBT_SECRET: [u8; 32] =
    hex!("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
const GBT_PUBLIC: [u8; 64] = hex!(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
);
const GBT_E: B256 = b256!("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640");
const GBT_R: B256 = b256!("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3");
const GBT_S: B256 = b256!("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA");

#[test]
fn sm2_public_key_of_gbt_example() {
    let key = KeyPair::from_secret(CryptoSuite::Sm, &GBT_SECRET).unwrap();
    assert_eq!(key.public(), PublicKey(GBT_PUBLIC));
}

#[test]
fn sm2_digest_of_gbt_example() {
    // e = SM3(Z_A || "message digest"), with Z_A from the default id and the example key.
    assert_eq!(sm2_message_digest(&PublicKey(GBT_PUBLIC), b"message digest"), GBT_E);
}

#[test]
fn sm2_verifies_gbt_example_signature_and_refuses_tampering() {
    let public = PublicKey(GBT_PUBLIC);
    sm2_verify_message(&public, b"message digest", &GBT_R, &GBT_S).unwrap();
    assert_eq!(
        sm2_verify_message(&public, b"message digesT", &GBT_R, &GBT_S),
        Err(CryptoError::BadSignature)
    );
    let mut s = GBT_S;
    s.0[31] ^= 1;
    assert_eq!(
        sm2_verify_message(&public, b"message digest", &GBT_R, &s),
        Err(CryptoError::BadSignature)
    );
    let mut other = GBT_PUBLIC;
    other[63] ^= 1; // no longer on the curve
    assert!(matches!(
        sm2_verify_message(&PublicKey(other), b"message digest", &GBT_R, &GBT_S),
        Err(CryptoError::InvalidPublicKey { .. })
    ));
    assert!(matches!(
        sm2_verify_message(&public, b"message digest", &B256::ZERO, &GBT_S),
        Err(CryptoError::MalformedSignature(_))
    ));
}

#[test]
fn sm2_sign_recover_roundtrip_and_wrong_digest() {
    let key = KeyPair::from_secret(CryptoSuite::Sm, &GBT_SECRET).unwrap();
    let digest = CryptoSuite::Sm.hash(b"tx");
    let sig = key.sign(&digest);
    assert_eq!(sig.to_bytes().len(), 128);
    assert_eq!(CryptoSuite::Sm.recover(&digest, &sig).unwrap(), key.public());
    assert_eq!(
        CryptoSuite::Sm.recover(&CryptoSuite::Sm.hash(b"tx2"), &sig),
        Err(CryptoError::BadSignature)
    );
    // A signature that carries someone else's key does not verify.
    let other = KeyPair::from_secret(CryptoSuite::Sm, &[9u8; 32]).unwrap();
    let Signature::Sm { r, s, .. } = sig else { panic!("suite") };
    let forged = Signature::Sm { r, s, public: other.public() };
    assert_eq!(CryptoSuite::Sm.recover(&digest, &forged), Err(CryptoError::BadSignature));
    // SM address = last 20 bytes of SM3(public key).
    assert_eq!(key.address(), Address::from_slice(&CryptoSuite::Sm.hash(&GBT_PUBLIC)[12..]));
}

#[test]
fn known_ethereum_keys_give_known_addresses() {
    let cases: [(B256, Address); 4] = [
        (B256::with_last_byte(1), address!("7E5F4552091A69125d5DfCb7b8C2659029395Bdf")),
        (B256::with_last_byte(2), address!("2B5AD5c4795c026514f8317c7a215E218DcCD6cF")),
        (
            // The first development account of Hardhat and Anvil.
            b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
            address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        ),
        (
            // The example key of the web3.js accounts documentation.
            b256!("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"),
            address!("2c7536E3605D9C16a7a3D7b1898e529396a65c23"),
        ),
    ];
    for (secret, want) in cases {
        let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &secret.0).unwrap();
        assert_eq!(key.address(), want, "secret {secret}");
        let digest = CryptoSuite::Ecdsa.hash(b"hello");
        let sig = key.sign(&digest);
        assert_eq!(CryptoSuite::Ecdsa.recover_address(&digest, &sig).unwrap(), want);
    }
}

#[test]
fn invalid_secret_keys_are_refused() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        assert_eq!(
            KeyPair::from_secret(suite, &[0u8; 32]).unwrap_err(),
            CryptoError::InvalidSecretKey
        );
        assert_eq!(
            KeyPair::from_secret(suite, &[0xffu8; 32]).unwrap_err(),
            CryptoError::InvalidSecretKey
        );
    }
    // SM2 needs d in [1, n-2]: n-1 would make 1 + d non-invertible when signing.
    let n_minus_1 = hex!("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122");
    let n_minus_2 = hex!("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54121");
    assert_eq!(
        KeyPair::from_secret(CryptoSuite::Sm, &n_minus_1).unwrap_err(),
        CryptoError::InvalidSecretKey
    );
    let edge = KeyPair::from_secret(CryptoSuite::Sm, &n_minus_2).unwrap();
    let d = B256::repeat_byte(3);
    assert_eq!(CryptoSuite::Sm.recover(&d, &edge.sign(&d)).unwrap(), edge.public());
}

const SECP_N: B256 = b256!("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

fn sub_from_n(s: B256) -> B256 {
    use alloy_primitives::U256;
    B256::from(U256::from_be_bytes(SECP_N.0) - U256::from_be_bytes(s.0))
}

#[test]
fn secp256k1_high_s_and_malleated_signatures_are_refused() {
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x11u8; 32]).unwrap();
    let digest = CryptoSuite::Ecdsa.hash(b"pay 10");
    let sig = key.sign(&digest);
    let Signature::Ecdsa { r, s, y_parity } = sig else { panic!("suite") };
    assert!(s.0 <= sub_from_n(s).0, "our signer must produce low-S");
    // The malleated twin (r, n - s, !v) is mathematically valid for the same key; we refuse it.
    let twin = Signature::Ecdsa { r, s: sub_from_n(s), y_parity: !y_parity };
    assert_eq!(CryptoSuite::Ecdsa.recover(&digest, &twin), Err(CryptoError::HighS));
    // Out-of-range and zero values.
    for (r2, s2) in [(B256::ZERO, s), (r, B256::ZERO), (SECP_N, s), (r, SECP_N)] {
        let bad = Signature::Ecdsa { r: r2, s: s2, y_parity };
        assert!(matches!(
            CryptoSuite::Ecdsa.recover(&digest, &bad),
            Err(CryptoError::MalformedSignature(_))
        ));
    }
    // The wrong parity recovers some other key, never ours.
    let flipped = Signature::Ecdsa { r, s, y_parity: !y_parity };
    assert_ne!(CryptoSuite::Ecdsa.recover(&digest, &flipped).ok(), Some(key.public()));
    assert_eq!(
        CryptoSuite::Ecdsa.verify(&digest, &flipped, &key.public()),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn suites_are_never_mixed() {
    let ecdsa = KeyPair::from_secret(CryptoSuite::Ecdsa, &[3u8; 32]).unwrap();
    let sm = KeyPair::from_secret(CryptoSuite::Sm, &[3u8; 32]).unwrap();
    let d = B256::repeat_byte(7);
    assert!(matches!(
        CryptoSuite::Sm.recover(&d, &ecdsa.sign(&d)),
        Err(CryptoError::WrongSuite { .. })
    ));
    assert!(matches!(
        CryptoSuite::Ecdsa.recover(&d, &sm.sign(&d)),
        Err(CryptoError::WrongSuite { .. })
    ));
    assert_ne!(ecdsa.address(), sm.address());
}

#[test]
fn signature_bytes_roundtrip_and_bad_lengths() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let key = KeyPair::from_secret(suite, &[5u8; 32]).unwrap();
        let sig = key.sign(&B256::repeat_byte(1));
        assert_eq!(Signature::from_bytes(suite, &sig.to_bytes()).unwrap(), sig);
        assert!(Signature::from_bytes(suite, &sig.to_bytes()[1..]).is_err());
    }
    let mut bytes = [1u8; 65];
    bytes[64] = 27; // v must be a recovery id here, not 27/28
    assert!(Signature::from_bytes(CryptoSuite::Ecdsa, &bytes).is_err());
}

#[test]
fn key_file_roundtrip_and_tampering() {
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let key = KeyPair::from_secret(suite, &[0x42u8; 32]).unwrap();
        let text = KeyFile::new(&key).to_json();
        let back = KeyFile::parse(&text).unwrap();
        assert_eq!(back.public(), key.public());
        assert_eq!(back.suite(), suite);
        let other = KeyPair::from_secret(suite, &[0x43u8; 32]).unwrap();
        let tampered = text.replace(
            &format!("{:?}", key.address()).to_lowercase()[2..],
            &format!("{:?}", other.address()).to_lowercase()[2..],
        );
        assert_ne!(tampered, text);
        assert!(matches!(KeyFile::parse(&tampered), Err(CryptoError::InvalidKeyFile(_))));
    }
    assert!(KeyFile::parse("not json").is_err());
    assert!(KeyFile::parse(r#"{"suite":"rsa","secret_key":"0x01"}"#).is_err());
    assert!(KeyFile::parse(r#"{"suite":"sm","secret_key":"0x01"}"#).is_err());
}

#[test]
fn node_id_text_forms() {
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[8u8; 32]).unwrap();
    let hex = key.public().to_string();
    assert_eq!(hex.len(), 128);
    assert_eq!(hex.parse::<PublicKey>().unwrap(), key.public());
    assert_eq!(format!("0x04{hex}").parse::<PublicKey>().unwrap(), key.public());
    assert!(hex[2..].parse::<PublicKey>().is_err());
    CryptoSuite::Ecdsa.validate_public_key(&key.public()).unwrap();
    assert!(CryptoSuite::Ecdsa.validate_public_key(&PublicKey([1u8; 64])).is_err());
}
