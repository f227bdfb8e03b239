//! The EVM every block and every call runs: revm's mainnet handler over a frame hook that
//! applies Jinlian's call rules before a frame starts.
//!
//! - **Contract names** (CNS, `0x1004`): a call to a name's address goes to the version the
//!   name routes this transaction's origin to (by caller list or percentage), with
//!   `msg.sender`, value and calldata unchanged, so callers never change their code when a
//!   name moves to a new version.
//! - **Frozen contracts** (ContractLifeCycle, `0x1007`): an internal call into a frozen
//!   contract reverts with a reason (a transaction sent straight to one gets status 30 in the
//!   executor).
//! - **国密 addresses**: on `sm` chains `CREATE` and `CREATE2` derive addresses with SM3
//!   instead of Keccak (same formulas otherwise).
//!
//! Names and freezes are read from the parent state, so changes apply from the next block.

use crate::executor::{BlockContext, Db, ExecConfig, ExecError, block_env, configure};
use crate::state::{StateError, StateView};
use crate::system::{SystemPrecompiles, cns};
use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::Encodable;
use jinlian_crypto::CryptoSuite;
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context::{ContextError, ContextSetters, ContextTr, FrameStack, JournalTr, TxEnv};
use revm::database::State;
use revm::database_interface::WrapDatabaseRef;
use revm::database_interface::bal::EvmDatabaseError;
use revm::handler::evm::FrameInitResult;
use revm::handler::instructions::EthInstructions;
use revm::handler::{
    EthFrame, EvmTr, FrameInitOrResult, FrameResult, Handler, ItemOrResult, MainnetHandler,
};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_action::{FrameInit, FrameInput};
use revm::interpreter::{
    CallInputs, CallOutcome, CreateInputs, CreateOutcome, Gas, InstructionResult, InterpreterResult,
};
use revm::{Context, DatabaseCommit, MainBuilder, MainContext};
use std::collections::HashMap;

type JinlianDb<'a> = State<WrapDatabaseRef<Db<'a>>>;

/// The database error revm reports for our state.
pub(crate) type DbErr = EvmDatabaseError<StateError>;

pub(crate) type JinlianContext<'a> = Context<
    revm::context::BlockEnv,
    TxEnv,
    revm::context::CfgEnv,
    JinlianDb<'a>,
    revm::context::Journal<JinlianDb<'a>>,
>;

type Inner<'a> = revm::context::Evm<
    JinlianContext<'a>,
    (),
    EthInstructions<EthInterpreter, JinlianContext<'a>>,
    SystemPrecompiles<'a>,
    EthFrame,
>;

/// What a transaction's execution returned, or why it could not run.
pub(crate) type TxResult = Result<ExecutionResult, EVMError<DbErr, InvalidTransaction>>;

/// revm's EVM with Jinlian's call rules (see the module docs).
pub(crate) struct JinlianEvm<'a> {
    pub(crate) inner: Inner<'a>,
    rules: CallRules<'a>,
    /// Records the call tree when set (`debug_traceCall`).
    pub(crate) tracer: Option<CallTracer>,
}

/// One frame of a call tree, as geth's `callTracer` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallFrame {
    /// `CALL`, `STATICCALL`, `DELEGATECALL`, `CALLCODE`, `CREATE` or `CREATE2`.
    pub kind: &'static str,
    /// Caller.
    pub from: Address,
    /// Callee (the created contract for creations; `None` if creation failed).
    pub to: Option<Address>,
    /// Value sent.
    pub value: alloy_primitives::U256,
    /// Gas given to the frame.
    pub gas: u64,
    /// Gas the frame used.
    pub gas_used: u64,
    /// Call data or init code.
    pub input: Bytes,
    /// Return or revert data.
    pub output: Bytes,
    /// Why it failed (`execution reverted`, `OutOfGas`, …).
    pub error: Option<String>,
    /// Frames it opened, in order.
    pub calls: Vec<CallFrame>,
}

/// Builds the call tree from the frame hooks. revm reports a frame's result through
/// `frame_return_result`, except for a first frame that ends at once; a child that ends at
/// once (a precompile, a refused call) is reported there too without a frame of its own.
#[derive(Debug, Default)]
pub(crate) struct CallTracer {
    open: Vec<CallFrame>,
    /// A child that ended in `frame_init`, to hang under its parent on the next return.
    ended_at_once: Option<CallFrame>,
    /// The finished tree.
    pub(crate) root: Option<CallFrame>,
}

