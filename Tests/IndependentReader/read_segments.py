#!/usr/bin/env python3
"""An independent reader of Tracebox segment files, written from docs/segment-format.md alone.

It decodes every record of the given segment files (or of every *.seg file under given
directories), checks every crc, payload SHA-256, sequence number, chain value and seal,
and prints one JSON line per record (with "partition": N for files in a cluster
partition's pNNNN folder, each such folder being a log of its own: section 10):

    {"sequence": 7, "type": "event", "payload_sha256": "...", "body_length": 1234,
     "metadata": {...}}

Exit status 0 when everything decodes and verifies, 1 with a message otherwise.
Needs only the Python standard library and the `zstandard` package.
"""
import hashlib
import json
import os
import struct
import sys
import zlib

import zstandard

MAGIC = b"TBXSEG\r\n"
MARKER = b"TBXR"
HEADER_SIZE = 80
FRAME_HEADER = 100
MAX_FRAME = 268_435_456
READ_VERSION = 1
TYPES = {1: "event", 2: "trace", 3: "dictionary", 4: "seal"}


class Damaged(Exception):
    pass


def find_segments(paths):
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                found += [os.path.join(root, f) for f in files if f.endswith(".seg")]
        else:
            found.append(path)
    return sorted(found, key=lambda p: int(os.path.basename(p)[:-4]))


def partition_of(path):
    """A cluster partition's number when the file sits in a pNNNN folder (section 10), else None."""
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    if len(folder) >= 5 and folder[0] == "p" and folder[1:].isdigit():
        return int(folder[1:])
    return None


def chains(segments):
    """The segments grouped into logs: one per partition folder, the rest one log."""
    groups = {}
    for path in segments:
        groups.setdefault(partition_of(path), []).append(path)
    return sorted(groups.items(), key=lambda item: -1 if item[0] is None else item[0])


def chain_value(previous, sequence, rtype, metadata, body_sha):
    h = hashlib.sha256()
    h.update(previous)
    h.update(struct.pack("<QBI", sequence, rtype, len(metadata)))
    h.update(metadata)
    h.update(body_sha)
    return h.digest()


def read_segment(path, expect_sequence, expect_chain, emit):
    data = open(path, "rb").read()
    if len(data) < HEADER_SIZE or data[:8] != MAGIC:
        raise Damaged(f"{path} at offset 0: not a segment (magic)")
    if zlib.crc32(data[:76]) != struct.unpack_from("<I", data, 76)[0]:
        raise Damaged(f"{path} at offset 76: header crc mismatch")
    write_version, read_version, header_length, first_sequence, _created = struct.unpack_from("<HHIQq", data, 8)
    if read_version > READ_VERSION:
        raise Damaged(f"{path}: needs reader version {read_version}")
    if header_length != HEADER_SIZE:
        raise Damaged(f"{path} at offset 12: header length {header_length}")
    if int(os.path.basename(path)[:-4]) != first_sequence:
        raise Damaged(f"{path} at offset 16: first_sequence differs from file name")
    previous_chain = data[32:64]
    if expect_sequence is not None:
        if first_sequence != expect_sequence:
            raise Damaged(f"{path}: starts at {first_sequence}, expected {expect_sequence}")
        if previous_chain != expect_chain:
            raise Damaged(f"{path} at offset 32: previous_chain does not continue the chain")
    elif first_sequence == 1 and previous_chain != bytes(32):
        raise Damaged(f"{path} at offset 32: first segment must start from a zero chain")

    dictionaries = {}
    sequence, chain, sealed, offset = first_sequence, previous_chain, False, HEADER_SIZE
    while offset < len(data):
        where = f"{path} at offset {offset}"
        if sealed:
            raise Damaged(f"{where}: data after the seal")
        if data[offset:offset + 4] != MARKER:
            raise Damaged(f"{where}: bad frame marker")
        if offset + 12 > len(data):
            raise Damaged(f"{where}: truncated frame")
        frame_length, crc = struct.unpack_from("<II", data, offset + 4)
        if frame_length < FRAME_HEADER or frame_length > MAX_FRAME or offset + frame_length > len(data):
            raise Damaged(f"{where}: bad or truncated frame_length {frame_length}")
        frame = data[offset:offset + frame_length]
        if zlib.crc32(frame[12:]) != crc:
            raise Damaged(f"{where}: frame crc mismatch")
        rtype, flags, meta_len, seq, dict_id, body_len, stored_len = struct.unpack_from("<BBHQIII", frame, 12)
        body_sha, stored_chain = frame[36:68], frame[68:100]
        if rtype not in TYPES or flags & ~1:
            raise Damaged(f"{where}: unknown record type {rtype} or flags {flags}")
        if FRAME_HEADER + meta_len + stored_len != frame_length:
            raise Damaged(f"{where}: lengths do not add up")
        if seq != sequence:
            raise Damaged(f"{where}: sequence {seq}, expected {sequence}")
        metadata_bytes = frame[FRAME_HEADER:FRAME_HEADER + meta_len]
        stored = frame[FRAME_HEADER + meta_len:]
        if flags & 1:
            if dict_id:
                if dict_id not in dictionaries:
                    raise Damaged(f"{where}: dictionary {dict_id} not defined earlier in the file")
                decompressor = zstandard.ZstdDecompressor(dict_data=dictionaries[dict_id])
            else:
                decompressor = zstandard.ZstdDecompressor()
            body = decompressor.decompress(stored, max_output_size=body_len)
        else:
            body = stored
        if len(body) != body_len or hashlib.sha256(body).digest() != body_sha:
            raise Damaged(f"{where}: body does not match body_sha256")
        expected_chain = chain_value(chain, seq, rtype, metadata_bytes, body_sha)
        if expected_chain != stored_chain:
            raise Damaged(f"{where}: chain mismatch")
        metadata = json.loads(metadata_bytes.decode("utf-8"))
        if rtype == 3:
            dictionaries[dict_id] = zstandard.ZstdCompressionDict(body)
        if rtype == 4:
            ok = (metadata["record_count"] == seq - first_sequence and metadata["last_sequence"] == seq - 1
                  and metadata["first_sequence"] == first_sequence and metadata["chain_head"] == chain.hex())
            if not ok:
                raise Damaged(f"{where}: seal does not match the segment")
            sealed = True
        emit({"sequence": seq, "type": TYPES[rtype], "payload_sha256": body_sha.hex(),
              "body_length": body_len, "metadata": metadata, "segment": os.path.basename(path)})
        chain, sequence, offset = stored_chain, sequence + 1, offset + frame_length
    return sequence, chain, sealed


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    segments = find_segments(argv[1:])
    if not segments:
        print("no segment files found", file=sys.stderr)
        return 1
    out = sys.stdout
    try:
        for partition, files in chains(segments):
            def emit(record):
                if partition is not None:
                    record["partition"] = partition
                out.write(json.dumps(record, sort_keys=True) + "\n")
            expect_sequence = expect_chain = None
            for index, path in enumerate(files):
                expect_sequence, expect_chain, sealed = read_segment(path, expect_sequence, expect_chain, emit)
                if not sealed and index != len(files) - 1:
                    raise Damaged(f"{path}: not sealed, but a later segment follows")
    except Damaged as damage:
        print(f"FAILED {damage}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
