//! Commands that talk to a running chain over JSON-RPC (`tx`, `sys`, `sealer`, `cns`,
//! `proof`) and the interactive `console` that runs the same commands.

use alloy_dyn_abi::{DynSolType, DynSolValue, FunctionExt, JsonAbiExt};
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::{Args, Parser, Subcommand};
use jinlian_crypto::{CryptoSuite, KeyFile, KeyPair, PublicKey};
use jinlian_executor::system::cns::ICns;
use jinlian_executor::system::{CNS, CONSENSUS, IConsensus, ISystemConfig, SYSTEM_CONFIG};
use jinlian_sdk::{Client, Receipt, Signer};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Where the chain is and how to print.
#[derive(Debug, Clone, Args)]
pub struct Conn {
    /// JSON-RPC URL of a node (http:// or ws://; add /group/<id> for another group).
    #[arg(long, env = "JINLIAN_RPC", default_value = "http://127.0.0.1:8545", global = true)]
    pub rpc: String,
    /// Key file that signs transactions (from `jinlian keygen`).
    #[arg(long = "key", id = "key_file", env = "JINLIAN_KEY", global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Private key (hex) that signs transactions, e.g. a dev key printed by `jinlian up`
    /// (`--key` wins when both are given).
    #[arg(long, env = "JINLIAN_PRIVATE_KEY", global = true, hide_env_values = true)]
    pub private_key: Option<String>,
    /// Seconds to wait for a transaction's receipt.
    #[arg(long, default_value_t = 60, global = true)]
    pub wait_secs: u64,
    /// Print JSON (for scripts) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Commands that talk to a chain.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Send transactions, call contracts, deploy them, read receipts.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Read or change the chain's system configuration (SystemConfig, 0x1000).
    #[command(subcommand)]
    Sys(SysCommand),
    /// List, add and remove sealers and observers (Consensus, 0x1003).
    #[command(subcommand)]
    Sealer(SealerCommand),
    /// Contract names: register versions, resolve them, route callers (CNS, 0x1004).
    #[command(subcommand)]
    Cns(CnsCommand),
    /// Fetch a transaction's inclusion proof, or verify one offline.
    #[command(subcommand)]
    Proof(ProofCommand),
    /// The groups of a node: list, create from a genesis, start, stop (FISCO 2.x dynamic groups).
    #[command(subcommand)]
    Group(GroupCommand),
}

/// `jinlian group …` (on the node --rpc names; it must allow it: `[rpc] admin`).
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// The groups the node has a genesis for, and whether each runs.
    List,
    /// Whether one group runs on the node (RUNNING, STOPPED or INEXISTENT).
    Status {
        /// Group id.
        group: u32,
    },
    /// Store a group's genesis on the node (from `jinlian chain add-group`); then start it.
    Generate {
        /// Group id.
        group: u32,
        /// The group's genesis.json.
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// Start it too.
        #[arg(long)]
        start: bool,
    },
    /// Start a group whose genesis the node has (it also starts with the node from then on).
    Start {
        /// Group id.
        group: u32,
    },
    /// Stop a group (its data stays; it stays stopped across restarts until started).
    Stop {
        /// Group id.
        group: u32,
    },
}

/// What a transaction or a call invokes.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Recipient or contract.
    #[arg(long)]
    to: Address,
    /// Function signature, e.g. "transfer(address,uint256)"; with return types, e.g.
    /// "balanceOf(address)(uint256)", `tx call` decodes the result (or give --data).
    sig: Option<String>,
    /// Its arguments.
    args: Vec<String>,
    /// Raw call data (hex) instead of a signature and arguments.
    #[arg(long, conflicts_with = "sig")]
    data: Option<String>,
}

