#!/usr/bin/env python3
"""Writes NormalizationTables.g.cs from Python's own unicodedata (the Unicode version it reports).

Run from anywhere:  python3 agent/EdgeNode.Models/Tokenizers/Unicode/generate-normalization-tables.py

The .NET runtime with InvariantGlobalization has no ICU, so string.Normalize cannot compose or decompose;
UnicodeNormalizer needs these tables instead. Everything is derived from unicodedata:

- canonical combining class:            unicodedata.combining
- full canonical / compatibility decomposition: unicodedata.normalize('NFD' / 'NFKD', c)
  (already recursive and already canonically ordered, so the runtime never recurses)
- primary composites:                   characters whose canonical decomposition is two code points and which
                                        NFC leaves as they are; the ones NFC rewrites are exactly the singletons,
                                        non-starter decompositions and composition exclusions of the standard
- quick-check answers:                  "no" where normalizing the character alone changes it, "maybe" for every
                                        code point that can be the second half of a primary composite

Hangul syllables are algorithmic and handled in code, so they are left out of every table here.
"""
import os
import sys
import unicodedata

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
BLOCK = 128
MAX_CODE_POINT = 0x10FFFF

# Flag bits; UnicodeNormalizer.cs reads the same values.
NFD_NO, NFKD_NO, NFC_NO, NFKC_NO, COMPOSES_WITH_PREVIOUS = 1, 2, 4, 8, 16


def is_hangul(cp):
    return HANGUL_FIRST <= cp <= HANGUL_LAST


