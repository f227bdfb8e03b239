// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface ICns {
    function nameAddress(string calldata name) external view returns (address);
}

/// One version of a service registered in CNS: it counts calls and says which version ran
/// and who called, so tests can see where a name routed a call.
contract Versioned {
    string public version;
    uint256 public calls;

    event Served(string version, address indexed caller, address indexed origin, uint256 calls);

    constructor(string memory v) {
        version = v;
    }

    function serve() external returns (string memory) {
        calls += 1;
        emit Served(version, msg.sender, tx.origin, calls);
        return version;
    }
}

/// Calls a service through its CNS name, never through a version's address: upgrades of the
/// name never need a new `NameCaller`.
contract NameCaller {
    address public immutable service;

    constructor(string memory name) {
        service = ICns(address(0x1004)).nameAddress(name);
    }

    function callService() external returns (string memory) {
        return Versioned(service).serve();
    }
}