/// `jinlian tx …`.
#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Sign and send a transaction (consortium envelope), wait for its receipt.
    Send {
        #[command(flatten)]
        call: CallArgs,
        /// Value to send, in wei.
        #[arg(long, default_value = "0")]
        value: U256,
        /// Gas limit.
        #[arg(long, default_value_t = 3_000_000)]
        gas: u64,
    },
    /// Call a contract without a transaction; decodes the result when the signature names
    /// its return types, e.g. "balanceOf(address)(uint256)".
    Call {
        #[command(flatten)]
        call: CallArgs,
        /// Caller.
        #[arg(long)]
        from: Option<Address>,
    },
    /// Deploy a contract from a solc/Foundry artifact JSON ("abi" and "bytecode") or raw code.
    Deploy {
        /// Artifact JSON file.
        #[arg(long, conflicts_with = "code")]
        artifact: Option<PathBuf>,
        /// Creation code (hex), constructor arguments already appended.
        #[arg(long)]
        code: Option<String>,
        /// Constructor arguments (with --artifact).
        args: Vec<String>,
        /// Gas limit.
        #[arg(long, default_value_t = 5_000_000)]
        gas: u64,
    },
    /// Show a transaction's receipt.
    Receipt {
        /// Transaction hash.
        hash: B256,
    },
}

/// `jinlian sys …`.
#[derive(Debug, Subcommand)]
pub enum SysCommand {
    /// Read a key (tx_count_limit, tx_gas_limit, consensus_timeout, block_interval_ms, …).
    Get {
        /// Key.
        key: String,
    },
    /// Set a key (needs a committee member's key); applies from the next block.
    Set {
        /// Key.
        key: String,
        /// Value (decimal).
        value: String,
    },
}

/// `jinlian sealer …`.
#[derive(Debug, Subcommand)]
pub enum SealerCommand {
    /// The sealers and observers of the group.
    List,
    /// Make a node a sealer (it votes from the next block), or an observer with --observer.
    Add {
        /// Node id (128 hex digits).
        node_id: String,
        /// Add as an observer (full data, no vote).
        #[arg(long)]
        observer: bool,
    },
    /// Take a node out of the group.
    Remove {
        /// Node id.
        node_id: String,
    },
}

/// `jinlian cns …`.
#[derive(Debug, Subcommand)]
pub enum CnsCommand {
    /// Register a version of a name (the first registrant owns the name).
    Register {
        /// Name.
        name: String,
        /// Version.
        version: String,
        /// Contract address of this version.
        address: Address,
        /// The contract's ABI (JSON), kept with the name.
        #[arg(long, default_value = "")]
        abi: String,
    },
    /// The address of a name (the name's stable address without --version).
    Resolve {
        /// Name.
        name: String,
        /// Version.
        #[arg(long)]
        version: Option<String>,
        /// The version this caller is routed to.
        #[arg(long, conflicts_with = "version")]
        caller: Option<Address>,
    },
    /// Route a share of callers (gray release) or a list of callers to a version.
    Route {
        /// Name.
        name: String,
        /// Version callers are routed to.
        version: String,
        /// Percentage of callers (0–100).
        #[arg(long)]
        percent: Option<u64>,
        /// Callers routed to it, comma separated.
        #[arg(long, value_delimiter = ',')]
        callers: Vec<Address>,
    },
}

/// `jinlian proof …`.
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Fetch the proof of a committed transaction.
    Get {
        /// Transaction hash.
        hash: B256,
        /// Write it to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a proof file offline against sealers you trust.
    Verify {
        /// The proof (JSON from `proof get`).
        file: PathBuf,
        /// The trusted sealers: a genesis.json, or a file with one node id per line.
        #[arg(long, value_name = "FILE")]
        sealers: PathBuf,
    },
}

struct Ctx {
    conn: Conn,
    client: Client,
}

