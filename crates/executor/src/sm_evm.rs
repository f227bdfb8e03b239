//! 国密 mode: on `sm` chains the EVM's `KECCAK256` (SHA3) opcode computes SM3, as FISCO BCOS's
//! SM build does, so Solidity mappings, `keccak256(...)` in contracts and event topics
//! compiled by FISCO's SM solc match.

use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter::resize_memory;
use revm::interpreter::{
    Host, InstructionContext, InstructionExecResult, as_usize_or_fail, gas, popn_top,
};
use revm::primitives::{B256, U256};
use sm3::{Digest, Sm3};

/// SM3 of the empty string.
const SM3_EMPTY: [u8; 32] = [
    0x1a, 0xb2, 0x1d, 0x83, 0x55, 0xcf, 0xa1, 0x7f, 0x8e, 0x61, 0x19, 0x48, 0x31, 0xe8, 0x1a, 0x8f,
    0x22, 0xbe, 0xc8, 0xc7, 0x28, 0xfe, 0xfb, 0x74, 0x7e, 0xd0, 0x35, 0xeb, 0x50, 0x82, 0xaa, 0x2b,
];

/// The `KECCAK256` instruction computing SM3 (same gas schedule).
pub(crate) fn sm3_hash<H: Host + ?Sized>(
    context: InstructionContext<'_, H, EthInterpreter>,
) -> InstructionExecResult {
    popn_top!([offset], top, context.interpreter);
    let len = as_usize_or_fail!(context.interpreter, top);
    gas!(context.interpreter, context.host.gas_params().keccak256_cost(len));
    let hash = if len == 0 {
        B256::from(SM3_EMPTY)
    } else {
        let from = as_usize_or_fail!(context.interpreter, offset);
        resize_memory(
            &mut context.interpreter.gas,
            &mut context.interpreter.memory,
            context.host.gas_params(),
            from,
            len,
        )?;
        B256::from_slice(&Sm3::digest(context.interpreter.memory.slice_len(from, len).as_ref()))
    };
    *top = U256::from_be_bytes(hash.0);
    Ok(())
}
