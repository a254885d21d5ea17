#!/usr/bin/env python3
"""An independent verifier of Tracebox evidence, written from docs/checkpoints.md alone.

    verify_evidence.py bundle BUNDLE.json VKEY [--event-id ID] [--checkpoint FILE]
        checks an evidence bundle (`tracebox audit proof`): read strictly (§6.1), the
        checkpoint's signature by VKEY (or a key that the bundle's key rotations lead to,
        §8), each payload against its body hash, each record's leaf and inclusion proof;
        with --event-id, that it proves that event; with --checkpoint, that its tree is the
        held checkpoint's tree or extends it (a consistency proof in the bundle).
    verify_evidence.py consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json VKEY
        checks both checkpoints' signatures, then that the consistency proof file (§7.1)
        shows the new tree extends the old one.
    verify_evidence.py fetch BASE_URL OLD_CHECKPOINT VKEY
        asks a daemon's transparency endpoint (§7.2) for its latest checkpoint and the
        consistency proof from OLD_CHECKPOINT's size, and checks both.

Prints OK and exits 0 when everything holds; prints FAILED and the reason, exits 1,
otherwise. Needs the Python standard library and the `cryptography` package (Ed25519).
"""
import base64
import hashlib
import json
import re
import urllib.request
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

def canonical_b64(text, field, length=None):
    if not isinstance(text, str):
        raise Failed(f"{field} is not a string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise Failed(f"{field} is not base64")
    if base64.b64encode(raw).decode() != text:
        raise Failed(f"{field} is not canonical base64")
    if length is not None and len(raw) != length:
        raise Failed(f"{field} holds {len(raw)} bytes, not {length}")
    return raw


def lower_hex(text, field, length):
    if not isinstance(text, str) or not re.fullmatch(r"[0-9a-f]{%d}" % (2 * length), text):
        raise Failed(f"{field} is not {2 * length} lower-case hex digits")
    return bytes.fromhex(text)


def valid_name(name):
    return name != "" and not any(c == "+" or c.isspace() or ord(c) < 0x20 for c in name)


def parse_vkey(text):
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]):
        raise Failed("a verifier key is NAME+KEYID+BASE64")
    name, key_id, key = parts
    raw = canonical_b64(key, "the verifier key", 33)
    if raw[0] != 0x01:
        raise Failed("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
    public = raw[1:]
    if sha256(name.encode() + b"\n" + b"\x01" + public)[:4].hex() != key_id:
        raise Failed("the verifier key's id is not the lower-case hex its name and key give")
    return name, bytes.fromhex(key_id), public


def split_note(note):
    if "\n\n" not in note:
        raise Failed("not a signed note (text, blank line, signatures)")
    text, block = note.split("\n\n", 1)
    text += "\n"
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise Failed("the note's text holds a control character")
    if not block.endswith("\n"):
        raise Failed("a signed note ends with a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "\u2014" or not valid_name(fields[1]):
            raise Failed(f"bad signature line {line[:60]!r}")
        blob = canonical_b64(fields[2], "a signature")
        if len(blob) < 4:
            raise Failed("a signature is shorter than its key id")
        signatures.append((fields[1], blob))
    return text, signatures


def verify_note(note, vkey):
    """Returns the signed text of `note` if it is signed by `vkey`: at least one signature
    line by the key (its name and id), and every such line verifies."""
    name, key_id, public = parse_vkey(vkey)
    text, signatures = split_note(note)
    mine = [blob for signer, blob in signatures if signer == name and blob[:4] == key_id]
    if not mine:
        raise Failed(f"the note has no signature by {name}")
    for blob in mine:
        try:
            if len(blob) != 68:
                raise InvalidSignature()
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise Failed("a signature by the pinned key does not verify")
    return text


def has_line_by(note, vkey):
    name, key_id, _ = parse_vkey(vkey)
    try:
        return any(signer == name and blob[:4] == key_id for signer, blob in split_note(note)[1])
    except Failed:
        return False


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] == "" or "" in lines[3:-1] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failed("a checkpoint is origin, size and root, one per line")
    root = canonical_b64(lines[2], "the checkpoint's root", 32)
    return lines[0], int(lines[1]), root


def checkpoint_by(note, vkey):
    """Verifies the note with vkey and checks that its origin names the key (§4)."""
    origin, size, root = parse_checkpoint(verify_note(note, vkey))
    name = vkey.strip().split("+", 1)[0]
    if origin != name and not re.fullmatch(re.escape(name) + r"/p[0-9]{4}", origin):
        raise Failed(f"the origin {origin} does not name the key {name}")
    return origin, size, root


def follow_rotations(notes, vkey):
    """§8: each note by the key reached so far names the next key. Returns the keys reached,
    each with the tree size it speaks from, the pinned key first."""
    keys, from_size = [vkey.strip()], 0
    links = [(keys[0], 0)]
    for n, note in enumerate(notes):
        if not isinstance(note, str):
            raise Failed(f"key rotation {n} is not a string")
        if not has_line_by(note, keys[-1]):
            continue
        text = verify_note(note, keys[-1])
        origin, size, _ = checkpoint_by(note, keys[-1])
        extensions = text.split("\n")[3:-1]
        if len(extensions) != 1 or not extensions[0].startswith("key-rotated "):
            raise Failed(f"key rotation {n} has no single 'key-rotated' line")
        new_key = extensions[0][len("key-rotated "):]
        new_name = parse_vkey(new_key)[0]
        if any(k.split("+", 1)[0] == new_name for k in keys):
            raise Failed(f"key rotation {n} names a key already in the chain")
        if size < from_size:
            raise Failed(f"key rotation {n} is out of order")
        keys.append(new_key)
        from_size = size
        links.append((new_key, size))
    return links


def checkpoint_by_chain(note, links):
    """Verifies a checkpoint with the newest key of the chain that has a line in it."""
    for key, from_size in reversed(links):
        if has_line_by(note, key):
            origin, size, root = checkpoint_by(note, key)
            if size < from_size:
                raise Failed("the checkpoint is older than the key rotation to its key")
            return origin, size, root
    raise Failed("the note has no signature by the pinned key or a key it rotated to")


# --- §6.1: reading JSON one way -----------------------------------------------------------

def strict_json(data, what):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failed(f"{what} is not valid UTF-8")

    def pairs(items):
        seen = set()
        for key, _ in items:
            if key in seen:
                raise Failed(f"{what}: the key {key!r} appears twice")
            seen.add(key)
        return dict(items)

    def no_float(token):
        raise Failed(f"{what}: a number with a fraction or exponent ({token})")

    def integer(token):
        if token.startswith("-"):
            raise Failed(f"{what}: a negative number")
        if len(token) > 20:
            raise Failed(f"{what}: a number too large")
        return int(token)

    def no_constant(token):
        raise Failed(f"{what}: {token} is not JSON")

    value = json.loads(text, object_pairs_hook=pairs, parse_float=no_float, parse_int=integer, parse_constant=no_constant)

    def walk(v, depth):
        if depth > 32:
            raise Failed(f"{what}: nesting deeper than 32")
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise Failed(f"{what}: a lone surrogate escape")
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k, depth)
                walk(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)
    walk(value, 0)
    return value


