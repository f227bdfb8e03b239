//! ChainGovernance (FISCO 2.5+ address `0x1008`): a committee with weights and a threshold,
//! operators, and account freezing.
//!
//! - **Committee.** Members vote on granting and revoking members, on a member's weight and
//!   on the threshold. A change takes effect when the weights of the members who voted for
//!   it (with the same value, within 10,000 blocks) are more than `threshold`% of all
//!   members' weights; the call then returns 1, or 0 while more votes are needed. With no
//!   committee yet, the first `grantCommitteeMember` takes effect at once (it needs the
//!   `_sys_table_access_` whitelist, if that has entries). Members run the chain: they hold
//!   the `_sys_table_access_`, `_sys_config_` and `_sys_consensus_` whitelists, which only
//!   committee votes change from then on (Permission answers -51004 otherwise). The last
//!   member cannot be revoked. Weights start at 1; the threshold at 50 (0..99 allowed).
//! - **Operators** (granted and revoked by any committee member) hold the deploy
//!   (`_sys_tables_`) and CNS (`_sys_cns_`) whitelists; a member cannot be an operator.
//! - **Account freeze.** A committee member (anyone the `_sys_table_access_` whitelist
//!   allows, with no committee) freezes and unfreezes accounts; from the next block a
//!   transaction from a frozen account does not run and gets receipt status 31.
//!
//! Return codes are FISCO's (-52000 … -52012).

use super::{
    AddressSetStore, DbError, GET_GAS, PERMISSION, int, out_of_gas, output, read_slot, revert,
    slot_of, table_set, tables,
};
use crate::state::{StateError, StateView, keys};
use alloy_primitives::{Address, I256, U256, address};
use alloy_sol_types::{SolCall, SolInterface, sol};
use revm::context_interface::{ContextTr, JournalTr};
use revm::interpreter::CallInputs;
use revm::precompile::PrecompileOutput;

/// ChainGovernance (FISCO 2.x address).
pub const GOVERNANCE: Address = address!("0000000000000000000000000000000000001008");

/// FISCO: already a committee member.
pub const CODE_COMMITTEE_MEMBER_EXIST: i32 = -52000;
/// FISCO: not a committee member.
pub const CODE_COMMITTEE_MEMBER_NOT_EXIST: i32 = -52001;
/// FISCO: the sender may not make this request.
pub const CODE_INVALID_REQUEST_PERMISSION_DENIED: i32 = -52002;
/// FISCO: the threshold must be 0..99.
pub const CODE_INVALID_THRESHOLD: i32 = -52003;
/// FISCO: an operator cannot become a committee member.
pub const CODE_OPERATOR_CANNOT_BE_COMMITTEE_MEMBER: i32 = -52004;
/// FISCO: a committee member cannot become an operator.
pub const CODE_COMMITTEE_MEMBER_CANNOT_BE_OPERATOR: i32 = -52005;
/// FISCO: already an operator.
pub const CODE_OPERATOR_EXIST: i32 = -52006;
/// FISCO: not an operator.
pub const CODE_OPERATOR_NOT_EXIST: i32 = -52007;
/// FISCO: no such account (it has never sent or received anything).
pub const CODE_ACCOUNT_NOT_EXIST: i32 = -52008;
/// FISCO: not an account address.
pub const CODE_INVALID_ACCOUNT_ADDRESS: i32 = -52009;
/// FISCO: the account is not frozen.
pub const CODE_ACCOUNT_ALREADY_AVAILABLE: i32 = -52010;
/// FISCO: the account is already frozen.
pub const CODE_ACCOUNT_FROZEN: i32 = -52011;
/// FISCO: the value asked for is the current one.
pub const CODE_CURRENT_VALUE_IS_EXPECTED_VALUE: i32 = -52012;

/// Blocks a vote stays valid (FISCO: 10 × the block limit window).
pub const VOTE_LIFETIME: u64 = 10 * crate::executor::BLOCK_LIMIT_WINDOW;
/// The threshold before any vote changes it (percent).
pub const DEFAULT_THRESHOLD: u64 = 50;

const WRITE_GAS: u64 = 50_000;
/// Gas per member, voter or list entry a call reads (a few storage words each).
const ITEM_GAS: u64 = 1_000;
/// Gas for loading an arbitrary account (EIP-2929 cold account access).
const ACCOUNT_GAS: u64 = 2_600;
/// Largest committee, and most operators.
pub const MAX_MEMBERS: u64 = 1000;