impl Ctx {
    async fn signer(&self) -> Result<Signer<'_>> {
        let info = self.client.node_info().await.context("asking the node which suite it uses")?;
        let suite = match info["suite"].as_str() {
            Some("sm") => CryptoSuite::Sm,
            _ => CryptoSuite::Ecdsa,
        };
        let key = match (&self.conn.key_file, &self.conn.private_key) {
            (Some(f), _) => KeyFile::parse(
                &std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?,
            )
            .with_context(|| format!("{} is not a key file", f.display()))?,
            (None, Some(hex)) => key_from_hex(suite, hex, "--private-key")?,
            (None, None) => {
                bail!("this command signs a transaction: give --key FILE or --private-key HEX")
            }
        };
        let mut signer = Signer::new(&self.client, key).await?;
        signer.timeout = std::time::Duration::from_secs(self.conn.wait_secs);
        Ok(signer)
    }

    fn print(&self, text: String, value: Value) {
        if self.conn.json { out(&value.to_string()) } else { out(&text) }
    }
}

/// Prints a line; a closed pipe (`| head`) is not an error worth a panic.
fn out(line: &str) {
    use std::io::Write;
    if writeln!(std::io::stdout().lock(), "{line}").is_err() {
        std::process::exit(0);
    }
}

fn parse_function(sig: &str) -> Result<Function> {
    // `f(a,b)(c)` (outputs after the inputs) as well as Solidity's `function f(a) returns (c)`.
    let s = sig.trim();
    let human = match (s.starts_with("function "), s.find(")(")) {
        (false, Some(i)) => format!("function {} returns ({}", &s[..=i], &s[i + 2..]),
        (false, None) => format!("function {s}"),
        (true, _) => s.to_string(),
    };
    Function::parse(&human).map_err(|e| anyhow!("{sig:?} is not a function signature: {e}"))
}

fn coerce(types: &[alloy_json_abi::Param], args: &[String]) -> Result<Vec<DynSolValue>> {
    ensure!(types.len() == args.len(), "expected {} arguments, got {}", types.len(), args.len());
    types
        .iter()
        .zip(args)
        .map(|(p, a)| {
            let ty =
                DynSolType::parse(&p.selector_type()).map_err(|e| anyhow!("type {}: {e}", p.ty))?;
            ty.coerce_str(a).map_err(|e| anyhow!("{a:?} is not a {}: {e}", p.ty))
        })
        .collect()
}

fn to_json(v: &DynSolValue) -> Value {
    match v {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        other => Value::String(jinlian_rpc::format::show_value(other)),
    }
}

fn hex_data(s: &str) -> Result<Bytes> {
    Ok(alloy_primitives::hex::decode(s.trim_start_matches("0x")).context("not hex data")?.into())
}

fn call_data(c: &CallArgs) -> Result<(Bytes, Option<Function>)> {
    let (sig, args, data) = (&c.sig, &c.args, &c.data);
    match (sig, data) {
        (Some(sig), _) => {
            let f = parse_function(sig)?;
            let values = coerce(&f.inputs, args)?;
            Ok((f.abi_encode_input(&values).map_err(|e| anyhow!("{e}"))?.into(), Some(f)))
        }
        (None, Some(d)) => Ok((hex_data(d)?, None)),
        (None, None) => Ok((Bytes::new(), None)),
    }
}

fn receipt_report(r: &Receipt) -> (String, Value) {
    let mut text = format!(
        "transaction {}\nblock {} ({})\nstatus {} ({})\ngas used {}",
        r.transaction_hash,
        r.block_number,
        r.block_hash,
        r.status_code,
        if r.success() { "success" } else { jinlian_primitives::status::name(r.status_code) },
        r.gas_used
    );
    if let Some(a) = r.contract_address {
        text += &format!("\ncontract {}", a.to_checksum(None));
    }
    if let Some(reason) = r.revert_reason() {
        text += &format!("\nreverted: {reason}");
    } else if !r.success() && !r.output.is_empty() {
        text += &format!("\nrevert data: 0x{}", alloy_primitives::hex::encode(&r.output));
    }
    if !r.logs.is_empty() {
        text += &format!("\nlogs {}", r.logs.len());
    }
    let v = json!({
        "transactionHash": r.transaction_hash,
        "blockNumber": r.block_number,
        "blockHash": r.block_hash,
        "status": r.status_code,
        "success": r.success(),
        "gasUsed": r.gas_used,
        "contractAddress": r.contract_address,
        "revertReason": r.revert_reason(),
        "logs": r.logs.len(),
        "output": format!("0x{}", alloy_primitives::hex::encode(&r.output)),
    });
    (text, v)
}

