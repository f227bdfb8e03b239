// ethers.js v6 against a Jinlian node, as a dapp would use it: deploy an ERC-20, transfer,
// read events and balances, decode a revert reason and a custom error, estimate gas, and
// follow new blocks and logs over WebSocket.
//
// Usage: node ethers.mjs HTTP_URL WS_URL PRIVATE_KEY ARTIFACT_JSON
// Prints one "ok: ..." line per check; exits non-zero on the first failure.

import { ethers } from "ethers";
import { readFileSync } from "node:fs";

const [http, wsUrl, key, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));

function check(cond, what) {
  if (!cond) {
    throw new Error(`failed: ${what}`);
  }
  console.log(`ok: ${what}`);
}

function within(ms, promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

// ethers shares identical requests made within 250 ms (`cacheTimeout`); a chain that commits
// faster than that (block interval 0 here) needs it off, or a transaction sent right after a
// receipt gets the nonce from before it. Poll faster than the default 4 s for the same reason.
const provider = new ethers.JsonRpcProvider(http, undefined, { cacheTimeout: -1 });
provider.pollingInterval = 200;
const wallet = new ethers.Wallet(key, provider);
const other = ethers.Wallet.createRandom().address;

const network = await provider.getNetwork();
check(network.chainId > 0n, `chain id ${network.chainId}`);
const start = await provider.getBlockNumber();
check(start >= 0, `block number ${start}`);
const fee = await provider.getFeeData();
check(fee.gasPrice === 0n, "gas price is zero");

// Deploy.
const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
const token = await factory.deploy(1000n);
await within(30000, token.waitForDeployment(), "deployment");
const address = await token.getAddress();
check((await provider.getCode(address)).length > 2, `deployed at ${address}`);
check((await token.balanceOf(wallet.address)) === 1000n, "deployer holds the supply");

// Estimate and transfer; read the event from the receipt and from logs.
const estimate = await token.transfer.estimateGas(other, 10n);
check(estimate > 21000n && estimate < 100000n, `estimateGas ${estimate}`);
const tx = await token.transfer(other, 10n);
const receipt = await within(30000, tx.wait(), "transfer receipt");
check(receipt.status === 1, "transfer succeeded");
const parsed = receipt.logs.map((l) => token.interface.parseLog(l)).filter(Boolean);
check(
  parsed.length === 1 && parsed[0].name === "Transfer" && parsed[0].args.value === 10n,
  "Transfer event in the receipt",
);
check((await token.balanceOf(other)) === 10n, "recipient balance");
const events = await token.queryFilter(token.filters.Transfer(wallet.address, other), 0, "latest");
check(events.length === 1 && events[0].transactionHash === tx.hash, "queryFilter finds the transfer");
const fetched = await provider.getTransaction(tx.hash);
check(fetched.from === wallet.address && fetched.hash === tx.hash, "getTransaction");
const block = await provider.getBlock(receipt.blockNumber);
check(block.hash === receipt.blockHash && block.transactions.includes(tx.hash), "getBlock");

// Reverts: a reason string and a custom error, decoded by ethers.
try {
  await token.transferFrom.staticCall(other, wallet.address, 1n);
  check(false, "transferFrom without allowance reverts");
} catch (e) {
  check(e.code === "CALL_EXCEPTION" && e.reason === "allowance too low", `revert reason: ${e.reason}`);
}
try {
  await token.transfer.staticCall(other, 10n ** 30n);
  check(false, "an over-large transfer reverts");
} catch (e) {
  check(e.revert && e.revert.name === "InsufficientBalance", `custom error: ${e.revert && e.revert.name}`);
}
try {
  await token.transfer.estimateGas(other, 10n ** 30n);
  check(false, "estimating a reverting transfer fails");
} catch (e) {
  check(e.code === "CALL_EXCEPTION", "estimateGas reports the revert");
}

// Several transactions in a row without waiting: nonces come from the pending count.
const sent = [];
for (let i = 0; i < 3; i++) {
  sent.push(await token.transfer(other, 1n));
}
await within(30000, Promise.all(sent.map((t) => t.wait())), "three transfers");
check((await token.balanceOf(other)) === 13n, "three quick transfers all landed");

// WebSocket: new blocks and the token's logs.
const ws = new ethers.WebSocketProvider(wsUrl);
const wsToken = new ethers.Contract(address, artifact.abi, ws);
const gotBlock = new Promise((resolve) => ws.once("block", resolve));
const gotLog = new Promise((resolve) => wsToken.once("Transfer", (from, to, value, ev) => resolve({ from, to, value, ev })));
// Let the subscriptions reach the node before the transaction that should trigger them.
await new Promise((r) => setTimeout(r, 500));
const wsTx = await token.transfer(other, 2n);
const n = await within(30000, gotBlock, "a newHeads block over WebSocket");
check(typeof n === "number" && n > start, `block ${n} over WebSocket`);
const log = await within(30000, gotLog, "a Transfer log over WebSocket");
check(log.value === 2n && log.to === other && log.ev.log.transactionHash === wsTx.hash, "Transfer log over WebSocket");
await ws.removeAllListeners();
console.log("all ethers.js checks passed");
// (ethers' destroy() cancels the unsubscriptions still in flight and throws; just leave.)
process.exit(0);