sol! {
    /// FISCO BCOS 2.5+ ChainGovernancePrecompiled.
    interface IChainGovernance {
        function grantCommitteeMember(address user) external returns (int256);
        function revokeCommitteeMember(address user) external returns (int256);
        function listCommitteeMembers() external view returns (string);
        function updateCommitteeMemberWeight(address user, int256 weight) external returns (int256);
        function updateThreshold(int256 threshold) external returns (int256);
        function queryThreshold() external view returns (int256);
        function queryCommitteeMemberWeight(address user) external view returns (bool, int256);
        function queryVotesOfMember(address user) external view returns (string);
        function queryVotesOfThreshold() external view returns (string);
        function grantOperator(address user) external returns (int256);
        function revokeOperator(address user) external returns (int256);
        function listOperators() external view returns (string);
        function freezeAccount(address account) external returns (int256);
        function unfreezeAccount(address account) external returns (int256);
        function getAccountStatus(address account) external view returns (string);
    }
}

fn committee() -> AddressSetStore<'static> {
    AddressSetStore::owned(GOVERNANCE, "committee".into())
}

fn operators() -> AddressSetStore<'static> {
    AddressSetStore::owned(GOVERNANCE, "operators".into())
}

fn frozen() -> AddressSetStore<'static> {
    AddressSetStore::owned(GOVERNANCE, "frozen".into())
}

fn weight_slot(who: &Address) -> U256 {
    slot_of(&[b"jinlian.gov.weight", who.as_slice()])
}

fn threshold_slot() -> U256 {
    slot_of(&[b"jinlian.gov.threshold"])
}

/// The kinds of committee vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Motion {
    Grant = 1,
    Revoke = 2,
    Weight = 3,
    Threshold = 4,
}

impl Motion {
    fn key(self) -> &'static str {
        match self {
            Motion::Grant => "grant",
            Motion::Revoke => "revoke",
            Motion::Weight => "update_weight",
            Motion::Threshold => "update_threshold",
        }
    }
}

fn voters(motion: Motion, target: &Address) -> AddressSetStore<'static> {
    AddressSetStore::owned(GOVERNANCE, format!("votes.{}.{target:x}", motion as u8))
}

/// A voter's ballot: the value voted for at +0, the last height it counts at +1.
fn ballot_slot(motion: Motion, target: &Address, voter: &Address) -> U256 {
    slot_of(&[b"jinlian.gov.ballot", &[motion as u8], target.as_slice(), voter.as_slice()])
}

/// Whether `account` is frozen in a state (its transactions get status 31).
pub fn is_account_frozen(state: &dyn StateView, account: &Address) -> Result<bool, StateError> {
    Ok(!read_slot(state, GOVERNANCE, frozen().row_slot(account))?.is_zero())
}

/// Whether any account is frozen in a state.
pub fn any_frozen_accounts(state: &dyn StateView) -> Result<bool, StateError> {
    Ok(!read_slot(state, GOVERNANCE, frozen().count_slot())?.is_zero())
}

/// The committee members in a state.
pub fn committee_members(state: &dyn StateView) -> Result<Vec<Address>, StateError> {
    committee().read(state)
}

/// Installs a genesis committee (weight 1 each), holding the governance whitelists.
pub fn install_genesis_committee(state: &mut crate::state::MemState, members: &[Address]) {
    let mut view = SetWriter { state, account: GOVERNANCE };
    for m in members {
        view.insert("committee", m);
        view.account = PERMISSION;
        for t in [tables::ACCESS, tables::CONFIG, tables::CONSENSUS] {
            view.insert(t, m);
        }
        view.account = GOVERNANCE;
    }
}

/// Writes address-set members straight into a genesis state.
struct SetWriter<'a> {
    state: &'a mut crate::state::MemState,
    account: Address,
}

impl SetWriter<'_> {
    fn insert(&mut self, name: &str, who: &Address) {
        let set = AddressSetStore::owned(self.account, name.to_string());
        let word = |s: &Self, slot: U256| {
            s.state
                .entries
                .get(&keys::storage(&s.account, &slot))
                .map_or(U256::ZERO, |v| U256::from_be_slice(v))
        };
        let row = set.row_slot(who);
        if !word(self, row).is_zero() {
            return;
        }
        let count_slot = set.count_slot();
        let count = word(self, count_slot);
        let mut put = |slot: U256, v: U256| {
            self.state
                .entries
                .insert(keys::storage(&self.account, &slot), v.to_be_bytes::<32>().to_vec());
        };
        put(set.list_slot() + count, U256::from_be_slice(who.as_slice()));
        put(row, count + U256::from(1));
        put(count_slot, count + U256::from(1));
    }
}

