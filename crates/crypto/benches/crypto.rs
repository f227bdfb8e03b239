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
        let op = if suite == CryptoSuite::Ecdsa {
            "recover"
        } else {
            "verify"
        };
        g.bench_function(BenchmarkId::new(op, suite), |b| {
            b.iter(|| suite.recover(black_box(&digest), black_box(&sig)).unwrap())
        });
        g.bench_function(BenchmarkId::new("sign", suite), |b| {
            b.iter(|| key.sign(black_box(&digest)))
        });
    }
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
