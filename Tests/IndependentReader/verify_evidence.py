#!/usr/bin/env python3
"""An independent verifier of Tracebox evidence, written from docs/checkpoints.md alone.

    verify_evidence.py bundle BUNDLE.json VKEY
        checks an evidence bundle (`tracebox audit proof`): the checkpoint's signature by
        VKEY, each payload against its body hash, each record's leaf and inclusion proof.
    verify_evidence.py consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json VKEY
        checks both checkpoints' signatures, then that the consistency proof
        (`tracebox audit consistency --json`: {"proof": [base64, ...], ...}) shows the new
        tree extends the old one.

Prints OK and exits 0 when everything holds; prints FAILED and the reason, exits 1,
otherwise. Needs the Python standard library and the `cryptography` package (Ed25519).
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failed(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).digest()


def node(left, right):
    return sha256(b"\x01" + left + right)


# --- §4: keys and signed notes -----------------------------------------------------------

def parse_vkey(text):
    name, key_id, key = text.strip().split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Failed("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
    public = raw[1:]
    if sha256(name.encode() + b"\n" + b"\x01" + public)[:4].hex() != key_id.lower():
        raise Failed("the verifier key's id does not match its name and key")
    return name, bytes.fromhex(key_id), public


def verify_note(note, vkey):
    """Returns the signed text of `note` if a signature line by `vkey` verifies."""
    name, key_id, public = parse_vkey(vkey)
    if "\n\n" not in note or not note.endswith("\n"):
        raise Failed("not a signed note (text, blank line, signatures)")
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    for line in signatures[:-1].split("\n"):
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "\u2014":
            raise Failed(f"bad signature line {line[:60]!r}")
        if fields[1] != name:
            continue
        blob = base64.b64decode(fields[2], validate=True)
        if len(blob) != 68 or blob[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise Failed("the checkpoint's signature does not verify")
        return text
    raise Failed(f"the note has no signature by {name}")


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit() or str(int(lines[1])) != lines[1]:
        raise Failed("a checkpoint is origin, size and root, one per line")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Failed("the checkpoint's root is not 32 bytes")
    return lines[0], int(lines[1]), root


# --- §1: leaves; §3: proofs (RFC 9162) ----------------------------------------------------

def leaf_hash(sequence, record_type, metadata, body_sha256):
    leaf = struct.pack("<QBI", sequence, record_type, len(metadata)) + metadata + body_sha256
    return sha256(b"\x00" + leaf)


def verify_inclusion(leaf, index, size, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if first == 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- §6: bundles --------------------------------------------------------------------------

def check_bundle(path, vkey):
    with open(path, "rb") as f:
        bundle = json.loads(f.read())
    if bundle.get("format") != "tracebox-evidence/1":
        raise Failed("unknown bundle format")
    origin, size, root = parse_checkpoint(verify_note(bundle["checkpoint"], vkey))
    if not bundle["records"]:
        raise Failed("the bundle holds no record")
    for record in bundle["records"]:
        sequence = record["sequence"]
        body = bytes.fromhex(record["body_sha256"])
        if len(body) != 32:
            raise Failed(f"record {sequence}: body_sha256 is not 32 bytes")
        if record["record_type"] == 1 and record.get("payload_base64") is None:
            raise Failed(f"record {sequence} is an event, and the bundle lacks its payload")
        if record.get("payload_base64") is not None:
            if sha256(base64.b64decode(record["payload_base64"], validate=True)) != body:
                raise Failed(f"record {sequence}: the payload does not match body_sha256")
        proof = [base64.b64decode(p, validate=True) for p in record["inclusion_proof"]]
        leaf = leaf_hash(sequence, record["record_type"], record["metadata"].encode(), body)
        if sequence < 1 or not verify_inclusion(leaf, sequence - 1, size, proof, root):
            raise Failed(f"record {sequence} is not in the checkpoint's tree of {size} records")
    return f"OK: {len(bundle['records'])} record(s) in {origin}'s tree of {size} records"


def check_consistency(old_path, new_path, proof_path, vkey):
    with open(old_path) as f:
        _, old_size, old_root = parse_checkpoint(verify_note(f.read(), vkey))
    with open(new_path) as f:
        _, new_size, new_root = parse_checkpoint(verify_note(f.read(), vkey))
    with open(proof_path) as f:
        proof = [base64.b64decode(p, validate=True) for p in json.load(f)["proof"]]
    if not verify_consistency(old_size, new_size, old_root, new_root, proof):
        raise Failed(f"the tree of {new_size} records does not extend the tree of {old_size} records")
    return f"OK: the tree of {new_size} records extends the tree of {old_size} records"


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "bundle":
            print(check_bundle(argv[2], argv[3]))
        elif len(argv) == 6 and argv[1] == "consistency":
            print(check_consistency(argv[2], argv[3], argv[4], argv[5]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Failed, ValueError, KeyError, TypeError, json.JSONDecodeError) as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
