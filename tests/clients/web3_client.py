"""web3.py against a Jinlian node, as a Python application would use it: deploy an ERC-20,
transfer, read events, balances and logs, decode a revert reason, estimate gas, and poll
block and log filters.

Usage: python web3_client.py HTTP_URL PRIVATE_KEY ARTIFACT_JSON
Prints one "ok: ..." line per check; exits non-zero on the first failure.
"""

import json
import sys

from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError


def check(cond, what):
    if not cond:
        raise SystemExit(f"failed: {what}")
    print(f"ok: {what}", flush=True)


def main():
    url, key, artifact_path = sys.argv[1:4]
    with open(artifact_path) as f:
        artifact = json.load(f)
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    me = Account.from_key(key)
    other = Account.create().address

    check(w3.is_connected(), "connected")
    chain_id = w3.eth.chain_id
    check(chain_id > 0, f"chain id {chain_id}")
    start = w3.eth.block_number
    check(w3.eth.gas_price == 0, "gas price is zero")

    def send(tx):
        tx.setdefault("from", me.address)
        tx.setdefault("nonce", w3.eth.get_transaction_count(me.address, "pending"))
        tx.setdefault("chainId", chain_id)
        tx.setdefault("gasPrice", w3.eth.gas_price)
        if "gas" not in tx:
            tx["gas"] = w3.eth.estimate_gas(tx)
        signed = me.sign_transaction(tx)
        h = w3.eth.send_raw_transaction(signed.raw_transaction)
        return w3.eth.wait_for_transaction_receipt(h, timeout=30, poll_latency=0.1)

    # Filters installed before anything happens.
    block_filter = w3.eth.filter("latest")

    # Deploy.
    Token = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    rc = send(Token.constructor(1000).build_transaction({"from": me.address, "gasPrice": 0, "nonce": w3.eth.get_transaction_count(me.address, "pending")}))
    check(rc["status"] == 1 and rc["contractAddress"], f"deployed at {rc['contractAddress']}")
    token = w3.eth.contract(address=rc["contractAddress"], abi=artifact["abi"])
    check(token.functions.balanceOf(me.address).call() == 1000, "deployer holds the supply")
    check(token.functions.symbol().call() == "JLT", "symbol")

    transfer_filter = token.events.Transfer.create_filter(from_block="latest")

    # Estimate and transfer; events from the receipt.
    gas = token.functions.transfer(other, 10).estimate_gas({"from": me.address})
    check(21000 < gas < 100000, f"estimate_gas {gas}")
    rc = send(token.functions.transfer(other, 10).build_transaction({"from": me.address, "gasPrice": 0, "nonce": w3.eth.get_transaction_count(me.address, "pending")}))
    check(rc["status"] == 1, "transfer succeeded")
    events = token.events.Transfer().process_receipt(rc)
    check(len(events) == 1 and events[0]["args"]["value"] == 10 and events[0]["args"]["to"] == other, "Transfer event in the receipt")
    check(token.functions.balanceOf(other).call() == 10, "recipient balance")
    check(w3.eth.get_balance(me.address) >= 0, "get_balance")

    # get_logs by address and topic.
    topic = w3.keccak(text="Transfer(address,address,uint256)")
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": token.address, "topics": [topic]})
    check(len(logs) == 2, f"get_logs finds the mint and the transfer ({len(logs)})")
    check(logs[1]["transactionHash"] == rc["transactionHash"], "get_logs names the transaction")

    # Filters polled.
    entries = transfer_filter.get_new_entries()
    check(len(entries) == 1 and entries[0]["args"]["value"] == 10, f"event filter got the transfer ({len(entries)})")
    check(transfer_filter.get_new_entries() == [], "event filter drains")
    new_blocks = block_filter.get_new_entries()
    check(len(new_blocks) >= 2, f"block filter saw {len(new_blocks)} blocks")
    check(w3.eth.uninstall_filter(block_filter.filter_id), "uninstall filter")

    # A revert reason, decoded.
    try:
        token.functions.transferFrom(other, me.address, 1).call({"from": me.address})
        check(False, "transferFrom without allowance reverts")
    except ContractLogicError as e:
        check("allowance too low" in str(e), f"revert reason: {e}")

    # Blocks and transactions.
    block = w3.eth.get_block(rc["blockNumber"], full_transactions=True)
    check(block["hash"] == rc["blockHash"] and block["transactions"][0]["hash"] == rc["transactionHash"], "get_block with transactions")
    tx = w3.eth.get_transaction(rc["transactionHash"])
    check(tx["from"] == me.address and tx["to"] == token.address, "get_transaction")
    check(w3.eth.block_number > start, "the chain moved")
    print("all web3.py checks passed", flush=True)


if __name__ == "__main__":
    main()