fn fill(frame: &mut CallFrame, result: &FrameResult) {
    let (r, created) = match result {
        FrameResult::Call(o) => (&o.result, None),
        FrameResult::Create(o) => (&o.result, Some(o.address)),
    };
    frame.gas_used = r.gas.total_gas_spent();
    frame.output = r.output.clone();
    if let Some(a) = created {
        frame.to = if r.result.is_ok() { a } else { None };
    }
    if !r.result.is_ok() {
        frame.error = Some(if r.result.is_revert() {
            "execution reverted".to_string()
        } else {
            format!("{:?}", r.result)
        });
    }
}

impl CallTracer {
    fn finish(&mut self, frame: CallFrame) {
        match self.open.last_mut() {
            Some(parent) => parent.calls.push(frame),
            None => self.root = Some(frame),
        }
    }
}

/// Builds the EVM for `block` on `parent`, with the system configuration in force at that
/// height applied to `cfg` (returned). `bundle` tracks changes for a write set (blocks); calls
/// do not need it.
pub(crate) fn build_evm<'a>(
    cfg: &ExecConfig,
    parent: &'a dyn StateView,
    block: &BlockContext,
    bundle: bool,
) -> Result<(JinlianEvm<'a>, ExecConfig), ExecError> {
    // System configuration written by earlier blocks applies from its enable height.
    let mut cfg = cfg.clone();
    if let Some(limit) = crate::system::config_at(parent, "tx_gas_limit", block.height)? {
        cfg.tx_gas_limit = limit;
    }
    let state =
        State::builder().with_database_ref(Db(parent)).with_bundle_update_if(bundle).build();
    let precompiles = SystemPrecompiles::new(cfg.spec, block.height, parent)?;
    let mut inner = Context::mainnet()
        .with_db(state)
        .modify_cfg_chained(|c| configure(c, &cfg))
        .modify_block_chained(|b| block_env(b, block))
        .build_mainnet()
        .with_precompiles(precompiles);
    if cfg.suite == CryptoSuite::Sm {
        inner.instruction.insert_instruction(
            revm::bytecode::opcode::KECCAK256,
            revm::interpreter::Instruction::new(crate::sm_evm::sm3_hash),
            30,
        );
    }
    let rules =
        CallRules { parent, suite: cfg.suite, targets: HashMap::new(), deployers: HashMap::new() };
    Ok((JinlianEvm { inner, rules, tracer: None }, cfg))
}

impl<'a> JinlianEvm<'a> {
    fn transact_one(&mut self, env: TxEnv) -> TxResult {
        self.inner.ctx.set_tx(env);
        MainnetHandler::default().run(self)
    }

    /// Runs a transaction and keeps its changes (nothing is kept when it cannot run).
    pub(crate) fn transact_commit(&mut self, env: TxEnv) -> TxResult {
        let result = self.transact_one(env);
        let state = self.inner.ctx.journal_mut().finalize();
        if result.is_ok() {
            self.inner.ctx.db_mut().commit(state);
        }
        result
    }

    /// Runs a transaction and drops its changes.
    pub(crate) fn transact(&mut self, env: TxEnv) -> TxResult {
        let result = self.transact_one(env);
        let _ = self.inner.ctx.journal_mut().finalize();
        result
    }

    /// Whether a transaction from `origin` calling `a` is refused because `a` (or the
    /// version a CNS name at `a` routes `origin` to) is frozen in the parent state.
    pub(crate) fn is_frozen(&mut self, a: Address, origin: &Address) -> Result<bool, ExecError> {
        let map = |e: ContextError<DbErr>| match e {
            ContextError::Db(EvmDatabaseError::Database(e)) => ExecError::State(e),
            e => ExecError::Evm(format!("{e:?}")),
        };
        let t = match self.rules.classify(a).map_err(map)? {
            Target::Name(route) => self.rules.classify(route.resolve(origin)).map_err(map)?,
            t => t,
        };
        Ok(matches!(t, Target::Frozen))
    }

    /// The state under execution (with the transactions committed so far).
    pub(crate) fn db(&mut self) -> &mut JinlianDb<'a> {
        self.inner.ctx.db_mut()
    }
}

