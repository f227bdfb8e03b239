//! `jinlian chain new` and `jinlian chain add-node`.

use alloy_primitives::{Address, U256};
use anyhow::{Context, Result};
use clap::Subcommand;
use jinlian_crypto::CryptoSuite;
use jinlian_node::chain::{ChainSpec, Role, add_node, new_chain};
use jinlian_node::genesis::{Funded, GenesisConfig};
use std::path::PathBuf;

/// `jinlian chain …`
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Generate a new chain for real hosts: a chain CA, one CA per agency, and for each node
    /// a TLS certificate (signed by its agency, carrying its node id), a consensus key, the
    /// genesis and a config.toml. Each nodes/<name>/ directory is copied to its host as a
    /// whole; private keys are written readable only by their owner.
    New {
        /// Directory to create (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Chain name (letters, digits, '-', '_').
        #[arg(long, default_value = "jinlian")]
        name: String,
        /// Agencies (organisations), comma-separated; each gets its own CA.
        #[arg(long, value_delimiter = ',', required = true)]
        agencies: Vec<String>,
        /// Sealers' peer addresses, comma-separated `host:port`, optionally `AGENCY@host:port`
        /// (otherwise agencies take turns).
        #[arg(long, value_delimiter = ',', required = true)]
        sealers: Vec<String>,
        /// Observers' peer addresses (full data, no vote), as for --sealers.
        #[arg(long, value_delimiter = ',')]
        observers: Vec<String>,
        /// Use SM2/SM3 (国密) for signatures, hashes and addresses.
        #[arg(long)]
        sm: bool,
        /// Chain id (`block.chainid`, EIP-155).
        #[arg(long, default_value_t = 20_261_130)]
        chain_id: u64,
        /// Governance committee (comma-separated addresses): only they add and remove nodes,
        /// change the system config and freeze accounts. Without it, an admin key is generated
        /// into DIR/admin.key.json and its address is the committee.
        #[arg(long, value_delimiter = ',', value_name = "ADDRESS")]
        committee: Vec<String>,
        /// Fund an account at genesis: `ADDRESS=BALANCE` (wei, decimal or 0x-hex); repeatable.
        #[arg(long, value_name = "ADDRESS=BALANCE")]
        fund: Vec<String>,
        /// Least time between two blocks, milliseconds.
        #[arg(long, default_value_t = 1_000)]
        block_interval_ms: u64,
        /// First JSON-RPC port on each host (the next node on the same host takes the next one).
        #[arg(long, default_value_t = 8545)]
        rpc_port_base: u16,
    },
    /// Issue one more node for an agency of an existing chain directory, without touching
    /// the existing nodes. The node is not in genesis: after copying it to its host and
    /// starting it, add it to the group with an `addObserver` transaction (then `addSealer`).
    AddNode {
        /// The chain directory made by `jinlian chain new`.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The agency that operates the node (its CA signs the node's certificate).
        #[arg(long)]
        agency: String,
        /// The node's peer address, `host:port`.
        #[arg(long, value_name = "HOST:PORT")]
        p2p: String,
    },
    /// Create a further group (its own genesis, chain id, sealers and ledger) whose members
    /// are some of the chain's nodes. Its genesis goes to DIR/groups/<id>/genesis.json and
    /// into each member's nodes/<name>/groups/<id>/, where the node finds it at start (for a
    /// running node: jinlian group generate <id> --genesis FILE --start).
    AddGroup {
        /// The chain directory made by `jinlian chain new`.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The new group's id.
        #[arg(long)]
        group: u32,
        /// Its sealers: node names from chain.json (node0,node1,...).
        #[arg(long, value_delimiter = ',', required = true)]
        sealers: Vec<String>,
        /// Its observers, by name.
        #[arg(long, value_delimiter = ',')]
        observers: Vec<String>,
        /// Its chain id (default: the first group's plus the difference of the group ids).
        #[arg(long)]
        chain_id: Option<u64>,
    },
}

fn parse_fund(text: &str) -> Result<Funded> {
    let (addr, bal) = text
        .split_once('=')
        .with_context(|| format!("--fund {text:?}: expected ADDRESS=BALANCE"))?;
    let address: Address =
        addr.trim().parse().with_context(|| format!("--fund {text:?}: bad address"))?;
    let balance: U256 =
        bal.trim().parse().with_context(|| format!("--fund {text:?}: bad balance"))?;
    Ok(Funded { address, balance })
}