fn int_result(r: &Receipt, what: &str) -> Result<()> {
    ensure!(
        r.success(),
        "{what} failed: status {} ({}){}",
        r.status_code,
        jinlian_primitives::status::name(r.status_code),
        r.revert_reason().map(|why| format!(": {why}")).unwrap_or_default()
    );
    if r.output.len() == 32 {
        let code = alloy_primitives::I256::from_raw(U256::from_be_slice(&r.output));
        if code < alloy_primitives::I256::ZERO {
            let described = i32::try_from(code.as_i64())
                .map_or("refused by the system contract", jinlian_executor::system::describe_code);
            bail!("{what} was refused: {described} (code {code})");
        }
    }
    Ok(())
}

fn trusted_sealers(path: &PathBuf) -> Result<Vec<PublicKey>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let ids: Vec<String> = match serde_json::from_str::<Value>(&text) {
        Ok(v) => v["sealers"]
            .as_array()
            .ok_or_else(|| anyhow!("{} has no \"sealers\" list", path.display()))?
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Err(_) => {
            text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
        }
    };
    ids.iter()
        .map(|s| {
            alloy_primitives::hex::decode(s.trim_start_matches("0x"))
                .ok()
                .and_then(|b| PublicKey::from_slice(&b))
                .ok_or_else(|| anyhow!("{s:?} is not a node id"))
        })
        .collect()
}

