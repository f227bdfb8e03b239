//! `jinlian chain new` and `jinlian chain add-node`: everything a consortium needs to run a
//! chain on real hosts, in one directory:
//!
//! ```text
//! chain.json                      what was generated (nodes, agencies, addresses, node ids)
//! genesis.json                    group 1's genesis, the same on every node
//! ca/ca.crt, ca/ca.key            the chain CA (keep the key offline)
//! agencies/<A>/agency.crt, .key   one CA per agency (the agency keeps its key)
//! nodes/<name>/                   one directory per node, copied to its host as a whole:
//!     config.toml, genesis.json, node.key.json (consensus key),
//!     tls/ca.crt, tls/agency.crt, tls/node.crt, tls/node.key
//! ```
//!
//! Private keys are written readable only by their owner; nothing existing is overwritten.

use crate::config::{NetworkSection, NodeConfig, NodeSection, RpcSection, TlsSection};
use crate::files::{write_private_file, write_public_file};
use crate::genesis::{Funded, Genesis, GenesisConfig, Suite};
use crate::pki::{PemPair, new_agency_ca, new_chain_ca, new_node_cert};
use anyhow::{Context, Result, bail, ensure};
use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair, PublicKey};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// A node's role in group 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Votes.
    Sealer,
    /// Follows (full data, no vote).
    Observer,
    /// Issued by `add-node`: not in genesis; joins by an `addObserver` transaction.
    Candidate,
}

/// One node as `chain.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// Directory name under `nodes/`.
    pub name: String,
    /// Its agency.
    pub agency: String,
    /// Peer-to-peer address other nodes dial (`host:port`).
    pub p2p: String,
    /// Its JSON-RPC address (on its host).
    pub rpc: SocketAddr,
    /// Its node id.
    pub node_id: PublicKey,
    /// Its role at generation.
    pub role: Role,
}

/// `chain.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Chain name.
    pub name: String,
    /// Crypto suite.
    pub suite: Suite,
    /// Chain id.
    pub chain_id: u64,
    /// Group id.
    pub group_id: u32,
    /// Agencies, in order.
    pub agencies: Vec<String>,
    /// Nodes, in order.
    pub nodes: Vec<NodeEntry>,
    /// First JSON-RPC port on each host.
    pub rpc_port_base: u16,
}

/// What `chain new` is asked for.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// Chain name.
    pub name: String,
    /// Crypto suite.
    pub suite: CryptoSuite,
    /// Chain id.
    pub chain_id: u64,
    /// Agency names.
    pub agencies: Vec<String>,
    /// Sealers: `host:port`, optionally `AGENCY@host:port` (else agencies take turns).
    pub sealers: Vec<String>,
    /// Observers, the same way.
    pub observers: Vec<String>,
    /// Funded accounts.
    pub accounts: Vec<Funded>,
    /// ChainGovernance committee (they add and remove nodes, change the system config,
    /// freeze accounts). Empty: `new_chain` generates an admin key (`admin.key.json`) and
    /// makes its address the committee, so a new chain is never open to anyone.
    pub committee: Vec<alloy_primitives::Address>,
    /// Starting system configuration.
    pub config: GenesisConfig,
    /// First JSON-RPC port on each host.
    pub rpc_port_base: u16,
    /// Genesis time (ms since the Unix epoch).
    pub timestamp_ms: u64,
}

fn check_name(what: &str, name: &str) -> Result<()> {
    ensure!(
        !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{what} name {name:?} must be 1 to 64 letters, digits, '-' or '_'"
    );
    Ok(())
}

/// Splits `AGENCY@host:port` (the agency optional) and checks the address.
fn parse_endpoint(text: &str) -> Result<(Option<String>, String, u16)> {
    let (agency, addr) = match text.split_once('@') {
        Some((a, rest)) => (Some(a.to_string()), rest),
        None => (None, text),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("{text:?} is not host:port (e.g. 10.0.0.1:30300)"))?;
    let port: u16 =
        port.parse().ok().filter(|p| *p > 0).with_context(|| format!("bad port in {text:?}"))?;
    ensure!(!host.is_empty(), "no host in {text:?}");
    let ip_ok = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4())
        || (host.starts_with('[')
            && host.ends_with(']')
            && host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok());
    let name_ok = host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    ensure!(
        ip_ok || name_ok,
        "{text:?}: {host:?} is not an IPv4 address, a [IPv6] address or a host name"
    );
    if let Some(a) = &agency {
        ensure!(!a.is_empty() && !a.contains('@'), "{text:?}: write AGENCY@host:port");
    }
    Ok((agency, host.to_string(), port))
}

fn listen_addr(host: &str, port: u16) -> SocketAddr {
    // A literal IP is listened on as such; a host name means "this host": all interfaces.
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    SocketAddr::new(ip, port)
}

