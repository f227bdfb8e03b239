//! Consortium envelopes, blocks, certificates and receipts: round trips, strict decoding,
//! hostile input, and pinned hashes of fixed encodings.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, LogData, TxKind, U256, b256};
use jinlian_crypto::{CryptoSuite, KeyPair, PublicKey};
use jinlian_primitives::*;
use proptest::prelude::*;

fn consortium(random_id: u64, block_limit: u64, input: Vec<u8>) -> TxBody {
    TxBody::Consortium(ConsortiumTx {
        random_id: U256::from(random_id),
        gas_price: U256::from(30_000_000u64),
        gas_limit: 30_000_000,
        block_limit,
        to: TxKind::Call(Address::repeat_byte(0x22)),
        value: U256::ZERO,
        input: Bytes::from(input),
        chain_id: 1,
        group_id: 1,
        extra_data: Bytes::new(),
    })
}

fn suites() -> [CryptoSuite; 2] {
    [CryptoSuite::Ecdsa, CryptoSuite::Sm]
}

#[test]
fn consortium_envelope_sign_decode_verify_both_suites() {
    for suite in suites() {
        let key = KeyPair::from_secret(suite, &[0x31u8; 32]).unwrap();
        let tx = Transaction::sign(consortium(7, 500, vec![1, 2, 3]), &key).unwrap();
        let back = Transaction::decode(tx.encoded(), suite).unwrap();
        assert_eq!(back, tx);
        assert_eq!(back.hash(), suite.hash(tx.encoded()));
        assert_eq!(back.tx_type(), TxType::Consortium);
        assert_eq!(back.nonce(), None);
        assert_eq!(back.recover_sender(suite).unwrap(), key.address());
        // The signing hash is the hash of the first ten fields, as FISCO defines it.
        let other = if suite == CryptoSuite::Sm { CryptoSuite::Ecdsa } else { CryptoSuite::Sm };
        assert_ne!(back.signing_hash(suite), back.signing_hash(other));
        // Under the wrong suite the transaction is refused, at decoding (the signature
        // fields have the other suite's shape) or at recovery.
        let wrong = Transaction::decode(tx.encoded(), other).and_then(|t| t.recover_sender(other));
        assert!(wrong.is_err());
        // Changing any signed field changes the sender (or breaks the signature).
        let mut bytes = tx.encoded().to_vec();
        let pos = bytes.iter().position(|&b| b == 7).unwrap(); // the random id
        bytes[pos] = 8;
        let tampered = Transaction::decode(&bytes, suite).unwrap();
        assert_ne!(tampered.recover_sender(suite).ok(), Some(key.address()));
    }
}

#[test]
fn sm2_public_key_sent_as_63_byte_minimal_integer_is_accepted() {
    // Find a key whose public key starts with a zero byte, as 1 in 256 do: FISCO's Python SDK
    // sends such a key in `v` as 63 bytes.
    let key = (1u8..=255)
        .flat_map(|a| (1u8..=255).map(move |b| [a, b]))
        .find_map(|[a, b]| {
            let mut s = [0x5au8; 32];
            s[0] = a;
            s[1] = b;
            let k = KeyPair::from_secret(CryptoSuite::Sm, &s).unwrap();
            (k.public().0[0] == 0).then_some(k)
        })
        .unwrap();
    let tx = Transaction::sign(consortium(1, 10, vec![]), &key).unwrap();
    let TxSignature::Consortium { v, .. } = tx.signature() else { panic!("envelope") };
    assert_eq!(v.len(), 63);
    let back = Transaction::decode(tx.encoded(), CryptoSuite::Sm).unwrap();
    assert_eq!(back.recover_sender(CryptoSuite::Sm).unwrap(), key.address());
    // The same signature with the key written out as 64 bytes is also valid (FISCO nodes send
    // it that way); it is a different encoding and so a different hash.
    let TxSignature::Consortium { r, s, .. } = tx.signature().clone() else { panic!() };
    let full = TxSignature::Consortium { v: Bytes::copy_from_slice(key.public().as_bytes()), r, s };
    let padded = Transaction::from_parts(tx.body().clone(), full, CryptoSuite::Sm).unwrap();
    assert_ne!(padded.hash(), tx.hash());
    assert_eq!(
        Transaction::decode(padded.encoded(), CryptoSuite::Sm)
            .unwrap()
            .recover_sender(CryptoSuite::Sm)
            .unwrap(),
        key.address()
    );
}

