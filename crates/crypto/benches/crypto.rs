//! Crypto suite benchmarks: signature recovery/verification per second and hash throughput.
//!
//! `cargo bench -p jinlian-crypto`; figures go to docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jinlian_crypto::{CryptoSuite, KeyPair};
use std::hint::black_box;

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("signature");
    g.throughput(Throughput::Elements(1));
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        let key = KeyPair::from_secret(suite, &[0x21u8; 32]).unwrap();
        let digest = suite.hash(b"a transaction signing hash");
        let sig = key.sign(&digest);
        let op = if suite == CryptoSuite::Ecdsa { "recover" } else { "verify" };
        g.bench_function(BenchmarkId::new(op, suite), |b| {
            b.iter(|| suite.recover(black_box(&digest), black_box(&sig)).unwrap())
        });
        g.bench_function(BenchmarkId::new("sign", suite), |b| {
            b.iter(|| key.sign(black_box(&digest)))
        });
    }
    // Baseline: the pure-Rust k256 0.13 recovery that alloy and revm bring along.
    let key = KeyPair::from_secret(CryptoSuite::Ecdsa, &[0x21u8; 32]).unwrap();
    let digest = CryptoSuite::Ecdsa.hash(b"a transaction signing hash");
    let jinlian_crypto::Signature::Ecdsa { r, s, y_parity } = key.sign(&digest) else {
        unreachable!()
    };
    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(r.as_slice());
    rs[32..].copy_from_slice(s.as_slice());
    let sig = k256::ecdsa::Signature::from_slice(&rs).unwrap();
    let recid = k256::ecdsa::RecoveryId::new(y_parity, false);
    g.bench_function("recover/k256-baseline", |b| {
        b.iter(|| {
            k256::ecdsa::VerifyingKey::recover_from_prehash(
                black_box(digest.as_slice()),
                &sig,
                recid,
            )
            .unwrap()
        })
    });
    // SM2: efficient-sm2 0.2.5 verifying the same signature of ours (it computes the same
    // e = SM3(Z_A ‖ msg) with the default id; checked before timing, and a tampered
    // signature must fail).
    let key = KeyPair::from_secret(CryptoSuite::Sm, &[0x21u8; 32]).unwrap();
    let digest = CryptoSuite::Sm.hash(b"a transaction signing hash");
    let jinlian_crypto::Signature::Sm { r, s, public } = key.sign(&digest) else { unreachable!() };
    let pk = efficient_sm2::PublicKey::from_slice(public.as_bytes());
    let sig = efficient_sm2::Signature::new(r.as_slice(), s.as_slice()).unwrap();
    sig.verify(&pk, digest.as_slice()).unwrap();
    let mut bad = s;
    bad.0[31] ^= 1;
    let tampered = efficient_sm2::Signature::new(r.as_slice(), bad.as_slice()).unwrap();
    assert!(tampered.verify(&pk, digest.as_slice()).is_err());
    g.bench_function("verify/efficient-sm2", |b| {
        b.iter(|| sig.verify(black_box(&pk), black_box(digest.as_slice())).unwrap())
    });
    // Its curve arithmetic alone: e = SM3(Z_A ‖ msg) computed by our code (as a node would
    // have to, since its `verify` computes Z_A with `libsm`), then `verify_digest`.
    g.bench_function("verify/efficient-sm2-digest-by-us", |b| {
        b.iter(|| {
            let e = jinlian_crypto::sm2_message_digest(black_box(&public), digest.as_slice());
            sig.verify_digest(black_box(&pk), e.as_slice()).unwrap()
        })
    });
    g.finish();
}

fn hashes(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    let data = vec![0x5au8; 1 << 20];
    g.throughput(Throughput::Bytes(data.len() as u64));
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        g.bench_function(BenchmarkId::new("1MiB", suite), |b| {
            b.iter(|| suite.hash(black_box(&data)))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("hash-small");
    g.throughput(Throughput::Elements(1));
    for suite in [CryptoSuite::Ecdsa, CryptoSuite::Sm] {
        g.bench_function(BenchmarkId::new("64B", suite), |b| {
            b.iter(|| suite.hash(black_box(&data[..64])))
        });
    }
    g.finish();
}

criterion_group!(benches, signatures, hashes);
criterion_main!(benches);