/// How the rules see an address called.
#[derive(Debug, Clone)]
enum Target {
    Plain,
    Frozen,
    Name(cns::Route),
}

struct CallRules<'a> {
    parent: &'a dyn StateView,
    suite: CryptoSuite,
    /// Addresses already classified in this block or call.
    targets: HashMap<Address, Target>,
    /// Deploy permission of accounts already asked in this block or call.
    deployers: HashMap<Address, bool>,
}

fn db_err(e: StateError) -> ContextError<DbErr> {
    ContextError::Db(EvmDatabaseError::Database(e))
}

impl CallRules<'_> {
    fn classify(&mut self, a: Address) -> Result<Target, ContextError<DbErr>> {
        // Precompiles and system contracts are never names or frozen.
        if a.0[..18].iter().all(|b| *b == 0) {
            return Ok(Target::Plain);
        }
        if let Some(t) = self.targets.get(&a) {
            return Ok(t.clone());
        }
        let t = if let Some(route) = cns::route_at(self.parent, &a).map_err(db_err)? {
            Target::Name(route)
        } else if crate::system::is_frozen(self.parent, &a).map_err(db_err)? {
            Target::Frozen
        } else {
            Target::Plain
        };
        self.targets.insert(a, t.clone());
        Ok(t)
    }

    /// Routes a call to a name and stops calls into frozen contracts (returns the outcome of
    /// a call that must not run).
    fn on_call(
        &mut self,
        ctx: &mut JinlianContext<'_>,
        inputs: &mut CallInputs,
    ) -> Result<Option<CallOutcome>, ContextError<DbErr>> {
        let origin = {
            use revm::context_interface::Transaction as _;
            ctx.tx().caller()
        };
        let mut redirected = false;
        for field in [&mut inputs.target_address, &mut inputs.bytecode_address] {
            if let Target::Name(route) = self.classify(*field)? {
                *field = route.resolve(&origin);
                redirected = true;
            }
        }
        for a in [inputs.target_address, inputs.bytecode_address] {
            if matches!(self.classify(a)?, Target::Frozen) {
                let reason = format!("ContractLifeCycle: contract {a} is frozen");
                let data =
                    alloy_sol_types::SolError::abi_encode(&alloy_sol_types::Revert::from(reason));
                return Ok(Some(CallOutcome {
                    result: InterpreterResult {
                        result: InstructionResult::Revert,
                        gas: Gas::new_with_regular_gas_and_reservoir(
                            inputs.gas_limit,
                            inputs.reservoir,
                        ),
                        output: Bytes::from(data),
                    },
                    memory_offset: inputs.return_memory_offset.clone(),
                    was_precompile_called: false,
                    precompile_call_logs: Vec::new(),
                    charged_new_account_state_gas: inputs.charged_new_account_state_gas,
                }));
            }
        }
        if redirected {
            // The caller loaded the name's (empty) code: run the version's code instead,
            // following an EIP-7702 delegation as a call would.
            let journal = ctx.journal_mut();
            let mut account =
                journal.load_account_with_code(inputs.bytecode_address)?.data.info.clone();
            if let Some(delegate) = account.code.as_ref().and_then(|c| c.eip7702_address()) {
                account = journal.load_account_with_code(delegate)?.data.info.clone();
            }
            journal.load_account(inputs.target_address)?;
            inputs.known_bytecode = (account.code_hash(), account.code.unwrap_or_default());
        }
        Ok(None)
    }

    /// On `sm` chains, derives the new contract's address with SM3.
    fn on_create(
        &mut self,
        ctx: &mut JinlianContext<'_>,
        inputs: &mut CreateInputs,
    ) -> Result<Option<CreateOutcome>, ContextError<DbErr>> {
        // Deploying needs the `_sys_tables_` whitelist, through a factory as directly: the
        // account that sent the transaction is the one deploying.
        let origin = {
            use revm::context_interface::Transaction as _;
            ctx.tx().caller()
        };
        if !self.may_deploy(&origin)? {
            let reason =
                format!("Permission: {origin} may not deploy contracts (_sys_tables_ whitelist)");
            let data =
                alloy_sol_types::SolError::abi_encode(&alloy_sol_types::Revert::from(reason));
            return Ok(Some(CreateOutcome {
                result: InterpreterResult {
                    result: InstructionResult::Revert,
                    gas: Gas::new_with_regular_gas_and_reservoir(
                        inputs.gas_limit(),
                        inputs.reservoir(),
                    ),
                    output: Bytes::from(data),
                },
                address: None,
                charged_create_state_gas: inputs.charged_create_state_gas(),
            }));
        }
        if self.suite != CryptoSuite::Sm {
            return Ok(None);
        }
        let caller = inputs.caller();
        let address = match inputs.scheme() {
            revm::context_interface::CreateScheme::Create => {
                let nonce = ctx.journal_mut().load_account(caller)?.data.info.nonce;
                create_address(self.suite, &caller, nonce)
            }
            revm::context_interface::CreateScheme::Create2 { salt } => {
                let code_hash = self.suite.hash(inputs.init_code());
                create2_address(self.suite, &caller, B256::from(salt), &code_hash)
            }
            revm::context_interface::CreateScheme::Custom { .. } => return Ok(None),
        };
        inputs.set_scheme(revm::context_interface::CreateScheme::Custom { address });
        Ok(None)
    }

    fn may_deploy(&mut self, who: &Address) -> Result<bool, ContextError<DbErr>> {
        if let Some(ok) = self.deployers.get(who) {
            return Ok(*ok);
        }
        let ok = crate::system::may_deploy(self.parent, who).map_err(db_err)?;
        self.deployers.insert(*who, ok);
        Ok(ok)
    }
}