async fn run_async(conn: Conn, cmd: ClientCommand) -> Result<()> {
    // `proof verify` works offline.
    if let ClientCommand::Proof(ProofCommand::Verify { file, sealers }) = &cmd {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let proof: jinlian_sdk::TxProof = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a proof", file.display()))?;
        let trusted = trusted_sealers(sealers)?;
        let v = jinlian_sdk::proof::verify(&proof, &trusted)
            .map_err(|e| anyhow!("the proof does not hold: {e}"))?;
        let value = json!({
            "valid": true,
            "transactionHash": v.tx.tx.hash(),
            "sender": v.tx.sender,
            "blockNumber": v.header.height.0,
            "blockHash": v.block_hash,
            "index": v.index,
            "status": v.receipt.status,
        });
        let text = format!(
            "valid: transaction {} from {} is at index {} of block {} ({}), status {} ({})",
            v.tx.tx.hash(),
            v.tx.sender.to_checksum(None),
            v.index,
            v.header.height.0,
            v.block_hash,
            v.receipt.status,
            if v.receipt.is_success() {
                "success"
            } else {
                jinlian_primitives::status::name(v.receipt.status)
            }
        );
        if conn.json {
            out(&value.to_string())
        } else {
            out(&text)
        }
        return Ok(());
    }
    let client = Client::connect(&conn.rpc).await?;
    let ctx = Ctx { conn, client };
    match cmd {
        ClientCommand::Tx(TxCommand::Send { call, value, gas }) => {
            let (input, _) = call_data(&call)?;
            let to = call.to;
            let r = ctx.signer().await?.send(TxKind::Call(to), value, input, gas).await?;
            let (text, v) = receipt_report(&r);
            ctx.print(text, v);
            ensure!(r.success(), "the transaction failed");
        }
        ClientCommand::Tx(TxCommand::Call { call, from }) => {
            let (input, f) = call_data(&call)?;
            let to = call.to;
            let out = ctx.client.call(from, to, &input).await?;
            match f.filter(|f| !f.outputs.is_empty()) {
                Some(f) => {
                    if out.is_empty() {
                        bail!(
                            "the call returned nothing: is there a contract at {to} (in the group --rpc names)?"
                        );
                    }
                    let values = f
                        .abi_decode_output(&out)
                        .map_err(|e| anyhow!("cannot decode the result: {e}"))?;
                    let shown: Vec<String> =
                        values.iter().map(jinlian_rpc::format::show_value).collect();
                    let as_json: Vec<Value> = values.iter().map(to_json).collect();
                    ctx.print(shown.join("\n"), json!(as_json));
                }
                None => {
                    let hex = format!("0x{}", alloy_primitives::hex::encode(&out));
                    ctx.print(hex.clone(), json!(hex));
                }
            }
        }
        ClientCommand::Tx(TxCommand::Deploy { artifact, code, args, gas }) => {
            let code: Bytes = match (artifact, code) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let v: Value = serde_json::from_str(&text)
                        .with_context(|| format!("{} is not JSON", path.display()))?;
                    let bytecode = v["bytecode"]
                        .as_str()
                        .or_else(|| v["bytecode"]["object"].as_str())
                        .ok_or_else(|| anyhow!("{} has no bytecode", path.display()))?;
                    let mut code = hex_data(bytecode)?.to_vec();
                    let abi: JsonAbi = serde_json::from_value(v["abi"].clone())
                        .with_context(|| format!("{} has no valid abi", path.display()))?;
                    match abi.constructor {
                        Some(c) => {
                            let values = coerce(&c.inputs, &args)?;
                            code.extend(c.abi_encode_input(&values).map_err(|e| anyhow!("{e}"))?);
                        }
                        None => ensure!(
                            args.is_empty(),
                            "the contract's constructor takes no arguments"
                        ),
                    }
                    code.into()
                }
                (None, Some(c)) => hex_data(&c)?,
                (None, None) => bail!("give --artifact FILE or --code HEX"),
            };
            let r = ctx.signer().await?.send(TxKind::Create, U256::ZERO, code, gas).await?;
            let (text, v) = receipt_report(&r);
            ctx.print(text, v);
            ensure!(r.success(), "the deployment failed");
        }
        ClientCommand::Tx(TxCommand::Receipt { hash }) => {
            let r = ctx
                .client
                .receipt(hash)
                .await?
                .ok_or_else(|| anyhow!("no receipt for {hash} (not committed, or unknown)"))?;
            let (text, v) = receipt_report(&r);
            ctx.print(text, v);
        }
        ClientCommand::Sys(SysCommand::Get { key }) => {
            let group = group_id(&ctx).await?;
            let v: Value =
                ctx.client.request("getSystemConfigByKey", vec![json!(group), json!(key)]).await?;
            let s = v.as_str().unwrap_or_default().to_string();
            ctx.print(s.clone(), json!({ "key": key, "value": s }));
        }
        ClientCommand::Sys(SysCommand::Set { key, value }) => {
            let keys = jinlian_executor::system::CONFIG_KEYS;
            ensure!(
                keys.contains(&key.as_str()),
                "{key:?} is not a configuration key; the keys are {}",
                keys.join(", ")
            );
            ensure!(
                jinlian_executor::system::check_config(&key, &value),
                "{value:?} is not a valid value for {key:?}"
            );
            let call = ISystemConfig::setValueByKeyCall { key: key.clone(), value: value.clone() };
            let r = ctx.signer().await?.transact(SYSTEM_CONFIG, &call).await?;
            int_result(&r, "setting the configuration")?;
            ctx.print(
                format!("{key} = {value} from block {}", r.block_number + 1),
                json!({ "key": key, "value": value, "fromBlock": r.block_number + 1 }),
            );
        }
        ClientCommand::Group(cmd) => group_command(&ctx, cmd).await?,
        ClientCommand::Sealer(SealerCommand::List) => {
            let group = group_id(&ctx).await?;
            let sealers: Vec<String> =
                ctx.client.request("getSealerList", vec![json!(group)]).await?;
            let observers: Vec<String> =
                ctx.client.request("getObserverList", vec![json!(group)]).await?;
            let mut text = String::new();
            for s in &sealers {
                text += &format!("sealer   {s}\n");
            }
            for o in &observers {
                text += &format!("observer {o}\n");
            }
            ctx.print(
                text.trim_end().to_string(),
                json!({ "sealers": sealers, "observers": observers }),
            );
        }
        ClientCommand::Sealer(SealerCommand::Add { node_id, observer }) => {
            let id = node_id.trim_start_matches("0x").to_string();
            ensure!(
                id.len() == 128 && alloy_primitives::hex::decode(&id).is_ok(),
                "a node id is 128 hex digits"
            );
            let input = if observer {
                IConsensus::addObserverCall { nodeID: id.clone() }.abi_encode()
            } else {
                IConsensus::addSealerCall { nodeID: id.clone() }.abi_encode()
            };
            let r = ctx
                .signer()
                .await?
                .send(TxKind::Call(CONSENSUS), U256::ZERO, input.into(), 1_000_000)
                .await?;
            int_result(&r, "adding the node")?;
            let role = if observer { "observer" } else { "sealer" };
            ctx.print(
                format!(
                    "{id} is {} {role} from block {}",
                    if observer { "an" } else { "a" },
                    r.block_number + 1
                ),
                json!({ "nodeId": id, "role": role, "fromBlock": r.block_number + 1 }),
            );
        }
        ClientCommand::Sealer(SealerCommand::Remove { node_id }) => {
            let id = node_id.trim_start_matches("0x").to_string();
            let r = ctx
                .signer()
                .await?
                .transact(CONSENSUS, &IConsensus::removeCall { nodeID: id.clone() })
                .await?;
            int_result(&r, "removing the node")?;
            ctx.print(
                format!("{id} removed from block {}", r.block_number + 1),
                json!({ "nodeId": id, "fromBlock": r.block_number + 1 }),
            );
        }
        ClientCommand::Cns(CnsCommand::Register { name, version, address, abi }) => {
            let call = ICns::insertCall {
                name: name.clone(),
                version: version.clone(),
                addr: address.to_checksum(None),
                abi,
            };
            let r = ctx.signer().await?.transact(CNS, &call).await?;
            int_result(&r, "registering the name")?;
            let at =
                ctx.client.call_typed(CNS, &ICns::nameAddressCall { name: name.clone() }).await?;
            ctx.print(
                format!("{name} {version} → {address}; call {name} at {at}"),
                json!({ "name": name, "version": version, "address": address, "nameAddress": at }),
            );
        }
        ClientCommand::Cns(CnsCommand::Resolve { name, version, caller }) => {
            let at = match (version, caller) {
                (Some(v), _) => {
                    ctx.client
                        .call_typed(
                            CNS,
                            &ICns::getContractAddressCall { name: name.clone(), version: v },
                        )
                        .await?
                }
                (None, Some(c)) => {
                    ctx.client
                        .call_typed(CNS, &ICns::resolveCall { name: name.clone(), caller: c })
                        .await?
                }
                (None, None) => {
                    let route = ctx
                        .client
                        .call_typed(CNS, &ICns::getRouteCall { name: name.clone() })
                        .await?;
                    ensure!(!route.primary.is_empty(), "{name} is not registered");
                    route.nameAddr
                }
            };
            ensure!(at != Address::ZERO, "{name} is not registered (or has no such version)");
            ctx.print(at.to_checksum(None), json!({ "name": name, "address": at }));
        }
        ClientCommand::Cns(CnsCommand::Route { name, version, percent, callers }) => {
            ensure!(percent.is_some() || !callers.is_empty(), "give --percent or --callers");
            let signer = ctx.signer().await?;
            if let Some(p) = percent {
                ensure!(p <= 100, "--percent is 0 to 100");
                let r = signer
                    .transact(
                        CNS,
                        &ICns::setRouteCall {
                            name: name.clone(),
                            version: version.clone(),
                            percent: U256::from(p),
                        },
                    )
                    .await?;
                int_result(&r, "setting the route")?;
            }
            if !callers.is_empty() {
                let r = signer
                    .transact(
                        CNS,
                        &ICns::setRouteCallersCall {
                            name: name.clone(),
                            version: version.clone(),
                            callers: callers.clone(),
                        },
                    )
                    .await?;
                int_result(&r, "routing the callers")?;
            }
            ctx.print(
                format!(
                    "{name}: {} of callers{} go to {version}",
                    percent.map_or("none".into(), |p| format!("{p}%")),
                    if callers.is_empty() {
                        String::new()
                    } else {
                        format!(" and {} listed callers", callers.len())
                    }
                ),
                json!({ "name": name, "version": version, "percent": percent, "callers": callers }),
            );
        }
        ClientCommand::Proof(ProofCommand::Get { hash, out: file }) => {
            let p = ctx
                .client
                .proof(hash)
                .await?
                .ok_or_else(|| anyhow!("{hash} is not a committed transaction"))?;
            let text = serde_json::to_string_pretty(&p)?;
            match file {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    ctx.print(
                        format!("wrote the proof of {hash} to {}", path.display()),
                        json!({ "file": path }),
                    );
                }
                None => out(&text),
            }
        }
        ClientCommand::Proof(ProofCommand::Verify { .. }) => unreachable!("handled above"),
    }
    Ok(())
}

