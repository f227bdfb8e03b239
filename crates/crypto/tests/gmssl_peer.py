"""Independent SM2/SM3 peer for jinlian-crypto's cross-check test (uses the pure-Python gmssl).

Reads one JSON request on stdin:
  {"verify": [{"pub": hex64B, "msg": hex, "sig": hex(r||s)}],
   "sign":   [{"secret": hex32B, "msg": hex}],
   "sm3":    [hex]}
and answers on stdout:
  {"verify": [bool], "sign": [{"pub": hex64B, "sig": hex(r||s)}], "sm3": [hex]}
Signatures use the default user id 1234567812345678 (e = SM3(Z_A || msg)).
"""
import json
import secrets
import sys

from gmssl import func, sm2, sm3


def crypt(secret_hex, public_hex):
    c = sm2.CryptSM2(private_key=secret_hex, public_key="00" * 64)
    # gmssl's constructor strips a leading "04" with lstrip, which also eats digits of keys
    # whose x coordinate starts with 0 or 4; set the key afterwards to avoid that bug.
    c.public_key = public_hex
    return c


def main():
    req = json.load(sys.stdin)
    out = {"verify": [], "sign": [], "sm3": []}
    for item in req.get("verify", []):
        c = crypt("00", item["pub"])
        out["verify"].append(bool(c.verify_with_sm3(item["sig"], bytes.fromhex(item["msg"]))))
    for item in req.get("sign", []):
        c = crypt(item["secret"], "00" * 64)
        public = c._kg(int(item["secret"], 16), sm2.default_ecc_table["g"])
        c.public_key = public
        sig = None
        while sig is None:
            sig = c.sign_with_sm3(bytes.fromhex(item["msg"]), secrets.token_hex(32))
        out["sign"].append({"pub": public, "sig": sig})
    for msg in req.get("sm3", []):
        out["sm3"].append(sm3.sm3_hash(func.bytes_to_list(bytes.fromhex(msg))))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