/// The address `CREATE` gives: the last 20 bytes of H(rlp([sender, nonce])) with the chain's
/// hash (Keccak: Ethereum's rule).
pub fn create_address(suite: CryptoSuite, sender: &Address, nonce: u64) -> Address {
    let mut out = Vec::with_capacity(32);
    alloy_rlp::Header { list: true, payload_length: sender.length() + nonce.length() }
        .encode(&mut out);
    sender.encode(&mut out);
    nonce.encode(&mut out);
    Address::from_slice(&suite.hash(&out)[12..])
}

/// The address `CREATE2` gives: the last 20 bytes of H(0xff ‖ sender ‖ salt ‖ H(init code))
/// with the chain's hash (Keccak: EIP-1014).
pub fn create2_address(
    suite: CryptoSuite,
    sender: &Address,
    salt: B256,
    init_code_hash: &B256,
) -> Address {
    let h =
        suite.hash_parts(&[&[0xff], sender.as_slice(), salt.as_slice(), init_code_hash.as_slice()]);
    Address::from_slice(&h[12..])
}

impl<'a> EvmTr for JinlianEvm<'a> {
    type Context = JinlianContext<'a>;
    type Instructions = EthInstructions<EthInterpreter, JinlianContext<'a>>;
    type Precompiles = SystemPrecompiles<'a>;
    type Frame = EthFrame;

    fn all(
        &self,
    ) -> (&Self::Context, &Self::Instructions, &Self::Precompiles, &FrameStack<Self::Frame>) {
        self.inner.all()
    }

    fn all_mut(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut FrameStack<Self::Frame>,
    ) {
        self.inner.all_mut()
    }