def code_points():
    for cp in range(MAX_CODE_POINT + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        yield cp


def utf16(text):
    units = []
    for ch in text:
        cp = ord(ch)
        if cp >= 0x10000:
            cp -= 0x10000
            units += [0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)]
        else:
            units.append(cp)
    return units


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NormalizationTables.g.cs")

    compositions = {}  # (first, second) -> composite
    for cp in code_points():
        if is_hangul(cp):
            continue
        decomposition = unicodedata.decomposition(chr(cp))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = [int(p, 16) for p in decomposition.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            compositions[(parts[0], parts[1])] = cp
    second_halves = {second for (_, second) in compositions}
    # Hangul V and T jamo compose with a preceding L jamo / LV syllable.
    second_halves.update(range(0x1161, 0x1176))
    second_halves.update(range(0x11A8, 0x11C3))

    decomposition_text = []  # UTF-16 units of every distinct full decomposition, concatenated
    decomposition_at = {}

    def intern(text):
        if text not in decomposition_at:
            decomposition_at[text] = len(decomposition_text)
            decomposition_text.extend(utf16(text))
        return decomposition_at[text]

    records = [(0, 0, 0, 0, 0, 0)]  # ccc, flags, canonical offset, canonical length, compat offset, compat length
    record_index = {records[0]: 0}
    record_of = {}
    for cp in code_points():
        if is_hangul(cp):
            continue
        ch = chr(cp)
        ccc = unicodedata.combining(ch)
        nfd = unicodedata.normalize("NFD", ch)
        nfkd = unicodedata.normalize("NFKD", ch)
        flags = 0
        if nfd != ch:
            flags |= NFD_NO
        if nfkd != ch:
            flags |= NFKD_NO
        if unicodedata.normalize("NFC", ch) != ch:
            flags |= NFC_NO
        if unicodedata.normalize("NFKC", ch) != ch:
            flags |= NFKC_NO
        if cp in second_halves:
            flags |= COMPOSES_WITH_PREVIOUS
        canonical = (intern(nfd), len(utf16(nfd))) if nfd != ch else (0, 0)
        compat = (intern(nfkd), len(utf16(nfkd))) if nfkd != ch else (0, 0)
        record = (ccc, flags) + canonical + compat
        if record == records[0]:
            continue
        if record not in record_index:
            record_index[record] = len(records)
            records.append(record)
        record_of[cp] = record_index[record]

    if len(records) > 0xFFFF or len(decomposition_text) > 0xFFFF:
        sys.exit("tables outgrew 16-bit indexes")
    if max(r[3] for r in records) > 255 or max(r[5] for r in records) > 255:
        sys.exit("a decomposition is longer than 255 UTF-16 units")

    # Two-stage lookup: code point -> block (deduplicated) -> record.
    blocks = []
    block_index = {}
    stage1 = []
    for start in range(0, MAX_CODE_POINT + 1, BLOCK):
        block = tuple(record_of.get(cp, 0) for cp in range(start, start + BLOCK))
        if block not in block_index:
            block_index[block] = len(blocks)
            blocks.append(block)
        stage1.append(block_index[block])
    stage2 = [value for block in blocks for value in block]
    # Block 0 (ASCII) is all defaults; planes past the last decomposing character need no entries at all.
    assert block_index[tuple([0] * BLOCK)] == 0
    while stage1 and stage1[-1] == 0:
        stage1.pop()

    pairs = sorted(compositions.items())

    def numbers(values, per_line=24):
        values = list(values)
        lines = []
        for i in range(0, len(values), per_line):
            lines.append("        " + ", ".join(str(v) for v in values[i:i + per_line]) + ",")
        return "\n".join(lines)

    def string_literal(units, per_line=16):
        lines = []
        for i in range(0, len(units), per_line):
            lines.append('        "' + "".join(f"\\u{u:04X}" for u in units[i:i + per_line]) + '"')
        return " +\n".join(lines)

    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"""// <auto-generated>
// Written by generate-normalization-tables.py from Python {sys.version.split()[0]}'s unicodedata (Unicode {unicodedata.unidata_version}).
// Do not edit: run the script again to regenerate.
// </auto-generated>

namespace EdgeNode.Models.Tokenizers.Unicode;

internal static class NormalizationTables
{{
    public const string UnicodeVersion = "{unicodedata.unidata_version}";

    public const int BlockShift = {BLOCK.bit_length() - 1};

    public const int BlockMask = {BLOCK - 1};

    /// <summary>Code point &gt;&gt; BlockShift → index of its block in <see cref="BlockRecords"/>; code points past
    /// the end of this table have only defaults.</summary>
    public static ReadOnlySpan<ushort> Blocks => new ushort[]
    {{
{numbers(stage1)}
    }};

    /// <summary>Per code point of every distinct block: the index of its record (0 = ccc 0, no decomposition, quick-check yes).</summary>
    public static ReadOnlySpan<ushort> BlockRecords => new ushort[]
    {{
{numbers(stage2)}
    }};

    public static ReadOnlySpan<byte> RecordCombiningClass => new byte[]
    {{
{numbers(r[0] for r in records)}
    }};

    public static ReadOnlySpan<byte> RecordFlags => new byte[]
    {{
{numbers(r[1] for r in records)}
    }};

    public static ReadOnlySpan<ushort> RecordCanonicalStart => new ushort[]
    {{
{numbers(r[2] for r in records)}
    }};

    public static ReadOnlySpan<byte> RecordCanonicalLength => new byte[]
    {{
{numbers(r[3] for r in records)}
    }};

    public static ReadOnlySpan<ushort> RecordCompatibilityStart => new ushort[]
    {{
{numbers(r[4] for r in records)}
    }};

    public static ReadOnlySpan<byte> RecordCompatibilityLength => new byte[]
    {{
{numbers(r[5] for r in records)}
    }};

    /// <summary>UTF-16 units of every full decomposition, back to back.</summary>
    public static ReadOnlySpan<char> Decompositions =>
{string_literal(decomposition_text)};

    /// <summary>Primary composites, sorted: (first code point &lt;&lt; 21) | second code point.</summary>
    public static ReadOnlySpan<long> CompositionPairs => new long[]
    {{
{numbers([(a << 21) | b for (a, b), _ in pairs], per_line=12)}
    }};

    /// <summary>The composite of the pair at the same index of <see cref="CompositionPairs"/>.</summary>
    public static ReadOnlySpan<int> Composites => new int[]
    {{
{numbers(c for _, c in pairs)}
    }};
}}
""")
    print(f"{out_path}: Unicode {unicodedata.unidata_version}, {len(records)} records, {len(blocks)} blocks, "
          f"{len(decomposition_text)} decomposition units, {len(pairs)} composition pairs")


if __name__ == "__main__":
    main()