/// What the sender is allowed, decided by the precompile provider from the parent state.
pub(super) struct Rights {
    /// The origin passes the `_sys_table_access_` whitelist (used while no committee exists).
    pub access: bool,
}

/// Runs a ChainGovernance call.
pub(super) fn run<CTX: ContextTr>(
    ctx: &mut CTX,
    data: &[u8],
    inputs: &CallInputs,
    origin: &Address,
    rights: Rights,
    height: u64,
) -> Result<PrecompileOutput, String> {
    use IChainGovernance::IChainGovernanceCalls as Call;
    let reservoir = inputs.reservoir;
    let gas_limit = inputs.gas_limit;
    let db = |e: <CTX::Db as revm::Database>::Error| format!("ChainGovernance storage: {e}");
    let Ok(call) = Call::abi_decode(data) else {
        return Ok(revert(
            GET_GAS,
            "ChainGovernance: unknown function or bad arguments",
            reservoir,
        ));
    };
    let j = ctx.journal_mut();
    let oog = || Ok(out_of_gas(reservoir));
    // What a read costs is known before its body is read: a fixed part plus the entries.
    let read_cost = |items: u64| GET_GAS.saturating_add(ITEM_GAS.saturating_mul(items));
    let threshold = {
        let t = j.sload(GOVERNANCE, threshold_slot()).map_err(db)?.data;
        if t.is_zero() { DEFAULT_THRESHOLD } else { t.saturating_to::<u64>() - 1 }
    };
    let weight_of = |j: &mut CTX::Journal, who: &Address| -> Result<u64, String> {
        let w = j.sload(GOVERNANCE, weight_slot(who)).map_err(db)?.data;
        Ok(if w.is_zero() { 1 } else { w.saturating_to() })
    };
    match &call {
        Call::listCommitteeMembers(_) => {
            let read = read_cost(committee().len(j).map_err(db)?.min(MAX_MEMBERS));
            if read > gas_limit {
                return oog();
            }
            let mut rows = Vec::new();
            for m in committee().members(j, 1000).map_err(db)? {
                rows.push(serde_json::json!({
                    "address": format!("{m:#x}"),
                    "weight": weight_of(j, &m)?,
                }));
            }
            let json = serde_json::Value::Array(rows).to_string();
            let out = IChainGovernance::listCommitteeMembersCall::abi_encode_returns(&json);
            return Ok(output(read, out, reservoir));
        }
        Call::listOperators(_) => {
            let read = read_cost(operators().len(j).map_err(db)?.min(MAX_MEMBERS));
            if read > gas_limit {
                return oog();
            }
            let rows: Vec<_> = operators()
                .members(j, 1000)
                .map_err(db)?
                .iter()
                .map(|m| serde_json::json!({ "address": format!("{m:#x}") }))
                .collect();
            let json = serde_json::Value::Array(rows).to_string();
            return Ok(output(
                read,
                IChainGovernance::listOperatorsCall::abi_encode_returns(&json),
                reservoir,
            ));
        }
        Call::queryThreshold(_) => {
            let read = GET_GAS;
            let out = IChainGovernance::queryThresholdCall::abi_encode_returns(&I256::from_raw(
                U256::from(threshold),
            ));
            return Ok(output(read, out, reservoir));
        }
        Call::queryCommitteeMemberWeight(c) => {
            let read = GET_GAS;
            let member = committee().contains(j, &c.user).map_err(db)?;
            let ret = if member {
                IChainGovernance::queryCommitteeMemberWeightReturn {
                    _0: true,
                    _1: I256::from_raw(U256::from(weight_of(j, &c.user)?)),
                }
            } else {
                IChainGovernance::queryCommitteeMemberWeightReturn {
                    _0: false,
                    _1: int(CODE_COMMITTEE_MEMBER_NOT_EXIST),
                }
            };
            let out = IChainGovernance::queryCommitteeMemberWeightCall::abi_encode_returns(&ret);
            return Ok(output(read, out, reservoir));
        }
        Call::queryVotesOfMember(c) => {
            let mut voters_count = 0u64;
            for motion in [Motion::Grant, Motion::Revoke, Motion::Weight] {
                voters_count += voters(motion, &c.user).len(j).map_err(db)?.min(MAX_MEMBERS);
            }
            let read = read_cost(voters_count);
            if read > gas_limit {
                return oog();
            }
            let mut obj = serde_json::Map::new();
            for motion in [Motion::Grant, Motion::Revoke, Motion::Weight] {
                obj.insert(motion.key().into(), ballots(j, motion, &c.user).map_err(db)?.into());
            }
            let json = serde_json::Value::Object(obj).to_string();
            let out = IChainGovernance::queryVotesOfMemberCall::abi_encode_returns(&json);
            return Ok(output(read, out, reservoir));
        }
        Call::queryVotesOfThreshold(_) => {
            let read = read_cost(
                voters(Motion::Threshold, &Address::ZERO).len(j).map_err(db)?.min(MAX_MEMBERS),
            );
            if read > gas_limit {
                return oog();
            }
            let mut obj = serde_json::Map::new();
            obj.insert(
                Motion::Threshold.key().into(),
                ballots(j, Motion::Threshold, &Address::ZERO).map_err(db)?.into(),
            );
            let json = serde_json::Value::Object(obj).to_string();
            let out = IChainGovernance::queryVotesOfThresholdCall::abi_encode_returns(&json);
            return Ok(output(read, out, reservoir));
        }
        Call::getAccountStatus(c) => {
            let read = GET_GAS + ACCOUNT_GAS;
            if read > gas_limit {
                return oog();
            }
            let text = if frozen().contains(j, &c.account).map_err(db)? {
                "The account has been frozen"
            } else if account_exists(j, &c.account).map_err(db)? {
                "The account is available"
            } else {
                "The account does not exist"
            };
            let out = IChainGovernance::getAccountStatusCall::abi_encode_returns(&text.to_string());
            return Ok(output(read, out, reservoir));
        }
        _ => {}
    }
    if inputs.is_static {
        return Ok(revert(
            GET_GAS,
            "ChainGovernance: changes cannot run in a static call",
            reservoir,
        ));
    }
    // A change may tally every member's ballot (or walk the operators): its price covers that.
    let members = committee().len(j).map_err(db)?;
    let write =
        WRITE_GAS.saturating_add(ITEM_GAS.saturating_mul(members + 1)).saturating_add(ACCOUNT_GAS);
    if gas_limit < write {
        return oog();
    }
    let ret = |code: i32| {
        Ok(output(
            write,
            IChainGovernance::grantCommitteeMemberCall::abi_encode_returns(&int(code)),
            reservoir,
        ))
    };
    let is_member = committee().contains(j, origin).map_err(db)?;
    // With no committee, the access whitelist decides; with one, membership does.
    let governs = if members == 0 { rights.access } else { is_member };
    let vote = |j: &mut CTX::Journal, motion: Motion, target: Address, value: U256| {
        cast_vote(j, motion, target, value, origin, height, threshold).map_err(db)
    };
    match call {
        Call::grantCommitteeMember(c) => {
            if !governs {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if c.user.is_zero() {
                return ret(CODE_INVALID_ACCOUNT_ADDRESS);
            }
            if committee().contains(j, &c.user).map_err(db)? {
                return ret(CODE_COMMITTEE_MEMBER_EXIST);
            }
            if operators().contains(j, &c.user).map_err(db)? {
                return ret(CODE_OPERATOR_CANNOT_BE_COMMITTEE_MEMBER);
            }
            if members >= MAX_MEMBERS {
                return Ok(revert(
                    write,
                    "ChainGovernance: the committee has 1000 members",
                    reservoir,
                ));
            }
            if members == 0 {
                // From now on the committee alone holds the governed whitelists: whoever was
                // on them before (the bootstrapping admin included) leaves them.
                for t in [tables::ACCESS, tables::CONFIG, tables::CONSENSUS] {
                    table_set(t).clear(j).map_err(db)?;
                }
                apply(j, Motion::Grant, c.user, U256::ZERO).map_err(db)?;
                return ret(1);
            }
            ret(vote(j, Motion::Grant, c.user, U256::ZERO)?)
        }
        Call::revokeCommitteeMember(c) => {
            if !is_member {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if !committee().contains(j, &c.user).map_err(db)? {
                return ret(CODE_COMMITTEE_MEMBER_NOT_EXIST);
            }
            if members == 1 {
                return Ok(revert(
                    WRITE_GAS,
                    "ChainGovernance: the last committee member cannot be revoked",
                    reservoir,
                ));
            }
            ret(vote(j, Motion::Revoke, c.user, U256::ZERO)?)
        }
        Call::updateCommitteeMemberWeight(c) => {
            if !is_member {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if c.weight <= I256::ZERO || c.weight > I256::try_from(1_000_000).unwrap_or_default() {
                return Ok(revert(
                    WRITE_GAS,
                    "ChainGovernance: a weight must be 1 to 1000000",
                    reservoir,
                ));
            }
            if !committee().contains(j, &c.user).map_err(db)? {
                return ret(CODE_COMMITTEE_MEMBER_NOT_EXIST);
            }
            let w = c.weight.into_raw();
            if U256::from(weight_of(j, &c.user)?) == w {
                return ret(CODE_CURRENT_VALUE_IS_EXPECTED_VALUE);
            }
            ret(vote(j, Motion::Weight, c.user, w)?)
        }
        Call::updateThreshold(c) => {
            if !is_member {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if c.threshold < I256::ZERO || c.threshold > I256::try_from(99).unwrap_or_default() {
                return ret(CODE_INVALID_THRESHOLD);
            }
            let t = c.threshold.into_raw();
            if U256::from(threshold) == t {
                return ret(CODE_CURRENT_VALUE_IS_EXPECTED_VALUE);
            }
            ret(vote(j, Motion::Threshold, Address::ZERO, t)?)
        }
        Call::grantOperator(c) => {
            if !governs {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if c.user.is_zero() {
                return ret(CODE_INVALID_ACCOUNT_ADDRESS);
            }
            if committee().contains(j, &c.user).map_err(db)? {
                return ret(CODE_COMMITTEE_MEMBER_CANNOT_BE_OPERATOR);
            }
            if operators().len(j).map_err(db)? >= MAX_MEMBERS {
                return Ok(revert(write, "ChainGovernance: there are 1000 operators", reservoir));
            }
            if !operators().insert(j, &c.user).map_err(db)? {
                return ret(CODE_OPERATOR_EXIST);
            }
            for t in [tables::DEPLOY, tables::CNS] {
                table_set(t).insert(j, &c.user).map_err(db)?;
            }
            ret(1)
        }
        Call::revokeOperator(c) => {
            if !governs {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if !operators().remove(j, &c.user).map_err(db)? {
                return ret(CODE_OPERATOR_NOT_EXIST);
            }
            for t in [tables::DEPLOY, tables::CNS] {
                table_set(t).remove(j, &c.user).map_err(db)?;
            }
            ret(1)
        }
        Call::freezeAccount(IChainGovernance::freezeAccountCall { account: a })
        | Call::unfreezeAccount(IChainGovernance::unfreezeAccountCall { account: a }) => {
            let account = a;
            let freeze = data.get(..4) == Some(&IChainGovernance::freezeAccountCall::SELECTOR[..]);
            if !governs {
                return ret(CODE_INVALID_REQUEST_PERMISSION_DENIED);
            }
            if account.is_zero() || super::SYSTEM_CONTRACTS.contains(&account) {
                return ret(CODE_INVALID_ACCOUNT_ADDRESS);
            }
            if freeze
                && (committee().contains(j, &account).map_err(db)?
                    || operators().contains(j, &account).map_err(db)?)
            {
                return Ok(revert(
                    write,
                    "ChainGovernance: committee members and operators cannot be frozen (revoke them first)",
                    reservoir,
                ));
            }
            if !account_exists(j, &account).map_err(db)? {
                return ret(CODE_ACCOUNT_NOT_EXIST);
            }
            if freeze && has_code(j, &account).map_err(db)? {
                return Ok(revert(
                    write,
                    "ChainGovernance: freezeAccount freezes accounts; freeze contracts with ContractLifeCycle (0x1007)",
                    reservoir,
                ));
            }
            if freeze {
                if !frozen().insert(j, &account).map_err(db)? {
                    return ret(CODE_ACCOUNT_FROZEN);
                }
            } else if !frozen().remove(j, &account).map_err(db)? {
                return ret(CODE_ACCOUNT_ALREADY_AVAILABLE);
            }
            ret(0)
        }
        _ => ret(0),
    }
}

fn account_exists<J: JournalTr>(j: &mut J, who: &Address) -> Result<bool, DbError<J>> {
    Ok(!j.load_account(*who)?.data.info.is_empty())
}

fn has_code<J: JournalTr>(j: &mut J, who: &Address) -> Result<bool, DbError<J>> {
    Ok(j.load_account_with_code(*who)?.data.info.code.as_ref().is_some_and(|c| !c.is_empty()))
}

/// The unexpired ballots on `(motion, target)` as FISCO-style JSON rows.
fn ballots<J: JournalTr>(
    j: &mut J,
    motion: Motion,
    target: &Address,
) -> Result<Vec<serde_json::Value>, DbError<J>> {
    let mut rows = Vec::new();
    for voter in voters(motion, target).members(j, 1000)? {
        let slot = ballot_slot(motion, target, &voter);
        let value = j.sload(GOVERNANCE, slot)?.data;
        let until = j.sload(GOVERNANCE, slot + U256::from(1))?.data;
        let mut row = serde_json::json!({
            "voter": format!("{voter:#x}"),
            "block_limit": until.saturating_to::<u64>().to_string(),
        });
        match motion {
            Motion::Weight => row["weight"] = value.saturating_to::<u64>().into(),
            Motion::Threshold => row["threshold"] = value.saturating_to::<u64>().into(),
            _ => {}
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Records `voter`'s ballot and applies the motion when it passes: returns 1 if it took
/// effect, 0 if it waits for more votes.
fn cast_vote<J: JournalTr>(
    j: &mut J,
    motion: Motion,
    target: Address,
    value: U256,
    voter: &Address,
    height: u64,
    threshold: u64,
) -> Result<i32, DbError<J>> {
    let set = voters(motion, &target);
    set.insert(j, voter)?;
    let slot = ballot_slot(motion, &target, voter);
    j.sstore(GOVERNANCE, slot, value)?;
    j.sstore(GOVERNANCE, slot + U256::from(1), U256::from(height.saturating_add(VOTE_LIFETIME)))?;
    // Tally the weights of current members whose unexpired ballot names this value.
    let mut total = 0u64;
    let mut voted = 0u64;
    for m in committee().members(j, 1000)? {
        let w = j.sload(GOVERNANCE, weight_slot(&m))?.data;
        let w = if w.is_zero() { 1 } else { w.saturating_to::<u64>() };
        total = total.saturating_add(w);
        if !set.contains(j, &m)? {
            continue;
        }
        let b = ballot_slot(motion, &target, &m);
        let same = j.sload(GOVERNANCE, b)?.data == value;
        let alive = j.sload(GOVERNANCE, b + U256::from(1))?.data >= U256::from(height);
        if same && alive {
            voted = voted.saturating_add(w);
        }
    }
    if u128::from(voted) * 100 <= u128::from(total) * u128::from(threshold) {
        return Ok(0);
    }
    // Passed: clear the ballots and apply.
    for v in set.members(j, 1000)? {
        let b = ballot_slot(motion, &target, &v);
        j.sstore(GOVERNANCE, b, U256::ZERO)?;
        j.sstore(GOVERNANCE, b + U256::from(1), U256::ZERO)?;
    }
    set.clear(j)?;
    apply(j, motion, target, value)?;
    Ok(1)
}

fn apply<J: JournalTr>(
    j: &mut J,
    motion: Motion,
    target: Address,
    value: U256,
) -> Result<(), DbError<J>> {
    let governed = [tables::ACCESS, tables::CONFIG, tables::CONSENSUS];
    match motion {
        Motion::Grant => {
            // The target may have become an operator while the vote ran: roles stay apart.
            if operators().contains(j, &target)? {
                return Ok(());
            }
            committee().insert(j, &target)?;
            for t in governed {
                table_set(t).insert(j, &target)?;
            }
        }
        Motion::Revoke => {
            committee().remove(j, &target)?;
            j.sstore(GOVERNANCE, weight_slot(&target), U256::ZERO)?;
            for t in governed {
                table_set(t).remove(j, &target)?;
            }
        }
        Motion::Weight => {
            j.sstore(GOVERNANCE, weight_slot(&target), value)?;
        }
        Motion::Threshold => {
            j.sstore(GOVERNANCE, threshold_slot(), value + U256::from(1))?;
        }
    }
    Ok(())
}

/// Whether a committee exists in the journal (Permission then refuses direct changes to
/// the tables the committee governs).
pub(super) fn has_committee<J: JournalTr>(j: &mut J) -> Result<bool, DbError<J>> {
    Ok(committee().len(j)? > 0)
}