#[test]
fn size_limit_and_shape_errors() {
    let big = vec![0u8; MAX_TX_BYTES];
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[2u8; 32]).unwrap();
    let tx = Transaction::sign(consortium(1, 10, big), &key).unwrap();
    assert!(matches!(
        Transaction::decode(tx.encoded(), CryptoSuite::Ecdsa),
        Err(CodecError::TooLarge { .. })
    ));
    assert_eq!(Transaction::decode(&[], CryptoSuite::Ecdsa), Err(CodecError::Empty));
    // A list of ten items (FISCO's old RC1 format) is neither envelope.
    let mut payload = Vec::new();
    for _ in 0..10 {
        alloy_rlp::Encodable::encode(&1u8, &mut payload);
    }
    let mut raw = Vec::new();
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut raw);
    raw.extend_from_slice(&payload);
    let err = Transaction::decode(&raw, CryptoSuite::Ecdsa).unwrap_err();
    assert!(err.to_string().contains("got 10"), "{err}");
    // Trailing bytes after a valid transaction.
    let mut trailing =
        Transaction::sign(consortium(1, 10, vec![]), &key).unwrap().encoded().to_vec();
    trailing.push(0);
    assert_eq!(Transaction::decode(&trailing, CryptoSuite::Ecdsa), Err(CodecError::TrailingBytes));
}

fn sample_header(seed: u8) -> Header {
    Header {
        parent_hash: B256::repeat_byte(seed),
        height: Height(u64::from(seed) * 1000 + 1),
        timestamp_ms: 1_764_000_000_000 + u64::from(seed),
        group_id: GroupId(1),
        chain_id: 20_261_130,
        proposer: 2,
        sealer_set_hash: B256::repeat_byte(0xaa),
        tx_root: B256::repeat_byte(0xbb),
        receipt_root: B256::repeat_byte(0xcc),
        state_root: B256::repeat_byte(0xdd),
        gas_used: 21_000,
        gas_limit: 300_000_000,
        logs_bloom: Bloom::ZERO,
        extra: Bytes::from_static(b"jinlian"),
    }
}

fn sample_receipt() -> Receipt {
    let logs = vec![Log {
        address: Address::repeat_byte(0x44),
        data: LogData::new_unchecked(
            vec![B256::repeat_byte(1), B256::repeat_byte(2)],
            Bytes::from_static(&[9, 9]),
        ),
    }];
    Receipt {
        status: status::OK,
        gas_used: 50_000,
        cumulative_gas_used: 71_000,
        contract_address: Some(Address::repeat_byte(0x55)),
        logs,
        output: Bytes::from_static(&[1, 2, 3]),
    }
}

/// Sealers sorted by node id, as consensus orders them.
fn sealers(suite: CryptoSuite, n: u8) -> Vec<KeyPair> {
    let mut keys: Vec<KeyPair> =
        (1..=n).map(|i| KeyPair::from_secret(suite, &[i; 32]).unwrap()).collect();
    keys.sort_by_key(|k| k.public());
    keys
}