fn read_pair(dir: &Path, cert: &str, key: &str) -> Result<PemPair> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .with_context(|| format!("cannot read {}", dir.join(f).display()))
    };
    Ok(PemPair { cert: read(cert)?, key: read(key)? })
}

fn mkdir(p: &Path) -> Result<()> {
    std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))
}

/// Generates a new chain into `dir` (which must not exist or be empty).
pub fn new_chain(dir: &Path, spec: &ChainSpec) -> Result<Manifest> {
    check_name("chain", &spec.name)?;
    ensure!(!spec.agencies.is_empty(), "give at least one agency (--agencies A,B,...)");
    for (i, a) in spec.agencies.iter().enumerate() {
        check_name("agency", a)?;
        ensure!(!spec.agencies[..i].contains(a), "agency {a:?} is listed twice");
    }
    ensure!(!spec.sealers.is_empty(), "give at least one sealer (--sealers host:port,...)");
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_none();
        ensure!(empty, "{} exists and is not empty; choose a new directory", dir.display());
    }
    // Lay out the nodes first, so bad input fails before anything is written.
    let mut planned = Vec::new();
    let mut turn = 0usize;
    let mut seen_p2p = std::collections::BTreeSet::new();
    for (role, list) in [(Role::Sealer, &spec.sealers), (Role::Observer, &spec.observers)] {
        for text in list {
            let (agency, host, port) = parse_endpoint(text)?;
            let agency = match agency {
                Some(a) => {
                    ensure!(
                        spec.agencies.contains(&a),
                        "{text:?} names agency {a:?}, which is not in --agencies"
                    );
                    a
                }
                None => {
                    let a = spec.agencies[turn % spec.agencies.len()].clone();
                    turn += 1;
                    a
                }
            };
            ensure!(seen_p2p.insert((host.clone(), port)), "{host}:{port} is given twice");
            planned.push((role, agency, host, port));
        }
    }
    let mut manifest = Manifest {
        name: spec.name.clone(),
        suite: spec.suite.into(),
        chain_id: spec.chain_id,
        group_id: 1,
        agencies: spec.agencies.clone(),
        nodes: Vec::new(),
        rpc_port_base: spec.rpc_port_base,
    };
    let mut keys = Vec::new();
    for (role, agency, host, port) in planned {
        let key = KeyPair::generate(spec.suite, &mut rand::rng());
        manifest.nodes.push(plan_entry(&manifest, &agency, &host, port, &key, role)?);
        keys.push(key);
    }
    let admin = spec.committee.is_empty().then(|| KeyPair::generate(spec.suite, &mut rand::rng()));
    let committee = match &admin {
        Some(k) => vec![k.address()],
        None => spec.committee.clone(),
    };
    let genesis = Genesis {
        chain_name: spec.name.clone(),
        suite: spec.suite.into(),
        chain_id: spec.chain_id,
        group_id: 1,
        timestamp_ms: spec.timestamp_ms,
        block_gas_limit: spec.config.tx_gas_limit.max(1_000_000_000),
        sealers: role_ids(&manifest, Role::Sealer),
        observers: role_ids(&manifest, Role::Observer),
        accounts: spec.accounts.clone(),
        committee,
        config: spec.config.clone(),
    };
    genesis.validate()?;
    // A node's RPC port must not be another node's peer port on the same host.
    for n in &manifest.nodes {
        let host = n.p2p.rsplit_once(':').map_or("", |x| x.0);
        let rpc = n.rpc.port().to_string();
        if manifest.nodes.iter().any(|o| o.p2p.rsplit_once(':') == Some((host, rpc.as_str()))) {
            bail!(
                "{}'s RPC port {rpc} is also a peer port on {host}; choose another --rpc-port-base",
                n.name
            );
        }
    }
    // Everything is checked: now write.
    mkdir(dir)?;
    let chain_ca = new_chain_ca(&spec.name)?;
    mkdir(&dir.join("ca"))?;
    write_public_file(&dir.join("ca/ca.crt"), chain_ca.cert.as_bytes())?;
    write_private_file(&dir.join("ca/ca.key"), chain_ca.key.as_bytes())?;
    for a in &spec.agencies {
        let d = dir.join("agencies").join(a);
        mkdir(&d)?;
        let ca = new_agency_ca(&chain_ca, a)?;
        write_public_file(&d.join("agency.crt"), ca.cert.as_bytes())?;
        write_private_file(&d.join("agency.key"), ca.key.as_bytes())?;
    }
    if let Some(k) = &admin {
        write_private_file(&dir.join("admin.key.json"), KeyFile::new(k).to_json().as_bytes())?;
    }
    let genesis_json = genesis.to_json();
    write_public_file(&dir.join("genesis.json"), genesis_json.as_bytes())?;
    for (i, key) in keys.iter().enumerate() {
        write_node_dir(dir, &manifest, i, key, &genesis_json)?;
    }
    write_public_file(
        &dir.join("chain.json"),
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    Ok(manifest)
}