def fields(obj, what, required, optional=()):
    if not isinstance(obj, dict):
        raise Failed(f"{what} is not an object")
    for key in obj:
        if key not in required and key not in optional:
            raise Failed(f"{what} holds the field {key!r}, which the format does not have")
    for key in required:
        if key not in obj:
            raise Failed(f"{what} lacks {key}")
    return obj


def uint(v, what, bits=64):
    if type(v) is not int or not 0 <= v < 2 ** bits:
        raise Failed(f"{what} is not an unsigned {bits}-bit integer")
    return v


def string(v, what):
    if type(v) is not str:
        raise Failed(f"{what} is not a string")
    return v


def string_list(v, what):
    if type(v) is not list:
        raise Failed(f"{what} is not a list")
    return [string(x, what) for x in v]


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

def check_bundle(path, vkey, event_id=None, held_path=None):
    with open(path, "rb") as f:
        bundle = fields(strict_json(f.read(), "the bundle"), "the bundle", ("format", "checkpoint", "records"),
                        ("consistency", "key_rotations"))
    if string(bundle["format"], "format") != "tracebox-evidence/1":
        raise Failed("unknown bundle format")
    rotations = bundle.get("key_rotations")
    links = follow_rotations(string_list(rotations, "key_rotations") if rotations is not None else [], vkey)
    origin, size, root = checkpoint_by_chain(string(bundle["checkpoint"], "checkpoint"), links)
    records = bundle["records"]
    if type(records) is not list or not records:
        raise Failed("the bundle holds no record")
    events = []
    for record in records:
        fields(record, "a record", ("sequence", "record_type", "metadata", "body_sha256", "inclusion_proof"), ("payload_base64",))
        sequence = uint(record["sequence"], "sequence")
        record_type = uint(record["record_type"], "record_type", 8)
        metadata = string(record["metadata"], "metadata")
        body = lower_hex(record["body_sha256"], f"record {sequence}: body_sha256", 32)
        payload = record.get("payload_base64")
        if record_type == 1 and payload is None:
            raise Failed(f"record {sequence} is an event, and the bundle lacks its payload")
        if payload is not None:
            if sha256(canonical_b64(payload, f"record {sequence}: payload_base64")) != body:
                raise Failed(f"record {sequence}: the payload does not match body_sha256")
        proof = [canonical_b64(p, f"record {sequence}: a proof hash", 32)
                 for p in string_list(record["inclusion_proof"], "inclusion_proof")]
        leaf = leaf_hash(sequence, record_type, metadata.encode(), body)
        if sequence < 1 or not verify_inclusion(leaf, sequence - 1, size, proof, root):
            raise Failed(f"record {sequence} is not in the checkpoint's tree of {size} records")
        if record_type == 1:
            facts = strict_json(metadata.encode(), f"record {sequence}'s metadata")
            if type(facts) is not dict or type(facts.get("event_id")) is not str:
                raise Failed(f"record {sequence}'s metadata names no event")
            events.append(facts["event_id"])
    if event_id is not None and event_id not in events:
        raise Failed(f"the bundle is not evidence about event {event_id}")
    result = f"OK: {len(records)} record(s) in {origin}'s tree of {size} records"
    if held_path is not None:
        with open(held_path) as f:
            held = f.read()
        _, old_size, old_root = checkpoint_by_chain(held, links)
        if old_size == size:
            if old_root != root:
                raise Failed("the held checkpoint and the bundle's have the same size and different roots")
        elif old_size > size:
            raise Failed("the held checkpoint is newer than the bundle's")
        else:
            entries = bundle.get("consistency")
            if entries is None or type(entries) is not list:
                raise Failed("the bundle holds no consistency proof")
            proof = None
            for entry in entries:
                fields(entry, "a consistency entry", ("old_size", "proof"))
                if uint(entry["old_size"], "old_size") == old_size:
                    proof = [canonical_b64(p, "a consistency hash", 32) for p in string_list(entry["proof"], "proof")]
                    break
            if proof is None:
                raise Failed(f"the bundle holds no consistency proof from {old_size}")
            if not verify_consistency(old_size, size, old_root, root, proof):
                raise Failed(f"the bundle's tree does not extend the held checkpoint's tree of {old_size} records")
        result += f"; extends the held checkpoint of {old_size} records"
    return result