fn certified_block(suite: CryptoSuite, keys: &[KeyPair], signers: &[usize]) -> Block {
    let key = KeyPair::from_secret(suite, &[0x77u8; 32]).unwrap();
    let txs: Vec<Transaction> =
        (0..3).map(|i| Transaction::sign(consortium(i, 9, vec![i as u8]), &key).unwrap()).collect();
    let ids: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
    let mut header = sample_header(1);
    header.sealer_set_hash = sealer_set_hash(suite, &ids);
    header.tx_root = tx_root(suite, txs.iter().map(|t| (t.hash(), key.address())));
    let hash = header.hash(suite);
    let signatures = signers
        .iter()
        .map(|&i| CommitSignature {
            sealer_index: i as u32,
            signature: Bytes::from(keys[i].sign(&commit_digest(suite, &hash, View(3))).to_bytes()),
        })
        .collect();
    Block {
        header,
        txs: txs
            .iter()
            .map(|t| BlockTx { raw: t.encoded().clone(), sender: key.address() })
            .collect(),
        certificate: Certificate { view: View(3), signatures },
    }
}

#[test]
fn certificates_need_a_quorum_of_distinct_valid_sealers() {
    assert_eq!([quorum(1), quorum(3), quorum(4), quorum(7), quorum(10)], [1, 3, 3, 5, 7]);
    for suite in suites() {
        let keys = sealers(suite, 4);
        let ids: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let block = certified_block(suite, &keys, &[0, 2, 3]);
        block.verify_certificate(suite, &ids).unwrap();
        block.verify_tx_root(suite).unwrap();
        let back = Block::decode(&block.encode_to_vec()).unwrap();
        assert_eq!(back, block);
        back.verify_certificate(suite, &ids).unwrap();
        let txs = back.transactions(suite).unwrap();
        assert_eq!(txs.len(), 3);

        // Two signatures of four are not a quorum.
        let short = certified_block(suite, &keys, &[1, 3]);
        assert!(matches!(
            short.verify_certificate(suite, &ids),
            Err(CertificateError::NoQuorum { .. })
        ));
        // The same sealer twice does not count twice.
        let mut dup = block.clone();
        dup.certificate.signatures[1] = dup.certificate.signatures[0].clone();
        assert!(matches!(dup.verify_certificate(suite, &ids), Err(CertificateError::BadIndex(_))));
        // A signature attributed to the wrong sealer fails.
        let mut wrong = block.clone();
        wrong.certificate.signatures[0].sealer_index = 1;
        assert!(wrong.verify_certificate(suite, &ids).is_err());
        // Out-of-range index.
        let mut oob = block.clone();
        oob.certificate.signatures[2].sealer_index = 9;
        assert!(matches!(oob.verify_certificate(suite, &ids), Err(CertificateError::BadIndex(9))));
        // The same signatures under another view do not verify: a certificate is one view's.
        let mut other_view = block.clone();
        other_view.certificate.view = View(4);
        assert!(matches!(
            other_view.verify_certificate(suite, &ids),
            Err(CertificateError::BadSignature { .. })
        ));
        // A changed header no longer matches the signatures.
        let mut changed = block.clone();
        changed.header.gas_used += 1;
        assert!(matches!(
            changed.verify_certificate(suite, &ids),
            Err(CertificateError::BadSignature { .. })
        ));
        // Another sealer list is refused before any signature is checked.
        let others: Vec<PublicKey> = sealers(suite, 5).iter().map(|k| k.public()).collect();
        assert!(matches!(
            block.verify_certificate(suite, &others),
            Err(CertificateError::WrongSealerSet { .. })
        ));
        // A changed sender breaks the tx root.
        let mut sender = block.clone();
        sender.txs[1].sender = Address::repeat_byte(1);
        assert!(matches!(sender.verify_tx_root(suite), Err(CodecError::RootMismatch { .. })));
    }
}

#[test]
fn receipt_roundtrip_and_bloom() {
    let r = sample_receipt();
    let bytes = alloy_rlp::encode(&r);
    assert_eq!(bytes.len(), alloy_rlp::Encodable::length(&r));
    assert_eq!(Receipt::decode_exact(&bytes).unwrap(), r);
    assert!(r.logs_bloom().contains_log(&r.logs[0]));
    let none = Receipt { contract_address: None, status: status::REVERT_INSTRUCTION, ..r.clone() };
    assert_eq!(Receipt::decode_exact(&alloy_rlp::encode(&none)).unwrap(), none);
    assert!(!none.is_success());
}