fn role_ids(m: &Manifest, role: Role) -> Vec<PublicKey> {
    m.nodes.iter().filter(|n| n.role == role).map(|n| n.node_id).collect()
}

fn plan_entry(
    m: &Manifest,
    agency: &str,
    host: &str,
    port: u16,
    key: &KeyPair,
    role: Role,
) -> Result<NodeEntry> {
    let on_host =
        m.nodes.iter().filter(|n| n.p2p.rsplit_once(':').map(|x| x.0) == Some(host)).count();
    let rpc_port = u16::try_from(usize::from(m.rpc_port_base) + on_host)
        .context("too many nodes on one host for the RPC port range")?;
    Ok(NodeEntry {
        name: format!("node{}", m.nodes.len()),
        agency: agency.to_string(),
        p2p: format!("{host}:{port}"),
        rpc: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), rpc_port),
        node_id: key.public(),
        role,
    })
}

fn write_node_dir(
    dir: &Path,
    m: &Manifest,
    index: usize,
    key: &KeyPair,
    genesis_json: &str,
) -> Result<()> {
    let entry = &m.nodes[index];
    let agency_dir = dir.join("agencies").join(&entry.agency);
    let agency = read_pair(&agency_dir, "agency.crt", "agency.key")?;
    let ca_cert =
        std::fs::read_to_string(dir.join("ca/ca.crt")).context("cannot read ca/ca.crt")?;
    let nd = dir.join("nodes").join(&entry.name);
    ensure!(!nd.exists(), "{} already exists", nd.display());
    mkdir(&nd.join("tls"))?;
    let cert = new_node_cert(&agency, &entry.name, &entry.node_id.0)?;
    write_public_file(&nd.join("tls/ca.crt"), ca_cert.as_bytes())?;
    write_public_file(&nd.join("tls/agency.crt"), agency.cert.as_bytes())?;
    write_public_file(&nd.join("tls/node.crt"), cert.cert.as_bytes())?;
    write_private_file(&nd.join("tls/node.key"), cert.key.as_bytes())?;
    write_private_file(&nd.join("node.key.json"), KeyFile::new(key).to_json().as_bytes())?;
    write_public_file(&nd.join("genesis.json"), genesis_json.as_bytes())?;
    let (host, port) = entry.p2p.rsplit_once(':').context("p2p address")?;
    let port: u16 = port.parse().context("p2p port")?;
    let cfg = NodeConfig {
        node: NodeSection {
            name: entry.name.clone(),
            key: PathBuf::from("node.key.json"),
            genesis: PathBuf::from("genesis.json"),
            data_dir: PathBuf::from("data"),
            log_level: "info".into(),
            groups_dir: PathBuf::from("groups"),
            strict_senders: false,
        },
        network: NetworkSection {
            listen: listen_addr(host, port),
            peers: m.nodes.iter().filter(|n| n.name != entry.name).map(|n| n.p2p.clone()).collect(),
            blacklist: Vec::new(),
            whitelist: Vec::new(),
            max_frame_bytes: crate::config::DEFAULT_MAX_FRAME,
            idle_timeout_secs: 30,
        },
        tls: TlsSection {
            ca: PathBuf::from("tls/ca.crt"),
            agency: PathBuf::from("tls/agency.crt"),
            cert: PathBuf::from("tls/node.crt"),
            key: PathBuf::from("tls/node.key"),
        },
        rpc: RpcSection { listen: entry.rpc, limits: Default::default(), admin: None },
        storage: Default::default(),
        txpool: Default::default(),
    };
    write_public_file(&nd.join("config.toml"), cfg.to_toml()?.as_bytes())?;
    Ok(())
}

