#!/usr/bin/python3
"""Generate the torch.ao quantized fixtures used by ptscope's tests.

Each file is a small float model quantized by torch.ao.quantization and
saved by torch itself. expected.json holds, per file, the truth ptscope's
tests compare exactly:

  * float_parameters, float_tensors, float_shapes: sum(p.numel()), len() and
    {name: shape} of the float model's parameters before quantization: what
    ptscope must count and name (an LSTM's weight_ih_l0, bias_hh_l1_reverse);
  * state_dict: the quantized model's state_dict, name -> "dtype[shape]"
    (tuples of packed params as "(qint8[64,32], float32[64])").

Run with Debian's interpreter (torch 1.13; the qnnpack engine, as fbgemm
is not built in):

    /usr/bin/python3 scripts/make_quantized_fixtures.py [--out DIR]

Determinism: weights are seeded; for the TorchScript files the script
re-executes itself with PYTHONHASHSEED=0 (see reexec_deterministically).
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically  # noqa: E402

import torch
import torch.nn as nn
import torch.ao.quantization as tq

SCRIPT_REL = "scripts/make_quantized_fixtures.py"
REPO_ROOT = Path(__file__).resolve().parent.parent


class ConvLinear(nn.Module):
    """conv -> relu -> conv -> linear -> linear: 11,112 parameters."""

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc1 = nn.Linear(16 * 4 * 4, 40)
        self.fc2 = nn.Linear(40, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        x = self.fc2(self.relu(self.fc1(x)))
        return self.dequant(x)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64, 16)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.head(self.fc2(torch.relu(self.fc1(x))))


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y)


class Gru(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 12)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        y, _ = self.gru(x)
        return self.fc(y)


class BiLstm(nn.Module):
    """Two bidirectional layers: layer 1 reads both directions (2 * 16)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y)


def float_counts(model):
    ps = list(model.parameters())
    return {"float_parameters": sum(p.numel() for p in ps), "float_tensors": len(ps),
            "float_shapes": {k: list(p.shape) for k, p in model.named_parameters()}}


def static_quantized(per_channel):
    torch.manual_seed(0)
    model = ConvLinear().eval()
    counts = float_counts(model)
    model.qconfig = tq.QConfig(
        activation=tq.default_observer,
        weight=tq.default_per_channel_weight_observer if per_channel
        else tq.default_weight_observer)
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        model(torch.randn(4, 3, 8, 8))
    tq.convert(model, inplace=True)
    return model, counts, torch.randn(1, 3, 8, 8)


def dynamic_linear():
    torch.manual_seed(1)
    model = Mlp().eval()
    counts = float_counts(model)
    q = tq.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    return q, counts, torch.randn(2, 32)


def dynamic_lstm():
    torch.manual_seed(2)
    model = Lstm().eval()
    counts = float_counts(model)
    q = tq.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    return q, counts, torch.randn(5, 1, 8)


def dynamic_rnn(cls, seed, types):
    torch.manual_seed(seed)
    model = cls().eval()
    counts = float_counts(model)
    q = tq.quantize_dynamic(model, types, dtype=torch.qint8)
    return q, counts, torch.randn(5, 1, 8)


def describe(v):
    """ "qint8[64,32]", "float32[]", "(qint8[4,16], None)", "dtype" """
    if isinstance(v, torch.Tensor):
        return "%s[%s]" % (str(v.dtype).replace("torch.", ""), ",".join(map(str, v.shape)))
    if isinstance(v, tuple):  # dynamic packed params: (weight, bias)
        return "(" + ", ".join(describe(x) for x in v) + ")"
    return type(v).__name__


def state_dict_truth(model):
    return {k: describe(v) for k, v in model.state_dict().items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "fixtures" / "quantized"))
    out = Path(parser.parse_args().out).resolve()
    reexec_deterministically(SCRIPT_REL, __file__, ["--out", str(out)])
    torch.set_num_threads(1)
    torch.backends.quantized.engine = "qnnpack"
    out.mkdir(parents=True, exist_ok=True)

    expected = {}

    def record(name, model, counts, how):
        expected[name] = dict(counts, how=how, state_dict=state_dict_truth(model))

    m, counts, _ = static_quantized(per_channel=True)
    torch.save(m.state_dict(), out / "static_per_channel_state_dict.pt")
    record("static_per_channel_state_dict.pt", m, counts, "state_dict")
    torch.jit.script(m).save(str(out / "static_per_channel_scripted.pt"))
    record("static_per_channel_scripted.pt", m, counts, "torch.jit.script")

    m, counts, _ = static_quantized(per_channel=False)
    torch.save(m.state_dict(), out / "static_per_tensor_state_dict.pt")
    record("static_per_tensor_state_dict.pt", m, counts, "state_dict")

    m, counts, _ = dynamic_linear()
    torch.save(m.state_dict(), out / "dynamic_linear_state_dict.pt")
    record("dynamic_linear_state_dict.pt", m, counts, "state_dict")
    torch.save(m, out / "dynamic_linear_module.pt")
    record("dynamic_linear_module.pt", m, counts, "torch.save(model)")
    torch.jit.script(m).save(str(out / "dynamic_linear_scripted.pt"))
    record("dynamic_linear_scripted.pt", m, counts, "torch.jit.script")

    m, counts, _ = dynamic_lstm()
    torch.save(m.state_dict(), out / "dynamic_lstm_state_dict.pt")
    record("dynamic_lstm_state_dict.pt", m, counts, "state_dict")
    # The whole module pickles in torch 1.13: PackedParameter keeps the cell
    # params ScriptObject in a plain attribute, `param`.
    torch.save(m, out / "dynamic_lstm_module.pt")
    record("dynamic_lstm_module.pt", m, counts, "torch.save(model)")

    m, counts, _ = dynamic_rnn(Gru, 3, {nn.GRU, nn.Linear})
    torch.save(m.state_dict(), out / "dynamic_gru_state_dict.pt")
    record("dynamic_gru_state_dict.pt", m, counts, "state_dict")

    m, counts, _ = dynamic_rnn(BiLstm, 4, {nn.LSTM, nn.Linear})
    torch.save(m.state_dict(), out / "dynamic_bilstm_state_dict.pt")
    record("dynamic_bilstm_state_dict.pt", m, counts, "state_dict")

    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, sort_keys=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