/// Hashes of fixed encodings. If one of these changes, the wire or storage format changed:
/// that breaks every existing chain, so it must be deliberate (and versioned).
#[test]
fn pinned_fixture_hashes() {
    let ecdsa = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x01u8; 32]).unwrap();
    let sm = KeyPair::from_secret(CryptoSuite::Sm, &[0x01u8; 32]).unwrap();
    let tx_e = Transaction::sign(consortium(42, 1000, vec![0xde, 0xad]), &ecdsa).unwrap();
    let tx_s = Transaction::sign(consortium(42, 1000, vec![0xde, 0xad]), &sm).unwrap();
    let legacy = Transaction::sign(
        TxBody::Legacy(LegacyTx {
            nonce: 3,
            gas_price: 0,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(0x33)),
            value: U256::from(1000u64),
            input: Bytes::new(),
            chain_id: Some(20_261_130),
        }),
        &ecdsa,
    )
    .unwrap();
    let header = sample_header(7);
    let receipt = sample_receipt();
    let got = [
        ("consortium ecdsa tx", tx_e.hash()),
        ("consortium sm tx", tx_s.signing_hash(CryptoSuite::Sm)),
        ("legacy tx", legacy.hash()),
        ("header ecdsa", header.hash(CryptoSuite::Ecdsa)),
        ("header sm", header.hash(CryptoSuite::Sm)),
        ("receipt", receipt.hash(CryptoSuite::Ecdsa)),
        (
            "merkle",
            merkle_root(
                CryptoSuite::Ecdsa,
                &[B256::repeat_byte(1), B256::repeat_byte(2), B256::repeat_byte(3)],
            ),
        ),
    ];
    let want = [
        b256!("356b8966ff337b3971179c3ac39e02bfea7ac7797aa72254b69488e21faddc2b"),
        b256!("d54f56926df326be7d72891db31e4aca1d496a1155d2c51ff4dc90ee82817340"),
        b256!("50dd5682436fffc23555477c6d140c09066da6849e5319b4208d5fc6dc92c192"),
        b256!("24b585b83b1bf70dd935e49a06d3b0695b0bc7e1d4c42fdf77851c10c6154721"),
        b256!("d23d79570fd8c3f81c3549a46a5db1560f6dbe539b0189bbb20a03c2e6b26add"),
        b256!("89e0c1e19ffd1e784b6e23e003011b58a944c1b13e1f88e1f002a62dbb736aa3"),
        b256!("7b90f75fdc6517e2b3630bca5463f82bf7e90dc6046d386d2dc302800144f179"),
    ];
    for ((name, g), w) in got.iter().zip(want) {
        assert_eq!(*g, w, "{name} changed");
    }
    // The SM2 signature is deterministic too (RFC 6979-style nonce), so its hash is pinned
    // through the signing hash above and checked for stability here.
    assert_eq!(
        Transaction::sign(consortium(42, 1000, vec![0xde, 0xad]), &sm).unwrap().hash(),
        tx_s.hash()
    );
}