/// Runs a FISCO group operation; its `{code, message}` answer is an error unless code is 0.
async fn group_op(ctx: &Ctx, method: &'static str, params: Vec<Value>) -> Result<String> {
    let r: Value = ctx.client.request(method, params).await?;
    let message = r["message"].as_str().unwrap_or_default().to_string();
    match r["code"].as_str() {
        Some("0x0") => Ok(message),
        code => Err(anyhow!("{message} (code {})", code.unwrap_or("?"))),
    }
}

async fn group_command(ctx: &Ctx, cmd: GroupCommand) -> Result<()> {
    match cmd {
        GroupCommand::List => {
            let list: Vec<Value> =
                ctx.client.request("jinlian_groups", Vec::<Value>::new()).await?;
            let text = list
                .iter()
                .map(|g| {
                    format!("group {:<6} {}", g["groupId"], g["status"].as_str().unwrap_or("?"))
                })
                .collect::<Vec<_>>()
                .join("\n");
            ctx.print(text, Value::Array(list));
        }
        GroupCommand::Status { group } => {
            let r: Value = ctx.client.request("queryGroupStatus", vec![json!(group)]).await?;
            let status = r["status"].as_str().unwrap_or("?").to_string();
            ctx.print(
                format!("group {group}: {status}"),
                json!({ "groupId": group, "status": status }),
            );
        }
        GroupCommand::Generate { group, genesis, start } => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("cannot read {}", genesis.display()))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", genesis.display()))?;
            let mut said = vec![group_op(ctx, "generateGroup", vec![json!(group), value]).await?];
            if start {
                said.push(group_op(ctx, "startGroup", vec![json!(group)]).await?);
            }
            ctx.print(said.join("; "), json!({ "groupId": group, "started": start }));
        }
        GroupCommand::Start { group } => {
            let m = group_op(ctx, "startGroup", vec![json!(group)]).await?;
            ctx.print(m, json!({ "groupId": group, "status": "RUNNING" }));
        }
        GroupCommand::Stop { group } => {
            let m = group_op(ctx, "stopGroup", vec![json!(group)]).await?;
            ctx.print(m, json!({ "groupId": group, "status": "STOPPED" }));
        }
    }
    Ok(())
}

