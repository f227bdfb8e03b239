//! `jinlian keygen` as a user runs it.

#![allow(clippy::unwrap_used)]

use jinlian_crypto::{CryptoSuite, KeyFile};
use std::process::Command;

fn jinlian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jinlian")).args(args).output().unwrap()
}

#[test]
fn keygen_writes_a_private_key_file_and_prints_its_identity() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, suite) in [(None, CryptoSuite::Ecdsa), (Some("--sm"), CryptoSuite::Sm)] {
        let path = dir.path().join(format!("{suite}.json"));
        let mut args = vec!["keygen", "--out", path.to_str().unwrap()];
        args.extend(flag);
        let out = jinlian(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();

        let key = KeyFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(key.suite(), suite);
        assert!(stdout.contains(&key.address().to_checksum(None)), "{stdout}");
        assert!(stdout.contains(&key.public().to_hex()), "{stdout}");
        assert_eq!(key.address(), suite.address_of(&key.public()));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "key file must be readable only by its owner");
        }

        // Never overwrite: the second run fails and the file is unchanged.
        let before = std::fs::read(&path).unwrap();
        let again = jinlian(&args);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

#[test]
fn keygen_json_output_and_fresh_keys_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut addresses = Vec::new();
    for i in 0..2 {
        let path = dir.path().join(format!("k{i}.json"));
        let out = jinlian(&["keygen", "--json", "--out", path.to_str().unwrap()]);
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let key = KeyFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["suite"], "ecdsa");
        assert_eq!(v["node_id"], key.public().to_hex());
        addresses.push(key.address());
    }
    assert_ne!(addresses[0], addresses[1]);
}

#[test]
fn keygen_reports_unwritable_paths_and_bad_flags() {
    let out = jinlian(&["keygen", "--out", "/nonexistent-dir/key.json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("directory /nonexistent-dir does not exist"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let out = jinlian(&["keygen", "--out", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    let out = jinlian(&["keygen", "--curve", "x"]);
    assert!(!out.status.success());
    let help = jinlian(&["keygen", "--help"]);
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("--sm") && text.contains("--out"));
}

#[test]
fn keygen_to_stdout_prints_the_key_file_and_summary_on_stderr() {
    let out = jinlian(&["keygen", "--sm", "--out", "-"]);
    assert!(out.status.success());
    let key = KeyFile::parse(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(key.suite(), CryptoSuite::Sm);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&key.public().to_hex()));
}

/// A write that fails (here: the file size limit is 0, as on a full disk) must not leave an
/// empty key file behind that would then block a retry.
#[cfg(target_os = "linux")]
#[test]
fn failed_writes_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    // Ignoring SIGXFSZ survives exec, so writes fail with EFBIG instead of killing the process.
    let script = format!(
        "trap '' XFSZ; ulimit -f 0; exec '{}' keygen --out '{}'",
        env!("CARGO_BIN_EXE_jinlian"),
        path.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "left files behind");
    // A retry without the limit works.
    assert!(jinlian(&["keygen", "--out", path.to_str().unwrap()]).status.success());
    assert!(KeyFile::parse(&std::fs::read_to_string(&path).unwrap()).is_ok());
}
