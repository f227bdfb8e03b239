"""A FISCO BCOS 2.x style client against a Jinlian node: it builds the 13-item consortium
transaction (randomid, gasPrice, gasLimit, blockLimit, to, value, data, chainId, groupId,
extraData, v, r, s) itself with independent libraries (pyrlp, eth-keys), signs
Keccak(rlp(first 10 items)), and talks the FISCO JSON-RPC methods with the group id first,
the way FISCO's python-sdk does (request ids from 0, `value` as a JSON integer).

Usage: python fisco_client.py HTTP_URL PRIVATE_KEY CHAIN_ID ARTIFACT_JSON
"""

import json
import random
import sys
import time
import urllib.request

import rlp
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

GROUP = 1
NEXT_ID = 0


def check(cond, what):
    if not cond:
        raise SystemExit(f"failed: {what}")
    print(f"ok: {what}", flush=True)


def call(url, method, params):
    global NEXT_ID
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": NEXT_ID}).encode()
    NEXT_ID += 1
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        check_status = resp.status
        out = json.loads(resp.read())
    if check_status != 200:
        raise SystemExit(f"failed: HTTP {check_status}")
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def sign_tx(key, chain_id, block_limit, to, data):
    fields = [
        random.randint(0, 10**9),  # randomid
        30000000,  # gasPrice (python-sdk's default; never charged)
        30000000,  # gasLimit (python-sdk's default)
        block_limit,
        to,  # b"" to deploy
        0,  # value
        data,
        chain_id,
        GROUP,
        b"",  # extraData
    ]
    digest = keccak(rlp.encode(fields))
    sig = keys.PrivateKey(key).sign_msg_hash(digest)
    v, r, s = sig.vrs
    return "0x" + rlp.encode(fields + [27 + v, r, s]).hex()


def wait_receipt(url, tx_hash):
    deadline = time.time() + 30
    while time.time() < deadline:
        r = call(url, "getTransactionReceipt", [GROUP, tx_hash])
        if r is not None:
            return r
        time.sleep(0.1)
    raise SystemExit(f"failed: no receipt for {tx_hash}")


def main():
    url, key_hex, chain_id, artifact_path = sys.argv[1:5]
    chain_id = int(chain_id)
    key = bytes.fromhex(key_hex.removeprefix("0x"))
    me = keys.PrivateKey(key).public_key.to_checksum_address()
    with open(artifact_path) as f:
        artifact = json.load(f)

    version = call(url, "getClientVersion", [])
    check("FISCO-BCOS Version" in version and version["Chain Id"] == str(chain_id), "getClientVersion")
    check(GROUP in call(url, "getGroupList", [GROUP]), "getGroupList")
    sealers = call(url, "getSealerList", [GROUP])
    check(len(sealers) == 4 and all(len(s) == 128 for s in sealers), "getSealerList")
    check(int(call(url, "getSystemConfigByKey", [GROUP, "tx_count_limit"])) > 0, "getSystemConfigByKey")
    height = int(call(url, "getBlockNumber", [GROUP]), 16)

    # Deploy the token with a consortium transaction: blockLimit = height + 500 (python-sdk).
    code = bytes.fromhex(artifact["bytecode"].removeprefix("0x")) + (1000).to_bytes(32, "big")
    raw = sign_tx(key, chain_id, height + 500, b"", code)
    tx_hash = call(url, "sendRawTransaction", [GROUP, raw])
    check(tx_hash == "0x" + keccak(bytes.fromhex(raw[2:])).hex(), "sendRawTransaction returns the hash of the bytes sent")
    receipt = wait_receipt(url, tx_hash)
    check(receipt["status"] == "0x0", f"deployed (status {receipt['status']})")
    token = receipt["contractAddress"]

    # A transfer, then read the balance with FISCO's `call`.
    other = "0x" + "77" * 20
    selector = keccak(b"transfer(address,uint256)")[:4]
    data = selector + bytes.fromhex(other[2:]).rjust(32, b"\0") + (25).to_bytes(32, "big")
    height = int(call(url, "getBlockNumber", [GROUP]), 16)
    tx_hash = call(url, "sendRawTransaction", [GROUP, sign_tx(key, chain_id, height + 500, bytes.fromhex(token[2:]), data)])
    receipt = wait_receipt(url, tx_hash)
    check(receipt["status"] == "0x0" and len(receipt["logs"]) == 1, "transfer with a Transfer log")
    check(receipt["from"].lower() == me.lower(), "the receipt names the signer")
    balance_of = keccak(b"balanceOf(address)")[:4] + bytes.fromhex(other[2:]).rjust(32, b"\0")
    out = call(url, "call", [GROUP, {"from": me, "to": token, "value": 0, "data": "0x" + balance_of.hex()}])
    check(out["status"] == "0x0" and int(out["output"], 16) == 25, "call balanceOf")

    # The transaction as FISCO reports it.
    tx = call(url, "getTransactionByHash", [GROUP, tx_hash])
    check(tx["groupId"] == "0x1" and int(tx["blockLimit"], 16) == height + 500, "getTransactionByHash keeps blockLimit and groupId")
    check(tx["signature"]["v"] in ("0x0", "0x1"), "signature v is the recovery id")
    block = call(url, "getBlockByNumber", [GROUP, receipt["blockNumber"], True])
    check(block["transactions"][0]["hash"] == tx_hash and len(block["signatureList"]) >= 3, "getBlockByNumber with the commit signatures")
    totals = call(url, "getTotalTransactionCount", [GROUP])
    check(int(totals["txSum"], 16) >= 2, "getTotalTransactionCount")

    # A replay (same bytes) is refused with a reason.
    try:
        call(url, "sendRawTransaction", [GROUP, sign_tx(key, chain_id, height + 500, bytes.fromhex(token[2:]), data)])
    except RuntimeError as e:
        raise SystemExit(f"failed: a fresh randomid was refused: {e}")
    try:
        call(url, "sendRawTransaction", [GROUP, raw])
        raise SystemExit("failed: a replayed transaction was accepted")
    except RuntimeError as e:
        check("already" in str(e), f"replay refused: {e}")
    # The wrong group is refused.
    try:
        call(url, "getBlockNumber", [7])
        raise SystemExit("failed: group 7 answered")
    except RuntimeError as e:
        check("-40001" in str(e), "unknown group refused with -40001")

    proof = call(url, "getTransactionReceiptByHashWithProof", [GROUP, tx_hash])
    check(proof["receiptProof"]["blockHash"] == receipt["blockHash"], "receipt with its proof")
    print("all FISCO client checks passed", flush=True)


if __name__ == "__main__":
    main()