# --- §7.1: consistency proof files --------------------------------------------------------

def check_proof_document(doc, old_size, old_root, new_size, new_root, what):
    fields(doc, what, ("old_size", "new_size", "old_root", "new_root", "proof"))
    if uint(doc["old_size"], "old_size") != old_size or uint(doc["new_size"], "new_size") != new_size:
        raise Failed(f"{what} is for other sizes than the checkpoints'")
    if canonical_b64(doc["old_root"], "old_root", 32) != old_root or canonical_b64(doc["new_root"], "new_root", 32) != new_root:
        raise Failed(f"{what} names other roots than the checkpoints'")
    proof = [canonical_b64(p, "a proof hash", 32) for p in string_list(doc["proof"], "proof")]
    if not verify_consistency(old_size, new_size, old_root, new_root, proof):
        raise Failed(f"the tree of {new_size} records does not extend the tree of {old_size} records")
    return f"OK: the tree of {new_size} records extends the tree of {old_size} records"


def check_consistency(old_path, new_path, proof_path, vkey):
    with open(old_path) as f:
        _, old_size, old_root = checkpoint_by(f.read(), vkey)
    with open(new_path) as f:
        _, new_size, new_root = checkpoint_by(f.read(), vkey)
    with open(proof_path, "rb") as f:
        doc = strict_json(f.read(), "the proof file")
    return check_proof_document(doc, old_size, old_root, new_size, new_root, "the proof file")


def fetch(base, old_path, vkey):
    """§7.2: the latest checkpoint and a consistency proof, over plain HTTP."""
    base = base.rstrip("/")
    with urllib.request.urlopen(base + "/transparency/checkpoint", timeout=10) as answer:
        note = answer.read().decode("utf-8")
    _, new_size, new_root = checkpoint_by(note, vkey)
    with open(old_path) as f:
        _, old_size, old_root = checkpoint_by(f.read(), vkey)
    url = f"{base}/transparency/consistency?old={old_size}&new={new_size}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        doc = strict_json(answer.read(), "the endpoint's proof")
    return check_proof_document(doc, old_size, old_root, new_size, new_root, "the endpoint's proof")


def main(argv):
    args = argv[1:]
    options = {}
    for flag in ("--event-id", "--checkpoint"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                print(__doc__, file=sys.stderr)
                return 2
            options[flag] = args[i + 1]
            del args[i:i + 2]
    try:
        if len(args) == 3 and args[0] == "bundle":
            print(check_bundle(args[1], args[2], options.get("--event-id"), options.get("--checkpoint")))
        elif len(args) == 5 and args[0] == "consistency" and not options:
            print(check_consistency(args[1], args[2], args[3], args[4]))
        elif len(args) == 4 and args[0] == "fetch" and not options:
            print(fetch(args[1], args[2], args[3]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Failed, ValueError, KeyError, TypeError, OSError, RecursionError) as failure:
        print(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