async fn group_id(ctx: &Ctx) -> Result<u64> {
    let info = ctx.client.node_info().await?;
    info["groupId"].as_u64().ok_or_else(|| anyhow!("the node did not say its group"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs one command.
pub fn run(conn: Conn, cmd: ClientCommand) -> Result<()> {
    let json = conn.json;
    let r = runtime()?.block_on(run_async(conn, cmd)).map_err(explain);
    if let (true, Err(e)) = (json, &r) {
        out(&json!({ "error": format!("{e:#}") }).to_string());
    }
    r
}

/// Says what to do about the errors people meet most.
fn explain(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<jinlian_sdk::Error>() {
        Some(jinlian_sdk::Error::Transport(_)) => e.context(
            "cannot reach the node: is it running, and is --rpc (or JINLIAN_RPC) its JSON-RPC URL?",
        ),
        Some(jinlian_sdk::Error::Timeout(h)) => {
            let h = *h;
            e.context(format!(
                "check later with: jinlian tx receipt {h} (raise --wait-secs to wait longer)"
            ))
        }
        _ => e,
    }
}

/// One console line: the same commands as the command line, without `jinlian`.
#[derive(Debug, Parser)]
#[command(name = "", no_binary_name = true, disable_version_flag = true)]
struct Line {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: ClientCommand,
}

const WORDS: &[&str] = &[
    "tx", "send", "call", "deploy", "receipt", "sys", "get", "set", "sealer", "list", "add",
    "remove", "cns", "register", "resolve", "route", "proof", "verify", "group", "generate",
    "start", "stop", "status", "help", "exit", "quit",
];

struct Completer;

impl rustyline::completion::Completer for Completer {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let start = line[..pos].rfind(' ').map_or(0, |i| i + 1);
        let word = &line[start..pos];
        Ok((start, WORDS.iter().filter(|w| w.starts_with(word)).map(|w| w.to_string()).collect()))
    }
}
impl rustyline::hint::Hinter for Completer {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Completer {}
impl rustyline::validate::Validator for Completer {}
impl rustyline::Helper for Completer {}

/// `jinlian console`: reads commands (history in ~/.jinlian_history, Tab completes), runs
/// each against the node, and keeps going after errors.
pub fn console(conn: Conn) -> Result<()> {
    let rt = runtime()?;
    let info = rt.block_on(async {
        let c = Client::connect(&conn.rpc).await?;
        c.node_info().await
    });
    match &info {
        Ok(i) => eprintln!(
            "connected to {} (chain {}, group {}, {} suite, block {}). Type help, or exit.",
            conn.rpc,
            i["chainId"],
            i["groupId"],
            i["suite"].as_str().unwrap_or("?"),
            i["blockNumber"]
        ),
        Err(e) => eprintln!(
            "cannot reach {} yet ({e}); commands will try again. Type help, or exit.",
            conn.rpc
        ),
    }
    let mut failed = false;
    let mut rl = rustyline::Editor::<Completer, rustyline::history::DefaultHistory>::new()?;
    rl.set_helper(Some(Completer));
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".jinlian_history"));
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    loop {
        let line = match rl.readline("jinlian> ") {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = rl.add_history_entry(line);
        if matches!(line, "exit" | "quit") {
            break;
        }
        if line == "help" {
            let _ = <Line as clap::CommandFactory>::command().print_long_help();
            continue;
        }
        let Some(words) = shlex::split(line) else {
            println!("error: unbalanced quotes");
            failed = true;
            continue;
        };
        match Line::try_parse_from(words) {
            Ok(l) => {
                let mut c = conn.clone();
                c.json |= l.json;
                let json = c.json;
                if let Err(e) = rt.block_on(run_async(c, l.cmd)).map_err(explain) {
                    failed = true;
                    if json {
                        out(&json!({ "error": format!("{e:#}") }).to_string());
                    } else {
                        println!("error: {e:#}");
                    }
                }
            }
            Err(e) => {
                failed |= !matches!(
                    e.kind(),
                    clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                );
                let _ = e.print();
            }
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
    // A script fed to the console learns whether every command succeeded.
    ensure!(!failed, "some commands failed");
    Ok(())
}

/// A key pair from a hex secret (`0x` optional) given as `flag`.
pub(crate) fn key_from_hex(suite: CryptoSuite, hex: &str, flag: &str) -> Result<KeyPair> {
    let b = alloy_primitives::hex::decode(hex.trim().trim_start_matches("0x"))
        .with_context(|| format!("{flag} is not hex"))?;
    let b: [u8; 32] = b.try_into().map_err(|_| anyhow!("{flag} must be 32 bytes"))?;
    Ok(KeyPair::from_secret(suite, &b)?)
}