fn arb_body() -> impl Strategy<Value = TxBody> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        any::<Option<[u8; 20]>>(),
        any::<u128>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(rid, gas, bl, to, value, input, chain, group, extra)| {
            TxBody::Consortium(ConsortiumTx {
                random_id: U256::from_be_bytes(rid),
                gas_price: U256::ZERO,
                gas_limit: gas,
                block_limit: bl,
                to: to.map_or(TxKind::Create, |a| TxKind::Call(Address::from(a))),
                value: U256::from(value),
                input: Bytes::from(input),
                chain_id: chain,
                group_id: group,
                extra_data: Bytes::from(extra),
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn consortium_roundtrip(body in arb_body(), sm: bool, seed in 1u8..200) {
        let suite = if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
        let key = KeyPair::from_secret(suite, &[seed; 32]).unwrap();
        let tx = Transaction::sign(body, &key).unwrap();
        let back = Transaction::decode(tx.encoded(), suite).unwrap();
        prop_assert_eq!(&back, &tx);
        prop_assert_eq!(back.recover_sender(suite).unwrap(), key.address());
    }

    #[test]
    fn header_and_block_roundtrip(seed: u8, extra in proptest::collection::vec(any::<u8>(), 0..100), view: u64) {
        let mut header = sample_header(seed);
        header.extra = Bytes::from(extra);
        let block = Block { header: header.clone(), txs: vec![BlockTx { raw: Bytes::from_static(&[0xc0]), sender: Address::ZERO }],
            certificate: Certificate { view: View(view), signatures: vec![CommitSignature { sealer_index: 1, signature: Bytes::from_static(&[1; 65]) }] } };
        let back = Block::decode(&block.encode_to_vec()).unwrap();
        prop_assert_eq!(&back, &block);
        prop_assert_eq!(back.hash(CryptoSuite::Sm), header.hash(CryptoSuite::Sm));
    }

    /// Arbitrary bytes never panic any decoder; whatever decodes re-encodes to the same bytes
    /// (strict, one encoding per value).
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for suite in suites() {
            if let Ok(tx) = Transaction::decode(&bytes, suite) {
                let again = Transaction::from_parts(tx.body().clone(), tx.signature().clone(), suite).unwrap();
                prop_assert_eq!(again.encoded().as_ref(), bytes.as_slice());
                let _ = tx.recover_sender(suite);
            }
        }
        if let Ok(b) = Block::decode(&bytes) {
            prop_assert_eq!(b.encode_to_vec(), bytes.clone());
        }
        if let Ok(r) = Receipt::decode_exact(&bytes) {
            prop_assert_eq!(alloy_rlp::encode(&r), bytes.clone());
        }
    }

    /// Valid encodings with random bytes changed, inserted or cut never panic, and whatever
    /// still decodes is canonical.
    #[test]
    fn mutated_encodings_never_panic(pos in any::<usize>(), byte: u8, op in 0u8..3, sm: bool, cut in any::<usize>()) {
        let suite = if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa };
        let key = KeyPair::from_secret(suite, &[3; 32]).unwrap();
        let tx = Transaction::sign(consortium(5, 6, vec![1; 40]), &key).unwrap();
        let keys = sealers(suite, 4);
        let block = certified_block(suite, &keys, &[0, 1, 2]).encode_to_vec();
        for valid in [tx.encoded().to_vec(), block, alloy_rlp::encode(sample_receipt())] {
            let mut m = valid.clone();
            let i = pos % m.len();
            match op {
                0 => m[i] = byte,
                1 => m.insert(i, byte),
                _ => m.truncate(cut % m.len()),
            }
            if let Ok(t) = Transaction::decode(&m, suite) {
                let again = Transaction::from_parts(t.body().clone(), t.signature().clone(), suite).unwrap();
                prop_assert_eq!(again.encoded().as_ref(), m.as_slice());
                let _ = t.recover_sender(suite);
            }
            if let Ok(b) = Block::decode(&m) {
                prop_assert_eq!(b.encode_to_vec(), m.clone());
                let _ = b.transactions(suite);
                let _ = b.verify_certificate(suite, &keys.iter().map(|k| k.public()).collect::<Vec<_>>());
            }
            if let Ok(r) = Receipt::decode_exact(&m) {
                prop_assert_eq!(alloy_rlp::encode(&r), m.clone());
            }
        }
    }
}

/// Decoding is bounded in memory: a length prefix claiming gigabytes is refused without
/// allocating, whatever the declared size.
#[test]
fn huge_length_prefixes_are_refused_without_allocating() {
    // A list header declaring 4 GiB of payload followed by 3 bytes.
    let raw = [0xfb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 1, 2, 3];
    assert!(Transaction::decode(&raw, CryptoSuite::Ecdsa).is_err());
    assert!(Block::decode(&raw).is_err());
    assert!(Receipt::decode_exact(&raw).is_err());
    let big = vec![0u8; MAX_BLOCK_BYTES + 1];
    assert!(matches!(Block::decode(&big), Err(CodecError::TooLarge { .. })));
}

