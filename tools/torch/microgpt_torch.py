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

    microgpt_torch.py loss MODEL.safetensors TEXT...
        Measure-Model's figure on corpus files (one sentence a line, read by the same rules: lines
        trimmed, lower-cased for word models, [BOS, ..., BOS], the first block-size positions):
        the mean over sentences of each sentence's mean loss, as JSON. An unknown word or
        character is an error naming it, its file and line.
    microgpt_torch.py sample MODEL.safetensors [--count N] [--temperature T] [--seed S]
        Sentences decoded with the file's tokenizer, one a line (torch's seeded draws).
    microgpt_torch.py train MODEL.safetensors TEXT... --steps N --out OUT.safetensors [--lr --batch --seed]
        Adam steps as Invoke-Training takes them, then OUT saved for Import-Model. Started by
        torchrun, it trains data-parallel (DistributedDataParallel); README.md has the commands.

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
import ctypes
import json
import math
import os
import random
import re
import struct
import sys
import time

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
FORMAT_VERSION = 2  # ModelFile.FormatVersion: the version whose safetensors files describe themselves

# The characters .NET's char.IsWhiteSpace accepts, which string.Trim() removes and the word
# tokenizer splits at. Python's own str.split() differs (it also splits at U+001C to U+001F).
DOTNET_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
WORDS = re.compile(f"[^{re.escape(DOTNET_WHITE_SPACE)}]+")
LINE_END = re.compile(r"\r\n|\r|\n")  # TextReader.ReadLine's line ends, not str.splitlines()'s many
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what CorpusFile refuses: control characters but tab


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
    The word or character tokenizer of a MicroGpt file, with sentence mode's rules
    (Corpus.Normalize, Tokenizer.EncodeSentence): a line is trimmed, lower-cased for words (the
    tutorial's rule), and a sentence encodes as [BOS, pieces..., BOS], BOS being the id after the
    last piece. Words are the runs between white space; characters are Unicode code points.
    """

    KIND_IDS = {"word": 0, "character": 1}  # TokenizerKind's values, which the checksum hashes

    def __init__(self, kind, vocabulary):
        if kind not in self.KIND_IDS:
            raise BridgeError(f"tokenizer kind \"{kind}\" is not one this bridge reads ({', '.join(self.KIND_IDS)})")
        self.kind = kind
        self.vocabulary = list(vocabulary)
        self.ids = {piece: i for i, piece in enumerate(self.vocabulary)}
        self.bos = len(self.vocabulary)
        self.vocab_size = self.bos + 1

    @classmethod
    def parse(cls, element):
        return cls(element.get("kind"), element.get("vocabulary", []))

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

    def encode_sentence(self, sentence, where):
        """[BOS, ids..., BOS]; a piece outside the vocabulary is an error naming it and `where` (file and line)."""
        ids = [self.bos]
        for piece in self.pieces(sentence):
            if piece not in self.ids:
                raise BridgeError(f"{where}: the {self.kind} '{piece}' is not in the model's vocabulary of {self.bos} {self.kind}s")
            ids.append(self.ids[piece])
        return ids + [self.bos]

    def decode(self, ids):
        """The text of ids, BOS left out: words joined by single spaces, characters as they are."""
        return (" " if self.kind == "word" else "").join(self.vocabulary[i] for i in ids if i != self.bos)


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

def read_sentences(paths, tokenizer, block_size):
    """
    The encoded sentences of corpus files as Measure-Model and Invoke-Training read them: lines
    ending at LF, CR or CR LF, UTF-8 (a byte-order mark allowed; MicroGpt's UTF-16 and UTF-32 are
    refused here), no control character but tab, normalized by the tokenizer's kind, blank ones skipped. A sentence longer than block_size + 1 tokens is cut there, as MicroGpt
    trains and measures on its first block_size positions only; a warning says how many were cut.
    """
    sentences = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8-sig")
        except OSError as problem:
            raise BridgeError(f"'{path}' cannot be read: {problem.strerror}") from None
        except UnicodeDecodeError as problem:
            raise BridgeError(f"'{path}' is not UTF-8 text (byte {problem.start})") from None
        for number, line in enumerate(LINE_END.split(text), 1):
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


def sentence_losses(network, block_size, sentences):
    """
    Each sentence's mean cross-entropy over its min(T, tokens - 1) positions, as the engine's
    PackedBatch counts them: (B) losses for B sentences. Sentences are padded to the longest; a
    padded position comes after every real one, so the causal attention keeps it out of them.
    The network is the model, or the DistributedDataParallel that wraps it (which has no config).
    """
    rows = [min(block_size, len(s) - 1) for s in sentences]
    width = max(rows)
    inputs = torch.zeros(len(sentences), width, dtype=torch.long)
    targets = torch.full((len(sentences), width), -100, dtype=torch.long)  # -100: cross_entropy's ignore_index
    for b, (s, n) in enumerate(zip(sentences, rows)):
        inputs[b, :n] = torch.tensor(s[:n])
        targets[b, :n] = torch.tensor(s[1:n + 1])
    logits, _ = network(inputs)
    losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (B, width), 0 where ignored
    return losses.sum(dim=1) / torch.tensor(rows, dtype=losses.dtype)


def mean_loss(model, sentences, chunk=64):
    """Measure-Model's figure: the mean over sentences of each sentence's mean loss (summed in float64, in order)."""
    total = 0.0
    with torch.no_grad():
        for first in range(0, len(sentences), chunk):
            total += sentence_losses(model, model.config.block_size, sentences[first:first + chunk]).double().sum().item()
    return total / len(sentences)


def loss_command(args):
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    sentences = read_sentences(args.text, tokenizer, model.config.block_size)
    loss = mean_loss(model, sentences)
    tokens = sum(min(model.config.block_size, len(s) - 1) for s in sentences)
    print(json.dumps({"loss": loss, "perplexity": math.exp(loss), "sentences": len(sentences), "tokens": tokens}))


def require_tokenizer(model, path):
    if model.tokenizer is None:
        raise BridgeError(f"{path}: it has no description with a tokenizer (saved by a MicroGpt before format version 2, or by another tool); "
                          "load it in MicroGpt (Import-Model -Tokenizer) and save it again")
    return model.tokenizer


def sample_command(args):
    """
    Sentences as Invoke-Generation makes them: from BOS, one token at a time, until the model
    closes the sentence with BOS or the block is full. The draws are torch's, seeded, so the
    sentences are not the ones MicroGpt's own generator would pick at the same seed.
    """
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    if not (args.temperature >= 0 and math.isfinite(args.temperature)):
        raise BridgeError(f"--temperature {args.temperature} is not 0 (greedy) or a positive number")
    generator = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for _ in range(args.count):
            ids = []
            while len(ids) < model.config.block_size:
                logits, _ = model(torch.tensor([[tokenizer.bos] + ids]))
                last = logits[0, -1]
                if args.temperature == 0:
                    token = int(last.argmax())
                else:
                    token = int(torch.multinomial(F.softmax(last / args.temperature, dim=-1), 1, generator=generator))
                if token == tokenizer.bos:
                    break
                ids.append(token)
            print(tokenizer.decode(ids))


def train_command(args):
    """
    A first PyTorch training run on a MicroGpt model, the engine's way: sentences shuffled once
    (seeded), step s takes the batch of B sentences from s B on, the loss is the mean of the
    sentences' mean losses, and Adam runs with the tutorial's betas (0.85, 0.99), epsilon 1e-8 and a
    rate decaying linearly to 0 over the steps. The result is saved in MicroGpt's layout with the
    training summary carried on (steps, tokens, last loss added to the file's own).

    Started by torchrun (which sets WORLD_SIZE and RANK), it is data-parallel: every process
    builds the same batch (same seed), takes its share (sentences rank, rank + W, ...), and
    DistributedDataParallel averages the gradients, which with equal shares is the whole batch's
    gradient: the same steps as one process, spread over W processes or machines.
    """
    if args.steps <= 0 or args.batch <= 0 or not (args.lr > 0 and math.isfinite(args.lr)):
        raise BridgeError(f"--steps {args.steps}, --batch {args.batch} and --lr {args.lr} must all be positive")
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if args.batch % world != 0:
        raise BridgeError(f"--batch {args.batch} does not divide among {world} processes; give each the same number of sentences")
    model = load(args.model)
    tokenizer = require_tokenizer(model, args.model)
    sentences = read_sentences(args.text, tokenizer, model.config.block_size)
    random.Random(args.seed).shuffle(sentences)
    network = model
    if world > 1:
        torch.distributed.init_process_group("gloo")  # CPU processes; a GPU cluster would use nccl
        network = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.85, 0.99), eps=1e-8)
    block_size = model.config.block_size
    for step in range(args.steps):
        batch = [sentences[(step * args.batch + i) % len(sentences)] for i in range(args.batch)]
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
    sample = commands.add_parser("sample", help="sentences from the model, one a line")
    sample.add_argument("model")
    sample.add_argument("--count", type=int, default=5)
    sample.add_argument("--temperature", type=float, default=0.8, help="0 picks the most likely token (default: 0.8, as Invoke-Generation)")
    sample.add_argument("--seed", type=int, default=42)
    train = commands.add_parser("train", help="Adam steps in PyTorch, then the model saved in MicroGpt's layout")
    train.add_argument("model")
    train.add_argument("text", nargs="+", help="corpus files, one sentence a line")
    train.add_argument("--steps", type=int, required=True)
    train.add_argument("--out", required=True, help="the .safetensors file to write (Import-Model reads it)")
    train.add_argument("--lr", type=float, default=0.01, help="the first step's rate, decaying linearly to 0 (default: 0.01, as Invoke-Training)")
    train.add_argument("--batch", type=int, default=1, help="sentences a step (default: 1, as Invoke-Training)")
    train.add_argument("--seed", type=int, default=42, help="the shuffle's seed")

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
