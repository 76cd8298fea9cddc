#!/usr/bin/env python3
"""MicroGpt's GPT as a torch.nn.Module, and the benchmark's PyTorch peer.

The network is exactly the engine's (DESIGN.md, src/MicroGpt.Engine/Model/Gpt.cs):

    x = rmsnorm(wte[token] + wpe[position])
    per layer: x += o(attention(rmsnorm(x)));  x += proj(relu(fc(rmsnorm(x))))
    logits = lm_head(x)                        (no final norm)

rmsnorm has no weights (x / sqrt(mean(x^2) + 1e-5)), no layer has a bias, attention is causal
with separate q, k, v and o matrices, and every weight is row-major [out][in], so the tensors
map one to one onto MicroGpt's safetensors files: wte [V, C], wpe [T, C], lm_head [V, C],
h.{i}.attn.q/k/v/o [C, C], h.{i}.mlp.fc [4C, C], h.{i}.mlp.proj [C, 4C].

It needs nothing beyond Debian's python3-torch (1.13): the safetensors layout (an 8-byte
little-endian header length, a JSON header of dtype, shape and data_offsets, then raw
little-endian float32) is read and written with struct and json.

It is also the way out of MicroGpt into PyTorch, for a model that outgrows one machine: a file
that Save-Model wrote as .safetensors describes itself (configuration, tokenizer, training
summary, checksum, in its __metadata__), so it loads here whole, trains here, and saves back in
MicroGpt's layout, with that description carried over and a checksum computed as MicroGpt
computes it, so that Import-Model reads the result without -Tokenizer. Run it with the python
that has torch (Debian: /usr/bin/python3 with python3-torch):

    Every tokenizer kind loads: word, character and byte-level BPE (its pre-split, merges, encode
    and decode as the engine has them, so that the ids are the engine's on any text when the
    engine runs on .NET 10, as pwsh 7.6 does: its letters and digits are Unicode 16's, and on an
    older runtime the engine classes the code points Unicode 15.1 and 16 added otherwise).

    microgpt_torch.py loss MODEL.safetensors TEXT... [--stream]
        Measure-Model's figure on corpus files (one sentence a line, read by the same rules: lines
        trimmed, lower-cased for word models, [BOS, ..., BOS], the first block-size positions):
        the mean over sentences of each sentence's mean loss, as JSON. An unknown word or
        character is an error naming it, its file and line. With --stream, Measure-Model -Stream's:
        the text exactly as it is, one token stream, the mean loss over its consecutive windows'
        tokens. Model files do not say whether a model was trained on a stream: the flag is yours.
    microgpt_torch.py sample MODEL.safetensors [--count N] [--temperature T] [--seed S] [--prompt TEXT --max-tokens N]
        Sentences decoded with the file's tokenizer, one a line (torch's seeded draws); with
        --prompt, a stream model's continuation of it, as Invoke-Generation -Prompt -MaxTokens.
    microgpt_torch.py train MODEL.safetensors TEXT... --steps N --out OUT.safetensors [--lr --batch --seed --stream]
        Adam steps as Invoke-Training takes them (with --stream: random windows of the stream, as
        Invoke-Training -Stream draws them), then OUT saved for Import-Model. Started by torchrun,
        it trains data-parallel (DistributedDataParallel); README.md has the commands.

    In a script: load(path) gives the nn.Module (with .tokenizer and .summary), save(model, path)
    writes it back.

Commands for the benchmark in bench/ (see bench/README.md):

    microgpt_torch.py speed --vocab V --embd C --heads H --layers L --block T --batch B
                            --lines ids.txt [--weights init.safetensors] [--threads N] ...
        Trains on full-length lines (each line of ids.txt: at least T + 1 token ids) with the
        engine's step: forward, mean cross-entropy, backward, Adam with the tutorial's betas
        and linearly decaying rate. Prints one JSON object: torch's version, the BLAS in use,
        the first losses, and tokens per second in each timed slice.
    microgpt_torch.py serve (the same options, without the slices')
        The same run, which after its first losses and warm-up prints that JSON object and then
        answers 'time N' (N steps, timed) and 'run N' (untimed) from stdin, a JSON line each.
    microgpt_torch.py blas
        Prints the BLAS that torch loaded, as JSON.
"""

import argparse
import bisect
import ctypes
import functools
import json
import math
import os
import random
import re
import struct
import sys
import time
import unicodedata

import torch
import torch.nn.functional as F
from torch import nn

RMS_EPSILON = 1e-5


class Config:
    """The shape of a GPT: vocabulary V, embedding C, heads H, layers L, block size T."""

    def __init__(self, vocab_size, n_embd=32, n_head=4, n_layer=2, block_size=16):
        if n_embd % n_head != 0:
            raise ValueError(f"the embedding size {n_embd} is not divisible by {n_head} heads")
        self.vocab_size = vocab_size
        self.n_embd = n_embd
        self.n_head = n_head
        self.n_layer = n_layer
        self.block_size = block_size

    def as_metadata(self):
        """The configuration as safetensors __metadata__ holds it: strings only."""
        return {"n_layer": str(self.n_layer), "n_embd": str(self.n_embd), "n_head": str(self.n_head),
                "block_size": str(self.block_size), "vocab_size": str(self.vocab_size)}


def rmsnorm(x):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + RMS_EPSILON)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = config.n_embd
        self.n_head = config.n_head
        self.q = nn.Linear(c, c, bias=False)
        self.k = nn.Linear(c, c, bias=False)
        self.v = nn.Linear(c, c, bias=False)
        self.o = nn.Linear(c, c, bias=False)
        # 0 where position t may look (s <= t), -inf after: added to the scores. A float, not a
        # bool mask, because DistributedDataParallel on CPU (gloo) cannot broadcast bool buffers.
        future = torch.full((config.block_size, config.block_size), float("-inf")).triu(1)
        self.register_buffer("causal", future, persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        hs = c // self.n_head
        # (B, T, C) -> (B, H, T, hs)
        q = self.q(x).view(b, t, self.n_head, hs).transpose(1, 2)
        k = self.k(x).view(b, t, self.n_head, hs).transpose(1, 2)
        v = self.v(x).view(b, t, self.n_head, hs).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)            # (B, H, T, T)
        scores = scores + self.causal[:t, :t]
        y = F.softmax(scores, dim=-1) @ v                               # (B, H, T, hs)
        return self.o(y.transpose(1, 2).reshape(b, t, c))


