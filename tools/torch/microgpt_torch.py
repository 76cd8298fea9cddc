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

Commands (the benchmark in bench/ runs them; see bench/README.md):

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
        mask = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
        self.register_buffer("causal", mask, persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        hs = c // self.n_head
        # (B, T, C) -> (B, H, T, hs)
        q = self.q(x).view(b, t, self.n_head, hs).transpose(1, 2)
        k = self.k(x).view(b, t, self.n_head, hs).transpose(1, 2)
        v = self.v(x).view(b, t, self.n_head, hs).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)            # (B, H, T, T)
        scores = scores.masked_fill(~self.causal[:t, :t], float("-inf"))
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
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (header_length,) = struct.unpack_from("<Q", data, 0)
    if header_length > len(data) - 8:
        raise ValueError(f"{path}: its header claims {header_length} bytes, more than the file holds")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    body = memoryview(data)[8 + header_length:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        if entry.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor '{name}' has dtype {entry.get('dtype')}; MicroGpt files hold F32")
        begin, end = entry["data_offsets"]
        shape = entry["shape"]
        if not 0 <= begin <= end <= len(body) or end - begin != 4 * math.prod(shape):
            raise ValueError(f"{path}: tensor '{name}' has data_offsets [{begin}, {end}] that do not fit shape {shape}")
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
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as f:
            f.write(struct.pack("<Q", len(encoded)))
            f.write(encoded)
            for tensor in tensors.values():
                f.write(tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes())
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
        raise ValueError(f"{path}: no configuration in __metadata__ and no {side} beside it")
    with open(side, encoding="utf-8") as f:
        c = json.load(f)["config"]
    return Config(c["vocabSize"], c["nEmbd"], c["nHead"], c["nLayer"], c["blockSize"])


def load(path):
    """A MicroGpt model from its safetensors file."""
    tensors, metadata = read_safetensors(path)
    model = MicroGpt(config_of(path, metadata))
    expected = model.tensors()
    if set(tensors) != set(expected):
        raise ValueError(f"{path}: tensors {sorted(set(tensors) ^ set(expected))} do not match the configuration")
    with torch.no_grad():
        for name, parameter in expected.items():
            if tuple(tensors[name].shape) != tuple(parameter.shape):
                raise ValueError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}; the configuration needs {list(parameter.shape)}")
            parameter.copy_(tensors[name])
    return model


def save(model, path):
    """Writes the model in MicroGpt's safetensors layout, its configuration in __metadata__."""
    write_safetensors(path, model.tensors(), {"format": "pt", **model.config.as_metadata()})


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
            self.model = load(args.weights)
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
    args = parser.parse_args(argv)
    if args.command == "speed":
        speed(args)
    elif args.command == "serve":
        serve(args)
    else:
        json.dump(blas_in_use(), sys.stdout)
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