/// Each consortium signature field has one accepted form, so a relay cannot re-encode a
/// transaction into another hash with the same signature.
#[test]
fn consortium_signature_fields_must_be_canonical() {
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x61u8; 32]).unwrap();
    let tx = Transaction::sign(consortium(3, 30, vec![]), &key).unwrap();
    let TxSignature::Consortium { v, r, s } = tx.signature().clone() else { panic!() };
    let with = |v: &[u8], r: &[u8], s: &[u8]| {
        let sig = TxSignature::Consortium {
            v: Bytes::copy_from_slice(v),
            r: Bytes::copy_from_slice(r),
            s: Bytes::copy_from_slice(s),
        };
        let t = Transaction::from_parts(tx.body().clone(), sig, CryptoSuite::Ecdsa).unwrap();
        Transaction::decode(t.encoded(), CryptoSuite::Ecdsa)
    };
    assert!(with(&v, &r, &s).is_ok());
    let parity = v[0] - 27;
    for bad_v in [vec![parity], vec![], vec![29], vec![0, v[0]]] {
        assert!(matches!(with(&bad_v, &r, &s), Err(CodecError::BadSignatureField(_))), "{bad_v:?}");
    }
    let mut padded_r = vec![0u8];
    padded_r.extend_from_slice(&r);
    assert!(matches!(with(&v, &padded_r, &s), Err(CodecError::BadSignatureField(_))));
    let mut padded_s = vec![0u8];
    padded_s.extend_from_slice(&s);
    assert!(matches!(with(&v, &r, &padded_s), Err(CodecError::BadSignatureField(_))));

    // SM2: a 63-byte v must not start with a zero byte (that would be a third form).
    let sm = KeyPair::from_secret(CryptoSuite::Sm, &[0x62u8; 32]).unwrap();
    let stx = Transaction::sign(consortium(3, 30, vec![]), &sm).unwrap();
    let TxSignature::Consortium { v, r, s } = stx.signature().clone() else { panic!() };
    assert_eq!(v.len(), 64, "this key has no leading zero byte");
    let short = TxSignature::Consortium { v: v.slice(1..), r, s };
    let t = Transaction::from_parts(stx.body().clone(), short, CryptoSuite::Sm).unwrap();
    let decoded = Transaction::decode(t.encoded(), CryptoSuite::Sm);
    if v[0] == 0 {
        assert!(decoded.is_ok());
    } else {
        // Dropping a non-zero byte is accepted as a form but names another key: refused later.
        assert!(decoded.unwrap().recover_sender(CryptoSuite::Sm).is_err());
    }
}

#[test]
fn an_empty_sealer_list_certifies_nothing() {
    let block =
        Block { header: sample_header(2), txs: vec![], certificate: Certificate::default() };
    assert_eq!(
        block.certificate.verify(CryptoSuite::Ecdsa, &block.hash(CryptoSuite::Ecdsa), &[]),
        Err(CertificateError::NoSealers)
    );
    let mut header = sample_header(2);
    header.sealer_set_hash = sealer_set_hash(CryptoSuite::Ecdsa, &[]);
    let block = Block { header, ..block };
    assert_eq!(block.verify_certificate(CryptoSuite::Ecdsa, &[]), Err(CertificateError::NoSealers));
}

/// The incremental builder gives exactly `merkle_root` for every tree size (0 to 300, which
/// covers every pattern of promoted nodes up to nine levels), in both suites.
#[test]
fn merkle_builder_matches_merkle_root() {
    use jinlian_primitives::{MerkleBuilder, merkle_root};
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let items: Vec<B256> = (0..300u64).map(|i| suite.hash(&i.to_be_bytes())).collect();
        for n in 0..=items.len() {
            let mut b = MerkleBuilder::new(suite);
            for it in &items[..n] {
                b.push(it);
            }
            assert_eq!(b.finish(), merkle_root(suite, &items[..n]), "{suite:?}, {n} items");
        }
    }
}