    fn frame_init(
        &mut self,
        init: FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextError<DbErr>> {
        if self.tracer.is_some() {
            let frame = match &init.frame_input {
                FrameInput::Call(c) => CallFrame {
                    kind: match c.scheme {
                        revm::interpreter::CallScheme::Call => "CALL",
                        revm::interpreter::CallScheme::CallCode => "CALLCODE",
                        revm::interpreter::CallScheme::DelegateCall => "DELEGATECALL",
                        revm::interpreter::CallScheme::StaticCall => "STATICCALL",
                    },
                    from: c.caller,
                    to: Some(c.target_address),
                    value: c.value.get(),
                    gas: c.gas_limit,
                    input: c.input.bytes(&self.inner.ctx),
                    ..CallFrame::default()
                },
                FrameInput::Create(c) => CallFrame {
                    kind: match c.scheme() {
                        revm::interpreter::CreateScheme::Create2 { .. } => "CREATE2",
                        _ => "CREATE",
                    },
                    from: c.caller(),
                    value: c.value(),
                    gas: c.gas_limit(),
                    input: c.init_code().clone(),
                    ..CallFrame::default()
                },
                FrameInput::Empty => CallFrame::default(),
            };
            let traced = self.traced_init(init, frame)?;
            return Ok(traced);
        }
        self.untraced_init(init)
    }

    fn frame_run(&mut self) -> Result<FrameInitOrResult<Self::Frame>, ContextError<DbErr>> {
        self.inner.frame_run()
    }

    fn frame_return_result(
        &mut self,
        result: FrameResult,
    ) -> Result<Option<FrameResult>, ContextError<DbErr>> {
        if let Some(t) = self.tracer.as_mut() {
            match t.ended_at_once.take() {
                Some(child) => t.finish(child),
                None => {
                    if let Some(mut frame) = t.open.pop() {
                        fill(&mut frame, &result);
                        t.finish(frame);
                    }
                }
            }
        }
        self.return_result(result)
    }
}

/// Applies the call rules, then lets revm open the frame.
fn init_frame<'s, 'a>(
    rules: &mut CallRules<'a>,
    inner: &'s mut Inner<'a>,
    mut init: FrameInit,
) -> Result<FrameInitResult<'s, EthFrame>, ContextError<DbErr>> {
    match &mut init.frame_input {
        FrameInput::Call(inputs) => {
            if let Some(outcome) = rules.on_call(&mut inner.ctx, inputs)? {
                return Ok(ItemOrResult::Result(FrameResult::Call(outcome)));
            }
        }
        FrameInput::Create(inputs) => {
            if let Some(outcome) = rules.on_create(&mut inner.ctx, inputs)? {
                return Ok(ItemOrResult::Result(FrameResult::Create(outcome)));
            }
        }
        FrameInput::Empty => {}
    }
    inner.frame_init(init)
}

impl<'a> JinlianEvm<'a> {
    /// `frame_init` with the call tree recorded.
    fn traced_init(
        &mut self,
        init: FrameInit,
        mut frame: CallFrame,
    ) -> Result<FrameInitResult<'_, EthFrame>, ContextError<DbErr>> {
        let first = self.tracer.as_ref().is_some_and(|t| t.open.is_empty() && t.root.is_none());
        let r = init_frame(&mut self.rules, &mut self.inner, init)?;
        let Some(t) = self.tracer.as_mut() else { return Ok(r) };
        match &r {
            ItemOrResult::Item(_) => t.open.push(frame),
            ItemOrResult::Result(result) => {
                fill(&mut frame, result);
                if first {
                    t.root = Some(frame);
                } else {
                    t.ended_at_once = Some(frame);
                }
            }
        }
        Ok(r)
    }

    fn untraced_init(
        &mut self,
        init: FrameInit,
    ) -> Result<FrameInitResult<'_, EthFrame>, ContextError<DbErr>> {
        init_frame(&mut self.rules, &mut self.inner, init)
    }

    fn return_result(
        &mut self,
        result: FrameResult,
    ) -> Result<Option<FrameResult>, ContextError<DbErr>> {
        // A contract created by this transaction (directly or by a factory) gets the sending
        // account as its first ContractLifeCycle manager. The write joins the journal of the
        // frame that receives the result, so it is undone if that frame reverts.
        if let FrameResult::Create(outcome) = &result
            && let (Some(created), true) = (outcome.address, outcome.result.result.is_ok())
        {
            let origin = {
                use revm::context_interface::Transaction as _;
                self.inner.ctx.tx().caller()
            };
            let (slot, value) = crate::system::deployer_slot(&created, &origin);
            let journal = self.inner.ctx.journal_mut();
            journal.load_account(crate::system::LIFECYCLE)?;
            journal.sstore(crate::system::LIFECYCLE, slot, value)?;
        }
        self.inner.frame_return_result(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_addresses_are_ethereums() {
        // Known Ethereum values (nonce 0 of a well-known deployer).
        let sender: Address =
            "0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0".parse().unwrap_or_default();
        assert_eq!(create_address(CryptoSuite::Ecdsa, &sender, 0), sender.create(0));
        assert_eq!(create_address(CryptoSuite::Ecdsa, &sender, 300), sender.create(300));
        let salt = B256::repeat_byte(7);
        let code = B256::repeat_byte(9);
        assert_eq!(
            create2_address(CryptoSuite::Ecdsa, &sender, salt, &code),
            sender.create2(salt, code)
        );
        assert_ne!(create_address(CryptoSuite::Sm, &sender, 0), sender.create(0));
    }
}