class Mlp(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = config.n_embd
        self.fc = nn.Linear(c, 4 * c, bias=False)
        self.proj = nn.Linear(4 * c, c, bias=False)

    def forward(self, x):
        return self.proj(F.relu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attn = Attention(config)
        self.mlp = Mlp(config)

    def forward(self, x):
        x = x + self.attn(rmsnorm(x))
        return x + self.mlp(rmsnorm(x))


class MicroGpt(nn.Module):
    """The engine's GPT. Parameters are drawn from N(0, 0.08) as the tutorial's are (not with the engine's generator)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        for p in self.parameters():
            nn.init.normal_(p, mean=0.0, std=0.08)
        self.tokenizer = None  # the file's, when it has one (see load)
        self.summary = TrainingSummary()

    def forward(self, idx, targets=None):
        """Logits (B, T, V) for token ids (B, T); with targets (B, T), also the mean cross-entropy."""
        t = idx.shape[1]
        if t > self.config.block_size:
            raise ValueError(f"a sequence of {t} tokens is longer than the block size {self.config.block_size}")
        x = rmsnorm(self.wte(idx) + self.wpe(torch.arange(t, device=idx.device)))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))

    def tensors(self):
        """The weights under MicroGpt's safetensors names, in the engine's parameter order."""
        named = {"wte": self.wte.weight, "wpe": self.wpe.weight, "lm_head": self.lm_head.weight}
        for i, block in enumerate(self.h):
            for part in ("q", "k", "v", "o"):
                named[f"h.{i}.attn.{part}"] = getattr(block.attn, part).weight
            named[f"h.{i}.mlp.fc"] = block.mlp.fc.weight
            named[f"h.{i}.mlp.proj"] = block.mlp.proj.weight
        return named


# ---- safetensors, with struct and json (no safetensors package) ----

def read_safetensors(path):
    """The float32 tensors of a safetensors file by name, and its __metadata__ (or {})."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as problem:
        raise BridgeError(f"{path}: cannot be read: {problem.strerror}") from None
    if len(data) < 8:
        raise BridgeError(f"{path}: shorter than the 8-byte header length")
    (header_length,) = struct.unpack_from("<Q", data, 0)
    if header_length > len(data) - 8:
        raise BridgeError(f"{path}: its header claims {header_length} bytes, more than the file holds")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    body = memoryview(data)[8 + header_length:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        if entry.get("dtype") != "F32":
            raise BridgeError(f"{path}: tensor '{name}' has dtype {entry.get('dtype')}; MicroGpt files hold F32")
        begin, end = entry["data_offsets"]
        shape = entry["shape"]
        if not 0 <= begin <= end <= len(body) or end - begin != 4 * math.prod(shape):
            raise BridgeError(f"{path}: tensor '{name}' has data_offsets [{begin}, {end}] that do not fit shape {shape}")
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32) if end > begin else torch.empty(0)
        tensors[name] = flat.reshape(shape).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes float32 tensors in order, with string metadata, to a temporary file renamed over the target."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    offset = 0
    for name, tensor in tensors.items():
        size = 4 * tensor.numel()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned, as MicroGpt writes it
    data = b"".join(tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes() for tensor in tensors.values())
    write_atomically(path, struct.pack("<Q", len(encoded)) + encoded + data)


def write_atomically(path, data):
    """Writes to a temporary file in the same folder, flushed, then renamed over the target: a crash leaves the old file or the new one, whole."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def config_of(path, metadata):
    """The configuration from __metadata__, else from the NAME.config.json that MicroGpt writes beside the file."""
    keys = ("vocab_size", "n_embd", "n_head", "n_layer", "block_size")
    if all(k in metadata for k in keys):
        return Config(*(int(metadata[k]) for k in keys))
    side = re.sub(r"\.safetensors$", "", path, flags=re.IGNORECASE) + ".config.json"
    if not os.path.exists(side):
        raise BridgeError(f"{path}: no configuration in __metadata__ and no {side} beside it")
    with open(side, encoding="utf-8") as f:
        c = json.load(f)["config"]
    return Config(c["vocabSize"], c["nEmbd"], c["nHead"], c["nLayer"], c["blockSize"])


def load(path, check_checksum=True):
    """
    A MicroGpt model from its safetensors file. When the file describes itself (MicroGpt's
    `microgpt` metadata), the model carries its tokenizer and training summary, and the file's
    checksum is checked against what was read, as Import-Model checks it: a damaged file is refused,
    not trained on. The benchmark turns that check off: its weights come fresh from MicroGpt, and
    the pure-Python hash takes about 2 s per million parameters here (1.6 to 2.1 s for 1.1 million).
    """
    tensors, metadata = read_safetensors(path)
    described = DESCRIPTION_KEY in metadata
    description = Description.parse(path, metadata[DESCRIPTION_KEY]) if described else None
    config = description.config if described else config_of(path, metadata)
    for key, value in config.as_metadata().items():
        if key in metadata and metadata[key] != value:
            raise BridgeError(f"{path}: its __metadata__ {key} \"{metadata[key]}\" contradicts its description ({value})")
    model = MicroGpt(config)
    expected = model.tensors()
    if set(tensors) != set(expected):
        raise BridgeError(f"{path}: tensors {sorted(set(tensors) ^ set(expected))} do not match the configuration")
    with torch.no_grad():
        for name, parameter in expected.items():
            if tuple(tensors[name].shape) != tuple(parameter.shape):
                raise BridgeError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}; the configuration needs {list(parameter.shape)}")
            parameter.copy_(tensors[name])
    model.tokenizer = description.tokenizer if described else None
    model.summary = description.summary if described else TrainingSummary()
    if described and check_checksum:
        computed = checksum(model)
        if computed != description.checksum:
            raise BridgeError(f"{path}: its checksum \"{description.checksum}\" does not match its content ({computed}): "
                              "the file was changed or damaged after it was written")
    return model


def save(model, path):
    """
    Writes the model in MicroGpt's safetensors layout, its configuration in __metadata__. A model
    that carries a tokenizer (one loaded from a MicroGpt file) is written as Save-Model writes it:
    with the `microgpt` description (tokenizer, training summary, tensor names, checksum), so that
    Import-Model loads it alone, and the same description, indented, in NAME.config.json beside it.
    """
    metadata = {"format": "pt", **model.config.as_metadata()}
    if model.tokenizer is None:
        write_safetensors(path, model.tensors(), metadata)
        return
    description = Description.of(model)
    metadata[DESCRIPTION_KEY] = json.dumps(description, separators=(",", ":"))
    write_safetensors(path, model.tensors(), metadata)
    # As Save-Model does: the safetensors file first, so that it loads whole whatever happens next.
    side = re.sub(r"\.safetensors$", "", path, flags=re.IGNORECASE) + ".config.json"
    write_atomically(side, json.dumps(description, indent=2).encode("utf-8"))


# ---- MicroGpt's description of a model: tokenizer, training summary, checksum ----
#
# A MicroGpt safetensors file keeps, in __metadata__["microgpt"], the JSON document that Save-Model
# writes (src/MicroGpt.Engine/IO/ModelFile.cs and Safetensors.cs): format, formatVersion, config,
# tokenizer, training, tensors and checksum. What follows reads and writes that document, and
# computes its checksum exactly as src/MicroGpt.Engine/IO/Checksum.cs does, so that a model trained
# here goes back to Import-Model without -Tokenizer.

DESCRIPTION_KEY = "microgpt"
FORMAT_NAME = "microgpt"
FORMAT_VERSION = 2  # the version MicroGpt writes safetensors files in (ModelFile.VersionFor: version 3 adds only checkpoint options, which they never hold)

# The characters .NET's char.IsWhiteSpace accepts, which string.Trim() removes and the word
# tokenizer splits at. Python's own str.split() differs (it also splits at U+001C to U+001F).
DOTNET_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
WORDS = re.compile(f"[^{re.escape(DOTNET_WHITE_SPACE)}]+")
LINE_END = re.compile(r"\r\n|\r|\n")  # TextReader.ReadLine's line ends, not str.splitlines()'s many
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what CorpusFile refuses: control characters but tab
STREAM_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # in stream mode, but tab, CR and LF


class BridgeError(ValueError):
    """Bad input from the user (a file, a word, a value): printed as one line naming it, without a traceback."""


class Fnv1a:
    """The 64-bit FNV-1a hash of Checksum.cs's Fnv1a struct, fed the same bytes in the same order."""

    PRIME = 1099511628211
    MASK = (1 << 64) - 1

    def __init__(self):
        self.value = 14695981039346656037

    def add_bytes(self, data):
        value = self.value
        for byte in data:
            value = ((value ^ byte) * self.PRIME) & self.MASK
        self.value = value

    def add_long(self, number):
        """A 64-bit integer, little-endian; C#'s int arguments arrive sign-extended to long, as here."""
        self.add_bytes((number & self.MASK).to_bytes(8, "little"))

    def add_string(self, text):
        """UTF-8 bytes, then -1 as a separator, so that "ab","c" and "a","bc" differ."""
        self.add_bytes(text.encode("utf-8"))
        self.add_long(-1)

    def add_floats(self, values):
        """The count, then each float32's bits as a sign-extended int32 (C#: Add(BitConverter.SingleToInt32Bits(v)))."""
        self.add_long(values.numel())
        bits = values.detach().to(torch.float32).contiguous().view(torch.int32).to(torch.int64)
        self.add_bytes(bits.numpy().astype("<i8", copy=False).tobytes())


class Tokenizer:
    """
    The word or character tokenizer of a MicroGpt file (PieceTokenizer.cs), with sentence mode's
    rules (Corpus.Normalize, Tokenizer.EncodeSentence): a line is trimmed, lower-cased for words
    (the tutorial's rule), and a sentence encodes as [BOS, pieces..., BOS], BOS being the id after
    the last piece. Words are the runs between white space; characters are Unicode code points.
    """

    KIND_IDS = {"word": 0, "character": 1}  # TokenizerKind's values, which the checksum hashes

    def __init__(self, kind, vocabulary):
        self.kind = kind
        self.vocabulary = list(vocabulary)
        self.ids = {piece: i for i, piece in enumerate(self.vocabulary)}
        self.bos = len(self.vocabulary)
        self.vocab_size = self.bos + 1

    @staticmethod
    def parse(element):
        """The tokenizer of a file's `tokenizer` object, of the kind it names."""
        kind = element.get("kind")
        if kind in Tokenizer.KIND_IDS:
            return Tokenizer(kind, element.get("vocabulary", []))
        if kind == BytePairTokenizer.KIND:
            return BytePairTokenizer.parse(element)
        raise BridgeError(f"tokenizer kind \"{kind}\" is not one this bridge reads ({', '.join([*Tokenizer.KIND_IDS, BytePairTokenizer.KIND])})")

    def as_json(self):
        return {"kind": self.kind, "vocabulary": self.vocabulary}

    def add_to(self, hash_):
        """PieceTokenizer.AddTo: the kind's number, then every piece."""
        hash_.add_long(self.KIND_IDS[self.kind])
        for piece in self.vocabulary:
            hash_.add_string(piece)

    def normalize(self, line):
        """A line as sentence mode reads it: trimmed as .NET trims; for words, lower-cased as ToLowerInvariant does."""
        text = line.strip(DOTNET_WHITE_SPACE)
        if self.kind == "word":
            # .NET maps character by character and leaves alone a character whose lower case is
            # longer (U+0130); Python's str.lower() would lengthen it and apply the final-sigma rule.
            text = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        return text

    def pieces(self, text):
        return WORDS.findall(text) if self.kind == "word" else list(text)

    def encode(self, text, where):
        """The ids of a text exactly as it is (Tokenizer.Encode); a piece outside the vocabulary is an error naming it and `where`."""
        ids = []
        for piece in self.pieces(text):
            if piece not in self.ids:
                raise BridgeError(f"{where(piece)}: the {self.kind} '{piece}' is not in the model's vocabulary of {self.bos} {self.kind}s")
            ids.append(self.ids[piece])
        return ids

    def encode_sentence(self, sentence, where):
        """[BOS, ids..., BOS]; a piece outside the vocabulary is an error naming it and `where` (file and line)."""
        return [self.bos] + self.encode(sentence, lambda _: where) + [self.bos]

    def decode(self, ids):
        """The text of ids, BOS left out: words joined by single spaces, characters as they are."""
        return (" " if self.kind == "word" else "").join(self.vocabulary[i] for i in ids if i != self.bos)


# ---- byte-level BPE, as src/MicroGpt.Engine/Tokenization has it ----
#
# PreSplitter.cs cuts text into chunks by its own rules (GPT-2's pattern written out over code
# points, with marks counted as letters, and chunks capped at 64 code points); BytePairEncoding.cs
# merges within each chunk's UTF-8 bytes, the lowest-ranked adjacent pair first (the leftmost on a
# tie), as minbpe encodes. Its classes come from .NET's Unicode tables; Python's unicodedata may be
# older (3.11 has Unicode 14.0), so the code points that later versions assigned as letters or
# numbers, and that Python still calls unassigned, are listed below from .NET 10's tables (Unicode
# 16.0). tests/Pester/TorchBridge.Tests.ps1 compares the chunks of every code point with the engine's.

LETTER, DIGIT, SPACE, OTHER = "letter", "digit", "space", "other"
DOTNET_WHITE_SPACE_SET = frozenset(DOTNET_WHITE_SPACE)  # Rune.IsWhiteSpace: the same set as char.IsWhiteSpace

# (first, last, class): letters (L*, M*) and numbers (N*) of Unicode 15.0 to 16.0, in order.
LATER_UNICODE = (
    (0x897, 0x897, LETTER), (0xCF3, 0xCF3, LETTER), (0xECE, 0xECE, LETTER), (0x1C89, 0x1C8A, LETTER),
    (0xA7CB, 0xA7CD, LETTER), (0xA7DA, 0xA7DC, LETTER), (0x105C0, 0x105F3, LETTER), (0x10D40, 0x10D49, DIGIT),
    (0x10D4A, 0x10D65, LETTER), (0x10D69, 0x10D6D, LETTER), (0x10D6F, 0x10D85, LETTER), (0x10EC2, 0x10EC4, LETTER),
    (0x10EFC, 0x10EFF, LETTER), (0x1123F, 0x11241, LETTER), (0x11380, 0x11389, LETTER), (0x1138B, 0x1138B, LETTER),
    (0x1138E, 0x1138E, LETTER), (0x11390, 0x113B5, LETTER), (0x113B7, 0x113C0, LETTER), (0x113C2, 0x113C2, LETTER),
    (0x113C5, 0x113C5, LETTER), (0x113C7, 0x113CA, LETTER), (0x113CC, 0x113D3, LETTER), (0x113E1, 0x113E2, LETTER),
    (0x116D0, 0x116E3, DIGIT), (0x11BC0, 0x11BE0, LETTER), (0x11BF0, 0x11BF9, DIGIT), (0x11F00, 0x11F10, LETTER),
    (0x11F12, 0x11F3A, LETTER), (0x11F3E, 0x11F42, LETTER), (0x11F50, 0x11F59, DIGIT), (0x11F5A, 0x11F5A, LETTER),
    (0x1342F, 0x1342F, LETTER), (0x13440, 0x13455, LETTER), (0x13460, 0x143FA, LETTER), (0x16100, 0x1612F, LETTER),
    (0x16130, 0x16139, DIGIT), (0x16D40, 0x16D6C, LETTER), (0x16D70, 0x16D79, DIGIT), (0x18CFF, 0x18CFF, LETTER),
    (0x1B132, 0x1B132, LETTER), (0x1B155, 0x1B155, LETTER), (0x1CCF0, 0x1CCF9, DIGIT), (0x1D2C0, 0x1D2D3, DIGIT),
    (0x1DF25, 0x1DF2A, LETTER), (0x1E030, 0x1E06D, LETTER), (0x1E08F, 0x1E08F, LETTER), (0x1E4D0, 0x1E4EF, LETTER),
    (0x1E4F0, 0x1E4F9, DIGIT), (0x1E5D0, 0x1E5F0, LETTER), (0x1E5F1, 0x1E5FA, DIGIT), (0x2B739, 0x2B739, LETTER),
    (0x2EBF0, 0x2EE5D, LETTER), (0x31350, 0x323AF, LETTER),
)
LATER_UNICODE_FIRSTS = [first for first, _, _ in LATER_UNICODE]


@functools.lru_cache(maxsize=1 << 16)
def char_class(ch):
    """PreSplitter.ClassOf: white space (the White_Space property), letters and marks, numbers, or other."""
    if ch in DOTNET_WHITE_SPACE_SET:
        return SPACE
    category = unicodedata.category(ch)
    if category[0] in "LM":
        return LETTER
    if category[0] == "N":
        return DIGIT
    if category == "Cn":
        i = bisect.bisect_right(LATER_UNICODE_FIRSTS, ord(ch)) - 1
        if i >= 0 and ord(ch) <= LATER_UNICODE[i][1]:
            return LATER_UNICODE[i][2]
    return OTHER


MAX_CHUNK_RUNES = 64                     # PreSplitter.MaxChunkRunes
MAX_CHUNK_BYTES = 4 * MAX_CHUNK_RUNES    # PreSplitter.MaxChunkBytes
CONTRACTIONS = ("s", "t", "m", "d", "re", "ve", "ll")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _run_end(text, at, cls):
    while at < len(text) and char_class(text[at]) == cls:
        at += 1
    return at


def _match_end(text, start):
    """PreSplitter.MatchEnd: where the first rule that matches at `start` ends (before the length cap)."""
    first = text[start]
    if first == "'":
        for suffix in CONTRACTIONS:
            if text.startswith(suffix, start + 1):
                return start + 1 + len(suffix)
    cls, run_start = char_class(first), start
    if first == " " and start + 1 < len(text) and char_class(text[start + 1]) != SPACE:
        cls, run_start = char_class(text[start + 1]), start + 1
    if cls != SPACE:
        return _run_end(text, run_start + 1, cls)
    space_end = _run_end(text, start + 1, SPACE)
    # "\s+(?!\S)": a run that something else follows gives up its last character to it, unless that leaves nothing.
    return space_end if space_end == len(text) or space_end - start == 1 else space_end - 1


def pre_split(text):
    """PreSplitter.Split: the chunks of a text, in order, at most MAX_CHUNK_RUNES code points each; they concatenate to the text."""
    position, match = 0, 0
    while position < len(text):
        if position >= match:
            match = _match_end(text, position)
        end = min(match, position + MAX_CHUNK_RUNES)
        yield text[position:end]
        position = end


class BytePairTokenizer:
    """
    The byte-level BPE tokenizer of a MicroGpt file (BytePairTokenizer.cs): ids 0 to 255 are the
    bytes, 256 + k is merge k, and BOS comes after the last merge. Any text encodes; a file keeps
    the merge list as `merges` ([[left, right], ...]), and its checksum hashes the kind (2), the
    count and every merge. Sentence mode trims a line and does not lower-case it.
    """

    KIND = "bpe"
    KIND_ID = 2  # TokenizerKind.Bpe
    MAX_VOCAB_SIZE = 1 << 17  # BytePairEncoding.MaxVocabSize

    def __init__(self, merges):
        """Checks the merges as BytePairEncoding's constructor does: each uses tokens made before it, none repeats, none is longer than a chunk."""
        if len(merges) > self.MAX_VOCAB_SIZE - 256:
            raise BridgeError(f"its {len(merges)} merges make a vocabulary larger than {self.MAX_VOCAB_SIZE}")
        self.kind = self.KIND
        self.merges = [tuple(m) for m in merges]
        self.ranks = {}
        self.token_bytes = [bytes([b]) for b in range(256)]
        for k, (left, right) in enumerate(self.merges):
            made = 256 + k
            if not (0 <= left < made and 0 <= right < made):
                raise BridgeError(f"merge {k} ({left}, {right}) uses a token that is not made before it (tokens 0 to {made - 1} are)")
            if (left, right) in self.ranks:
                raise BridgeError(f"merge {k} ({left}, {right}) repeats merge {self.ranks[(left, right)]}")
            self.ranks[(left, right)] = k
            piece = self.token_bytes[left] + self.token_bytes[right]
            if len(piece) > MAX_CHUNK_BYTES:
                raise BridgeError(f"merge {k} ({left}, {right}) makes a token of {len(piece)} bytes, longer than a chunk can be ({MAX_CHUNK_BYTES})")
            self.token_bytes.append(piece)
        self.bos = len(self.token_bytes)
        self.vocab_size = self.bos + 1
        self.cache = {}  # chunk -> its ids; the merges never change, so neither do they

    @classmethod
    def parse(cls, element):
        merges = element.get("merges")
        if not isinstance(merges, list) or not all(
                isinstance(m, list) and len(m) == 2 and all(type(i) is int for i in m) for m in merges):
            raise BridgeError("tokenizer.merges is not a list of token-id pairs ([left, right])")
        return cls(merges)

    def as_json(self):
        return {"kind": self.kind, "merges": [list(m) for m in self.merges]}

    def add_to(self, hash_):
        """BytePairTokenizer.AddTo: the kind's number, the count, then each merge's left and right."""
        hash_.add_long(self.KIND_ID)
        hash_.add_long(len(self.merges))
        for left, right in self.merges:
            hash_.add_long(left)
            hash_.add_long(right)

    def normalize(self, line):
        """A line as sentence mode reads it: trimmed as .NET trims, case kept."""
        return line.strip(DOTNET_WHITE_SPACE)

    def encode(self, text, where=None):
        """BytePairEncoding.Encode: each chunk's UTF-8 bytes merged; a lone surrogate is U+FFFD, as .NET's UTF-8 encoder writes it."""
        ids = []
        for chunk in pre_split(LONE_SURROGATE.sub("\ufffd", text)):
            cached = self.cache.get(chunk)
            if cached is None:
                cached = self.cache[chunk] = self._merge(chunk.encode("utf-8"))
            ids.extend(cached)
        return ids

    def _merge(self, data):
        """BytePairEncoding.MergeChunk: while some adjacent pair has a merge, the lowest-ranked one (the leftmost of equals) becomes its token."""
        tokens = list(data)
        while len(tokens) > 1:
            ranks = [self.ranks.get(pair, math.inf) for pair in zip(tokens, tokens[1:])]
            best = min(ranks)
            if best == math.inf:
                break
            at = ranks.index(best)
            tokens[at:at + 2] = [256 + best]
        return tokens

    def encode_sentence(self, sentence, where):
        return [self.bos] + self.encode(sentence) + [self.bos]

    def decode(self, ids):
        """The tokens' bytes, BOS left out, read as UTF-8; an invalid sequence (half a character) becomes U+FFFD, as .NET's decoder makes it."""
        return b"".join(self.token_bytes[i] for i in ids if i != self.bos).decode("utf-8", errors="replace")


class TrainingSummary:
    """The file's `training` object: the initial weights' seed (when known), steps, predicted tokens trained on, the last step's loss."""

    def __init__(self, seed=None, steps=0, tokens=0, last_loss=None):
        self.seed, self.steps, self.tokens, self.last_loss = seed, steps, tokens, last_loss

    @classmethod
    def parse(cls, element):
        unknown = set(element) - {"seed", "steps", "tokens", "lastLoss"}
        if unknown:
            raise BridgeError(f"training has keys {sorted(unknown)} that MicroGpt does not write")
        return cls(element.get("seed"), element["steps"], element["tokens"], element.get("lastLoss"))

    def as_json(self):
        element = {} if self.seed is None else {"seed": self.seed}
        element.update(steps=self.steps, tokens=self.tokens)
        if self.last_loss is not None:
            element["lastLoss"] = self.last_loss
        return element

    def add_to(self, hash_):
        """Checksum.Of: the seed (int.MinValue when unknown), steps, tokens, the last loss's bits (.NET's NaN when none)."""
        hash_.add_long(-2**31 if self.seed is None else self.seed)
        hash_.add_long(self.steps)
        hash_.add_long(self.tokens)
        hash_.add_long(DOTNET_NAN_BITS if self.last_loss is None else struct.unpack("<q", struct.pack("<d", self.last_loss))[0])


DOTNET_NAN_BITS = struct.unpack("<q", bytes.fromhex("000000000000f8ff"))[0]  # BitConverter.DoubleToInt64Bits(double.NaN)


def checksum(model):
    """Checksum.Of(model, optimizer: null): configuration, tokenizer, training summary, weights in parameter order."""
    hash_ = Fnv1a()
    c = model.config
    for number in (c.vocab_size, c.n_embd, c.n_head, c.n_layer, c.block_size):
        hash_.add_long(number)
    model.tokenizer.add_to(hash_)
    model.summary.add_to(hash_)
    hash_.add_floats(torch.cat([t.detach().reshape(-1) for t in model.tensors().values()]))
    return f"fnv1a64:{hash_.value:016x}"


class Description:
    """MicroGpt's `microgpt` metadata, read (and checked as far as the bridge needs) or written."""

    def __init__(self, config, tokenizer, summary, checksum_):
        self.config, self.tokenizer, self.summary, self.checksum = config, tokenizer, summary, checksum_

    @classmethod
    def parse(cls, path, text):
        try:
            root = json.loads(text)
            if root.get("format") != FORMAT_NAME or root.get("formatVersion") != FORMAT_VERSION:
                raise BridgeError(f"{path}: its description is format {root.get('format')!r} version {root.get('formatVersion')!r}; "
                                  f"this bridge reads \"{FORMAT_NAME}\" version {FORMAT_VERSION}")
            c = root["config"]
            config = Config(c["vocabSize"], c["nEmbd"], c["nHead"], c["nLayer"], c["blockSize"])
            tokenizer = Tokenizer.parse(root["tokenizer"])
            if tokenizer.vocab_size != config.vocab_size:
                raise BridgeError(f"{path}: its tokenizer has {tokenizer.vocab_size} tokens with BOS, its config {config.vocab_size}")
            return cls(config, tokenizer, TrainingSummary.parse(root["training"]), root["checksum"])
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as problem:
            raise BridgeError(f"{path}: its __metadata__ {DESCRIPTION_KEY} is not MicroGpt's description of a model ({problem!r})") from None

    @staticmethod
    def of(model):
        """The document Safetensors.Describe writes, keys in its order, the checksum over the model as it is now."""
        c = model.config
        return {
            "format": FORMAT_NAME,
            "formatVersion": FORMAT_VERSION,
            "config": {"nLayer": c.n_layer, "nEmbd": c.n_embd, "blockSize": c.block_size, "nHead": c.n_head,
                       "headDim": c.n_embd // c.n_head, "vocabSize": c.vocab_size},
            "tokenizer": model.tokenizer.as_json(),
            "training": model.summary.as_json(),
            "tensors": list(model.tensors()),
            "checksum": checksum(model),
        }


# ---- what a user does: loss, sample, train, on sentences as MicroGpt reads them ----

def read_text(path):
    """A corpus file's text: UTF-8 (a byte-order mark allowed; MicroGpt's UTF-16 and UTF-32 are refused here)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8-sig")
    except OSError as problem:
        raise BridgeError(f"'{path}' cannot be read: {problem.strerror}") from None
    except UnicodeDecodeError as problem:
        raise BridgeError(f"'{path}' is not UTF-8 text (byte {problem.start})") from None


def line_of(text, index):
    """The 1-based line of text[index], lines ending at LF, CR or CR LF."""
    return len(LINE_END.findall(text, 0, index)) + 1


def read_sentences(paths, tokenizer, block_size):
    """
    The encoded sentences of corpus files as Measure-Model and Invoke-Training read them: lines
    ending at LF, CR or CR LF, UTF-8, no control character but tab, normalized by the tokenizer's
    kind, blank ones skipped. A sentence longer than block_size + 1 tokens is cut there, as MicroGpt
    trains and measures on its first block_size positions only; a warning says how many were cut.
    """
    sentences = []
    for path in paths:
        for number, line in enumerate(LINE_END.split(read_text(path)), 1):
            control = CONTROL.search(line)
            if control:
                raise BridgeError(f"'{path}' line {number}: control character U+{ord(control.group()):04X}, which a MicroGpt corpus may not hold")
            sentence = tokenizer.normalize(line)
            if sentence:
                sentences.append(tokenizer.encode_sentence(sentence, f"'{path}' line {number}"))
    if not sentences:
        raise BridgeError(f"{', '.join(repr(p) for p in paths)}: no sentences (every line is blank)")
    cut = sum(len(s) > block_size + 1 for s in sentences)
    if cut:
        print(f"warning: {cut} sentences are longer than the block size {block_size}; each counts its first {block_size} positions only",
              file=sys.stderr)
    return sentences


def read_stream(paths, tokenizer, block_size):
    """
    Stream mode's tokens, as CorpusFile.ReadText and Corpus.EncodeStream make them: the files'
    text exactly as it is, joined in order (line ends kept, nothing trimmed or lower-cased, no BOS),
    encoded at once. No control character but tab, CR and LF; a piece the tokenizer lacks names its
    line; fewer than block_size + 1 tokens (one window) is an error.
    """
    texts = []
    for path in paths:
        text = read_text(path)
        control = STREAM_CONTROL.search(text)
        if control:
            raise BridgeError(f"'{path}' line {line_of(text, control.start())}: control character U+{ord(control.group()):04X}, which a MicroGpt corpus may not hold")
        texts.append(text)
    text = "".join(texts)
    origin = f"'{paths[0]}'" if len(paths) == 1 else f"{len(paths)} files"
    stream = tokenizer.encode(text, lambda piece: f"{origin} line {line_of(text, text.find(piece))}")
    if len(stream) < block_size + 1:
        raise BridgeError(f"{origin}: the stream has {len(stream)} tokens; stream mode needs at least the block size plus one ({block_size + 1}) for one window")
    return stream


def position_losses(network, block_size, examples):
    """
    Each example's cross-entropy at its min(T, tokens - 1) positions, as the engine's PackedBatch
    counts them: (B, width), 0 after an example's last position, and the positions of each.
    Examples are padded to the longest; a padded position comes after every real one, so the causal
    attention keeps it out of them. The network is the model, or the DistributedDataParallel that
    wraps it (which has no config).
    """
    rows = [min(block_size, len(s) - 1) for s in examples]
    width = max(rows)
    inputs = torch.zeros(len(examples), width, dtype=torch.long)
    targets = torch.full((len(examples), width), -100, dtype=torch.long)  # -100: cross_entropy's ignore_index
    for b, (s, n) in enumerate(zip(examples, rows)):
        inputs[b, :n] = torch.tensor(s[:n])
        targets[b, :n] = torch.tensor(s[1:n + 1])
    logits, _ = network(inputs)
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none"), rows


def sentence_losses(network, block_size, sentences):
    """Each sentence's (or window's) mean cross-entropy over its positions: (B) losses for B examples."""
    losses, rows = position_losses(network, block_size, sentences)
    return losses.sum(dim=1) / torch.tensor(rows, dtype=losses.dtype)


def mean_loss(model, sentences, chunk=64):
    """Measure-Model's figure: the mean over sentences of each sentence's mean loss (summed in float64, in order)."""
    total = 0.0
    with torch.no_grad():
        for first in range(0, len(sentences), chunk):
            total += sentence_losses(model, model.config.block_size, sentences[first:first + chunk]).double().sum().item()
    return total / len(sentences)


def stream_windows(stream, block_size):
    """
    Evaluator.ForStream's windows: consecutive windows of T + 1 tokens, each starting at the last
    token of the one before (window w at w T), so that their predictions cover tokens 1 to N - 1
    once; the last holds what is left (at least 2 tokens).
    """
    return [stream[w * block_size:w * block_size + block_size + 1] for w in range((len(stream) - 2) // block_size + 1)]


def stream_loss(model, windows, chunk=64):
    """Measure-Model -Stream's figure: the mean loss over every predicted token of the windows (summed in float64)."""
    total, tokens = 0.0, 0
    with torch.no_grad():
        for first in range(0, len(windows), chunk):
            losses, rows = position_losses(model, model.config.block_size, windows[first:first + chunk])
            total += losses.double().sum().item()
            tokens += sum(rows)
    return total / tokens, tokens


def loss_command(args):
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    block_size = model.config.block_size
    if args.stream:
        windows = stream_windows(read_stream(args.text, tokenizer, block_size), block_size)
        loss, tokens = stream_loss(model, windows)
        print(json.dumps({"loss": loss, "perplexity": math.exp(loss), "windows": len(windows), "tokens": tokens}))
        return
    sentences = read_sentences(args.text, tokenizer, block_size)
    loss = mean_loss(model, sentences)
    tokens = sum(min(block_size, len(s) - 1) for s in sentences)
    print(json.dumps({"loss": loss, "perplexity": math.exp(loss), "sentences": len(sentences), "tokens": tokens}))


def require_tokenizer(model, path):
    if model.tokenizer is None:
        raise BridgeError(f"{path}: it has no description with a tokenizer (saved by a MicroGpt before format version 2, or by another tool); "
                          "load it in MicroGpt (Import-Model -Tokenizer) and save it again")
    return model.tokenizer


def sample_command(args):
    """
    Sentences as Invoke-Generation makes them: from BOS, one token at a time, until the model
    closes the sentence with BOS or the block is full. With --prompt, a stream's continuation as
    Invoke-Generation -Prompt -MaxTokens makes it (Sampler.Continue): --max-tokens tokens after the
    prompt's (encoded exactly as given, no BOS), each drawn from the last block-size tokens, BOS never
    drawn; printed as one text, prompt included. The draws are torch's, seeded, so the samples are
    not the ones MicroGpt's own generator would pick at the same seed (at temperature 0 they are).
    """
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    if not (args.temperature >= 0 and math.isfinite(args.temperature)):
        raise BridgeError(f"--temperature {args.temperature} is not 0 (greedy) or a positive number")
    generator = torch.Generator().manual_seed(args.seed)
    block_size = model.config.block_size

    def draw(ids, allow_bos):
        logits, _ = model(torch.tensor([ids[-block_size:]]))
        last = logits[0, -1] if allow_bos else logits[0, -1, :tokenizer.bos]
        if args.temperature == 0:
            return int(last.argmax())
        return int(torch.multinomial(F.softmax(last / args.temperature, dim=-1), 1, generator=generator))

    with torch.no_grad():
        if args.prompt is not None:
            if args.max_tokens < 1:
                raise BridgeError(f"--max-tokens {args.max_tokens} must be at least 1")
            ids = tokenizer.encode(args.prompt, lambda piece: "--prompt")
            if not ids:
                raise BridgeError("--prompt is empty: a continuation needs at least one token to continue")
            for _ in range(args.max_tokens):
                ids.append(draw(ids, allow_bos=False))
            print(tokenizer.decode(ids))
            return
        for _ in range(args.count):
            ids = [tokenizer.bos]
            while len(ids) <= block_size:
                token = draw(ids, allow_bos=True)
                if token == tokenizer.bos:
                    break
                ids.append(token)
            print(tokenizer.decode(ids))


def stream_offset(seed, step, index, places):
    """StreamWindows.Offset: the first token of window `index` of step `step`, a SplitMix64 hash of (seed, step, index) scaled to 0 .. places - 1."""
    def mix(x):
        x = (x + 0x9E3779B97F4A7C15) & Fnv1a.MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & Fnv1a.MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & Fnv1a.MASK
        return x ^ (x >> 31)
    return (mix(mix(mix(seed & 0xFFFFFFFF) ^ step) ^ index) * places) >> 64


def train_command(args):
    """
    A PyTorch training run on a MicroGpt model, the engine's way. In sentence mode: sentences
    shuffled once (seeded), step s takes the batch of B sentences from s B on, and the loss is the
    mean of the sentences' mean losses. With --stream: the files' text is one token stream, and a
    batch is B windows of block size + 1 tokens at the offsets Invoke-Training -Stream draws at the
    same seed (StreamWindows: nanoGPT's get_batch, with a hashed counter for its generator); the
    loss is the mean over the B T predicted tokens. Adam runs with the tutorial's betas (0.85,
    0.99), epsilon 1e-8 and a rate decaying linearly to 0 over the steps. The result is saved in
    MicroGpt's layout with the training summary carried on (steps, tokens, last loss added to the
    file's own).

    Started by torchrun (which sets WORLD_SIZE and RANK), it is data-parallel: every process
    builds the same batch (same seed), takes its share (examples rank, rank + W, ...), and
    DistributedDataParallel averages the gradients, which with equal shares is the whole batch's
    gradient: the same steps as one process, spread over W processes or machines.
    """
    if args.steps <= 0 or args.batch <= 0 or not (args.lr > 0 and math.isfinite(args.lr)):
        raise BridgeError(f"--steps {args.steps}, --batch {args.batch} and --lr {args.lr} must all be positive")
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if args.batch % world != 0:
        raise BridgeError(f"--batch {args.batch} does not divide among {world} processes; give each the same number of examples")
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    block_size = model.config.block_size
    if args.stream:
        stream = read_stream(args.text, tokenizer, block_size)
        places = len(stream) - block_size

        def batch_of(step):
            starts = (stream_offset(args.seed, step, i, places) for i in range(args.batch))
            return [stream[start:start + block_size + 1] for start in starts]
    else:
        sentences = read_sentences(args.text, tokenizer, block_size)
        random.Random(args.seed).shuffle(sentences)

        def batch_of(step):
            return [sentences[(step * args.batch + i) % len(sentences)] for i in range(args.batch)]
    network = model
    if world > 1:
        torch.distributed.init_process_group("gloo")  # CPU processes; a GPU cluster would use nccl
        network = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.85, 0.99), eps=1e-8)
    for step in range(args.steps):
        batch = batch_of(step)
        rate = args.lr * (1 - step / args.steps)
        for group in optimizer.param_groups:
            group["lr"] = rate
        loss = sentence_losses(network, block_size, batch[rank::world]).mean()
        batch_loss = loss.detach().clone()
        if world > 1:
            torch.distributed.all_reduce(batch_loss)  # every process sees the whole batch's loss, and stops alike
            batch_loss /= world
        if not math.isfinite(batch_loss.item()):
            raise BridgeError(f"the loss at step {step + 1} is {batch_loss.item()}; nothing was saved")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        model.summary.steps += 1
        model.summary.tokens += sum(min(block_size, len(s) - 1) for s in batch)
        model.summary.last_loss = batch_loss.item()
        if rank == 0:
            print(json.dumps({"step": model.summary.steps, "loss": batch_loss.item(), "learning_rate": rate}), flush=True)
    if rank == 0:
        save(model, args.out)
    if world > 1:
        torch.distributed.destroy_process_group()