/// Reads `chain.json` from a chain directory.
pub fn load_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("chain.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (is {} a `jinlian chain new` directory?)",
            path.display(),
            dir.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Issues one more node for `agency` listening at `p2p` (`host:port`), without touching the
/// existing nodes; it is not in genesis and joins group 1 by an `addObserver` transaction.
pub fn add_node(dir: &Path, agency: &str, p2p: &str) -> Result<NodeEntry> {
    let mut m = load_manifest(dir)?;
    ensure!(
        m.agencies.iter().any(|a| a == agency),
        "agency {agency:?} is not one of this chain's ({})",
        m.agencies.join(", ")
    );
    let (named, host, port) = parse_endpoint(p2p)?;
    if named.is_some() {
        bail!("give the agency with --agency, and the address as host:port");
    }
    ensure!(
        !m.nodes.iter().any(|n| n.p2p == format!("{host}:{port}")),
        "{host}:{port} is already a node of this chain"
    );
    let key = KeyPair::generate(m.suite.into(), &mut rand::rng());
    let entry = plan_entry(&m, agency, &host, port, &key, Role::Candidate)?;
    m.nodes.push(entry.clone());
    let genesis_json = std::fs::read_to_string(dir.join("genesis.json"))
        .with_context(|| format!("cannot read {}", dir.join("genesis.json").display()))?;
    let index = m.nodes.len() - 1;
    write_node_dir(dir, &m, index, &key, &genesis_json)?;
    // chain.json is replaced (it is ours, not a key): write the new one beside and rename.
    let tmp = dir.join(format!(".chain.json.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_public_file(&tmp, (serde_json::to_string_pretty(&m)? + "\n").as_bytes())?;
    std::fs::rename(&tmp, dir.join("chain.json")).context("cannot update chain.json")?;
    Ok(entry)
}

/// `chain add-group`: the genesis of a further group whose members are some of the chain's
/// nodes (named as in `chain.json`). Its accounts, committee and system configuration are
/// those of the chain's first group; its chain id is `chain_id`, or the first group's plus
/// (`id` − its group id). Written to `groups/<id>/genesis.json` and into each member's
/// directory (`nodes/<name>/groups/<id>/genesis.json`), where its node finds it at start.
/// Returns the genesis.
pub fn add_group(
    dir: &Path,
    id: u32,
    chain_id: Option<u64>,
    sealers: &[String],
    observers: &[String],
) -> Result<Genesis> {
    let m = load_manifest(dir)?;
    let first = crate::genesis::load(&dir.join("genesis.json"))?;
    ensure!(id > 0, "group ids start at 1");
    ensure!(id != first.group_id, "group {id} is the chain's first group");
    let out = dir.join("groups").join(id.to_string());
    ensure!(!out.exists(), "{} exists: group {id} was already added", out.display());
    ensure!(!sealers.is_empty(), "give the group at least one sealer (--sealers node0,node1,...)");
    let ids = |names: &[String]| -> Result<Vec<PublicKey>> {
        names
            .iter()
            .map(|name| {
                m.nodes.iter().find(|n| n.name == *name).map(|n| n.node_id).with_context(|| {
                    format!(
                        "{name:?} is not a node of this chain ({})",
                        m.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
                    )
                })
            })
            .collect()
    };
    let sealer_ids = ids(sealers)?;
    let observer_ids = ids(observers)?;
    for (i, name) in sealers.iter().chain(observers).enumerate() {
        ensure!(
            !sealers.iter().chain(observers).take(i).any(|n| n == name),
            "{name:?} is listed twice"
        );
    }
    let chain_id = match chain_id {
        Some(c) => c,
        None => first
            .chain_id
            .checked_add(u64::from(id))
            .and_then(|c| c.checked_sub(u64::from(first.group_id)))
            .context("no default chain id for this group; give --chain-id")?,
    };
    let genesis = Genesis {
        group_id: id,
        chain_id,
        timestamp_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        sealers: sealer_ids,
        observers: observer_ids,
        ..first
    };
    genesis.validate()?;
    // Each group its own chain id: a transaction signed for one must not be valid in another.
    let groups_dir = dir.join("groups");
    let mut taken = vec![(first.group_id, first.chain_id)];
    if let Ok(entries) = std::fs::read_dir(&groups_dir) {
        for e in entries.flatten() {
            if let Ok(g) = crate::genesis::load(&e.path().join("genesis.json")) {
                taken.push((g.group_id, g.chain_id));
            }
        }
    }
    if let Some((other, _)) = taken.iter().find(|(_, c)| *c == genesis.chain_id) {
        bail!(
            "group {other} already uses chain id {}: give another with --chain-id",
            genesis.chain_id
        );
    }
    // Nothing is written unless everything can be.
    for name in sealers.iter().chain(observers) {
        let f =
            dir.join("nodes").join(name).join("groups").join(id.to_string()).join("genesis.json");
        ensure!(!f.exists(), "{} exists: node {name} already has a group {id}", f.display());
    }
    let text = genesis.to_json() + "\n";
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    write_public_file(&out.join("genesis.json"), text.as_bytes())?;
    for name in sealers.iter().chain(observers) {
        let nd = dir.join("nodes").join(name);
        if !nd.exists() {
            continue; // its directory was handed over already; copy the file by hand
        }
        let gd = nd.join("groups").join(id.to_string());
        std::fs::create_dir_all(&gd).with_context(|| format!("cannot create {}", gd.display()))?;
        write_public_file(&gd.join("genesis.json"), text.as_bytes())?;
    }
    Ok(genesis)
}