/// Runs a `chain` subcommand.
pub fn run(cmd: ChainCommand) -> Result<()> {
    match cmd {
        ChainCommand::New {
            dir,
            name,
            agencies,
            sealers,
            observers,
            sm,
            chain_id,
            fund,
            committee,
            block_interval_ms,
            rpc_port_base,
        } => {
            let committee = committee
                .iter()
                .map(|a| {
                    a.trim()
                        .parse()
                        .with_context(|| format!("--committee: {a:?} is not an address"))
                })
                .collect::<Result<Vec<Address>>>()?;
            let spec = ChainSpec {
                name,
                suite: if sm { CryptoSuite::Sm } else { CryptoSuite::Ecdsa },
                chain_id,
                agencies,
                sealers,
                observers,
                accounts: fund.iter().map(|f| parse_fund(f)).collect::<Result<_>>()?,
                committee: committee.clone(),
                config: GenesisConfig { block_interval_ms, ..GenesisConfig::default() },
                rpc_port_base,
                timestamp_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            };
            let m = new_chain(&dir, &spec)?;
            println!(
                "created chain {:?} ({} suite, chain id {}) in {}",
                m.name,
                spec.suite,
                m.chain_id,
                dir.display()
            );
            println!("{:<8} {:<12} {:<9} {:<22} {:<16}", "node", "agency", "role", "p2p", "rpc");
            for n in &m.nodes {
                let role = match n.role {
                    Role::Sealer => "sealer",
                    Role::Observer => "observer",
                    Role::Candidate => "candidate",
                };
                println!("{:<8} {:<12} {:<9} {:<22} {:<16}", n.name, n.agency, role, n.p2p, n.rpc);
            }
            println!();
            if committee.is_empty() {
                println!(
                    "governance: the committee is the admin key in {}/admin.key.json (readable only by you);",
                    dir.display()
                );
                println!(
                    "  only it adds and removes nodes and changes the system config: keep it safe."
                );
            } else {
                println!(
                    "governance: the committee is {} account(s) given with --committee.",
                    committee.len()
                );
            }
            println!();
            println!("next:");
            println!("  - copy each {}/nodes/<node>/ directory to its host;", dir.display());
            println!("  - keep {}/ca/ca.key offline (it certifies agencies);", dir.display());
            println!(
                "  - give each agency {}/agencies/<agency>/ (its CA issues its nodes);",
                dir.display()
            );
            println!("  - on each host: jinlian node --config <node dir>/config.toml");
            Ok(())
        }
        ChainCommand::AddGroup { dir, group, sealers, observers, chain_id } => {
            let g = jinlian_node::chain::add_group(&dir, group, chain_id, &sealers, &observers)?;
            println!(
                "created group {group} (chain id {}): {} sealer(s), {} observer(s)",
                g.chain_id,
                g.sealers.len(),
                g.observers.len()
            );
            println!("genesis: {}/groups/{group}/genesis.json", dir.display());
            println!(
                "governance: the first group's committee (and funded accounts) also govern this group: it adds and removes its nodes"
            );
            println!("next:");
            println!(
                "  - nodes not yet copied to their hosts find it in nodes/<name>/groups/{group}/ and run it at start;"
            );
            println!(
                "  - on a running member: jinlian group generate {group} --genesis FILE --start --rpc <its RPC>;"
            );
            println!("  - its JSON-RPC is at /group/{group} on each member's RPC address.");
            Ok(())
        }
        ChainCommand::AddNode { dir, agency, p2p } => {
            let n = add_node(&dir, &agency, &p2p)?;
            println!("issued {} for agency {} at {} (rpc {})", n.name, n.agency, n.p2p, n.rpc);
            println!("node id: {}", n.node_id);
            println!("next:");
            println!("  - copy {}/nodes/{}/ to its host and start it;", dir.display(), n.name);
            println!(
                "  - add it to the group: Consensus.addObserver(\"{}\") (then addSealer);",
                n.node_id
            );
            println!(
                "  - existing nodes' configs are unchanged; add {} to their [network] peers when convenient.",
                n.p2p
            );
            Ok(())
        }
    }
}