# ---- which BLAS torch runs on ----

def blas_in_use():
    """The BLAS library this process loaded (torch links libblas.so.3; LD_LIBRARY_PATH may swap it), with its version."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = sorted({line.split()[-1] for line in maps if re.search(r"/lib(open)?blas[^/]*\.so", line)})
    info = {"paths": paths, "name": "unknown", "version": ""}
    for path in paths:
        library = ctypes.CDLL(path)
        if hasattr(library, "openblas_get_config"):
            library.openblas_get_config.restype = ctypes.c_char_p
            library.openblas_get_corename.restype = ctypes.c_char_p
            config = library.openblas_get_config().decode()
            info.update(name="OpenBLAS", version=config.split()[1], config=config,
                        core=library.openblas_get_corename().decode(), threads=library.openblas_get_num_threads())
            return info
    for path in paths:
        match = re.search(r"/blas/libblas\.so\.(\d+\.\d+\.\d+)$", os.path.realpath(path))
        if match:
            info.update(name="reference BLAS (netlib)", version=match.group(1))
    return info


# ---- the training-speed mode ----

def read_lines(path, length):
    """Token ids, one line of at least `length` of them per text line, as a (lines, length) tensor."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            ids = [int(x) for x in text.split()]
            if len(ids) < length:
                raise ValueError(f"{path}:{number} has {len(ids)} tokens; full-length lines need {length}")
            rows.append(ids[:length])
    return torch.tensor(rows, dtype=torch.long)


