// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface ISystemConfig {
    function getValueByKey(string calldata key) external view returns (string memory, int256);
    function setValueByKey(string calldata key, string calldata value) external returns (int32);
}

/// Reads block and chain fields, reverts with a reason, emits events, and calls a system
/// contract, so tests can check what contracts see on a Jinlian chain.
contract Probe {
    event Seen(uint256 indexed number, uint256 timestamp, uint256 chainId, address origin);

    function fields() external view returns (uint256 number, uint256 timestamp, uint256 chainId, uint256 gasLimit) {
        return (block.number, block.timestamp, block.chainid, block.gaslimit);
    }

    function record() external {
        emit Seen(block.number, block.timestamp, block.chainid, tx.origin);
    }

    function fail(string calldata why) external pure {
        revert(why);
    }

    function hashOf(bytes calldata data) external pure returns (bytes32) {
        return keccak256(data);
    }

    function config(string calldata key) external view returns (string memory value, int256 enableNum) {
        return ISystemConfig(address(0x1000)).getValueByKey(key);
    }

    function setConfig(string calldata key, string calldata value) external returns (int32) {
        return ISystemConfig(address(0x1000)).setValueByKey(key, value);
    }
}

/// Deploys `Probe` copies at CREATE2 addresses.
contract Factory {
    event Deployed(address at, bytes32 salt);

    function deploy(bytes32 salt) external returns (address at) {
        at = address(new Probe{salt: salt}());
        emit Deployed(at, salt);
    }

    function predict(bytes32 salt) external view returns (address) {
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, keccak256(type(Probe).creationCode)));
        return address(uint160(uint256(h)));
    }
}