class SpeedRun:
    """
    The engine's training step on full-length lines, from given weights: step s takes lines
    (s B + i) mod N, as the engine does with shuffling off, and runs forward, mean cross-entropy,
    backward and Adam (the tutorial's betas 0.85 and 0.99, epsilon 1e-8) at rate lr (1 - s / steps).
    """

    def __init__(self, args):
        torch.set_num_threads(args.threads)
        config = Config(args.vocab, args.embd, args.heads, args.layers, args.block)
        if args.weights:
            self.model = load(args.weights, check_checksum=False)
            if vars(self.model.config) != vars(config):
                raise ValueError(f"{args.weights} holds a model of another shape: {vars(self.model.config)}")
        else:
            torch.manual_seed(args.seed)
            self.model = MicroGpt(config)
        self.lines = read_lines(args.lines, args.block + 1)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr, betas=(0.85, 0.99), eps=1e-8)
        self.args = args
        self.done = 0

    def step(self):
        rows = torch.arange(self.done * self.args.batch, (self.done + 1) * self.args.batch) % self.lines.shape[0]
        batch = self.lines[rows]
        for group in self.optimizer.param_groups:
            group["lr"] = self.args.lr * (1 - self.done / self.args.total_steps)
        _, loss = self.model(batch[:, :-1], batch[:, 1:])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.done += 1
        return loss.item()

    def timed(self, steps):
        clock = time.perf_counter()
        for _ in range(steps):
            self.step()
        return time.perf_counter() - clock

    def start(self):
        """The checked steps' losses, then a warm-up of at least one step; a description of the run."""
        losses = [self.step() for _ in range(self.args.checked_steps)]
        warm, seconds = 0, 0.0
        while warm == 0 or seconds < self.args.warmup_seconds:
            seconds += self.timed(1)
            warm += 1
        return {"torch": torch.__version__, "blas": blas_in_use(), "torch_threads": torch.get_num_threads(),
                "losses": losses, "seconds_per_step": seconds / warm, "tokens_per_step": self.args.batch * self.args.block}


def speed(args):
    run = SpeedRun(args)
    report = run.start()
    per_slice = max(1, round(args.slice_seconds / report["seconds_per_step"]))
    report["slices"] = []
    for _ in range(args.slices):
        seconds = run.timed(per_slice)
        report["slices"].append({"steps": per_slice, "seconds": seconds, "tokens_per_second": per_slice * report["tokens_per_step"] / seconds})
    print(json.dumps(report))


def serve(args):
    """Answers commands on stdin, one a line: 'run N' (N untimed steps) and 'time N' (N steps, timed); EOF ends."""
    run = SpeedRun(args)
    print(json.dumps(run.start()), flush=True)
    for line in sys.stdin:
        command, count = line.split()
        seconds = run.timed(int(count))
        print(json.dumps({"seconds": seconds} if command == "time" else {}), flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("speed", "training speed on full-length lines, in timed slices"),
                       ("serve", "the same run, timed slice by slice on command (for the benchmark, which interleaves it with MicroGpt)")):
        run = commands.add_parser(name, help=text)
        for option, default in (("vocab", None), ("embd", None), ("heads", 4), ("layers", None), ("block", None), ("batch", None)):
            run.add_argument(f"--{option}", type=int, required=default is None, default=default)
        run.add_argument("--lines", required=True, help="token ids, one line of at least block + 1 per text line")
        run.add_argument("--weights", help="a MicroGpt safetensors file to start from (else N(0, 0.08) from --seed)")
        run.add_argument("--seed", type=int, default=42)
        run.add_argument("--threads", type=int, default=1, help="torch's own threads (OpenBLAS takes OPENBLAS_NUM_THREADS)")
        run.add_argument("--lr", type=float, default=0.01)
        run.add_argument("--total-steps", type=int, default=1_000_000, help="the schedule's length: the rate is lr (1 - step / total)")
        run.add_argument("--checked-steps", type=int, default=3, help="first steps whose losses are printed, for comparison with the engine")
        run.add_argument("--warmup-seconds", type=float, default=1.0)
        if name == "speed":
            run.add_argument("--slice-seconds", type=float, default=0.5)
            run.add_argument("--slices", type=int, default=5)
    commands.add_parser("blas", help="the BLAS library torch runs on")

    loss = commands.add_parser("loss", help="Measure-Model's loss on corpus files (one sentence a line), as JSON")
    loss.add_argument("model", help="a MicroGpt .safetensors file (Save-Model -Path m.safetensors)")
    loss.add_argument("text", nargs="+", help="corpus files, measured as one corpus")
    loss.add_argument("--stream", action="store_true", help="Measure-Model -Stream's loss: the files' text as one token stream, in consecutive windows")
    sample = commands.add_parser("sample", help="sentences from the model, one a line")
    sample.add_argument("model")
    sample.add_argument("--count", type=int, default=5)
    sample.add_argument("--temperature", type=float, default=0.8, help="0 picks the most likely token (default: 0.8, as Invoke-Generation)")
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--prompt", help="a stream model's continuation of this text, as Invoke-Generation -Prompt (instead of sentences)")
    sample.add_argument("--max-tokens", type=int, default=200, help="tokens drawn after --prompt (default: 200)")
    train = commands.add_parser("train", help="Adam steps in PyTorch, then the model saved in MicroGpt's layout")
    train.add_argument("model")
    train.add_argument("text", nargs="+", help="corpus files, one sentence a line (with --stream: one token stream)")
    train.add_argument("--stream", action="store_true", help="train on random windows of the files' text as one token stream, as Invoke-Training -Stream")
    train.add_argument("--steps", type=int, required=True)
    train.add_argument("--out", required=True, help="the .safetensors file to write (Import-Model reads it)")
    train.add_argument("--lr", type=float, default=0.01, help="the first step's rate, decaying linearly to 0 (default: 0.01, as Invoke-Training)")
    train.add_argument("--batch", type=int, default=1, help="sentences (with --stream: windows) a step (default: 1, as Invoke-Training)")
    train.add_argument("--seed", type=int, default=42, help="the shuffle's seed (with --stream: the windows'), as Invoke-Training -Seed")

    args = parser.parse_args(argv)
    handlers = {"speed": speed, "serve": serve, "loss": loss_command, "sample": sample_command, "train": train_command,
                "blas": lambda _: print(json.dumps(blas_in_use()))}
    try:
        handlers[args.command](args)
    except BridgeError as problem:
        # The user's input was wrong: say which, in one line, and exit 1 (argparse's own errors exit 2).
        print(f"microgpt_torch.py {args.command}: error: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
