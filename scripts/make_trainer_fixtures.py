#!/usr/bin/python3
"""Write trainer checkpoints as trainers write them, into fixtures/trainer/,
with their truth in fixtures/trainer/expected.json.

Each fixture follows the layout its trainer documents or writes (cited at
each writer below), filled with a small model trained one step so that the
optimizer has real moments. The truth is computed here by torch:

  * parameters / buffers: sum(p.numel() for p in model.parameters()) and the
    persistent buffers of the module that was saved, or null where the file
    holds no model;
  * groups: the top-level keys whose values hold tensors (found by loading
    the file back and walking it), in file order, each with its kind
    (model, ema, optimizer, scheduler, rng, other) as the trainer means it;
    loose top-level tensors with dotted (state_dict) names are one group,
    "(top level)";
  * estimate: "ok", or the error ptscope must give for a file with no model.

Run with Debian's interpreter (torch 1.13):

    /usr/bin/python3 scripts/make_trainer_fixtures.py [--out DIR]

torch.save's zip writer is deterministic, and every fixture seeds itself, so
reruns are byte-identical.
"""

import argparse
import copy
import io
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = "(top level)"


class Net(nn.Module):
    """Linear-BN-Linear: parameters and buffers (num_batches_tracked int64)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.bn = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x))))


class LitNet(nn.Module):
    """A LightningModule's shape: the network as an attribute (keys "net.")."""

    def __init__(self):
        super().__init__()
        self.net = Net()

    def forward(self, x):
        return self.net(x)


def seed_all(seed=0):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def trained(make, opt_class, **opt_args):
    """A fresh model after one optimizer step, its optimizer, the loss."""
    seed_all(0)
    model = make()
    opt = opt_class(model.parameters(), **opt_args)
    model.train()
    loss = F.cross_entropy(model(torch.randn(6, 8)), torch.randint(0, 4, (6,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    return model, opt, loss.detach()


def counts(model):
    params = list(model.parameters())
    ids = {id(p) for p in params}
    buffers = [t for t in model.state_dict(keep_vars=True).values() if id(t) not in ids]
    return {"parameters": sum(p.numel() for p in params),
            "buffers": sum(b.numel() for b in buffers)}


NO_MODEL = {"parameters": None, "buffers": None}


def holds_tensor(v, seen=None):
    seen = set() if seen is None else seen
    if id(v) in seen:
        return False
    seen.add(id(v))
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, nn.Module):
        return bool(v.state_dict())
    if isinstance(v, dict):
        return any(holds_tensor(x, seen) for x in v.values())
    if isinstance(v, (list, tuple, set)):
        return any(holds_tensor(x, seen) for x in v)
    if hasattr(v, "__dict__"):
        return holds_tensor(vars(v), seen)
    return False


def groups_of(path, kinds):
    """[name, kind] per top-level key holding tensors, in file order."""
    obj = torch.load(path)
    out = []
    for key, value in obj.items():
        if not holds_tensor(value):
            continue
        name = TOP_LEVEL if isinstance(value, torch.Tensor) and "." in key else key
        if [name, kinds[name]] not in out:
            out.append([name, kinds[name]])
    return out


# --------------------------------------------------------------------------
# One writer per layout: (file, object, kinds of its groups, truth)


def tutorial_general():
    # PyTorch tutorial "Saving and loading a general checkpoint in PyTorch"
    # (recipes/recipes/saving_and_loading_a_general_checkpoint.py):
    # torch.save({'epoch', 'model_state_dict', 'optimizer_state_dict',
    # 'loss'}, PATH), with `loss` the loss tensor; SGD with momentum.
    model, opt, loss = trained(Net, torch.optim.SGD, lr=0.1, momentum=0.9)
    ckpt = {"epoch": 5, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(), "loss": loss}
    kinds = {"model_state_dict": "model", "optimizer_state_dict": "optimizer", "loss": "other"}
    return "tutorial_general.pt", ckpt, kinds, counts(model)


def imagenet_example():
    # pytorch/examples imagenet/main.py: save_checkpoint({'epoch', 'arch',
    # 'state_dict', 'best_acc1', 'optimizer', 'scheduler'}, is_best), where
    # best_acc1 = max(acc1, best_acc1) is the tensor accuracy() returns.
    model, opt, _ = trained(Net, torch.optim.SGD, lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    ckpt = {"epoch": 1, "arch": "net", "state_dict": model.state_dict(),
            "best_acc1": torch.tensor(41.5), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict()}
    kinds = {"state_dict": "model", "best_acc1": "other", "optimizer": "optimizer"}
    return "imagenet_checkpoint.pth.tar", ckpt, kinds, counts(model)


def lightning():
    # Lightning pytorch_lightning/trainer/connectors/checkpoint_connector.py
    # _dump_checkpoint (1.x; lightning/pytorch/.../checkpoint_connector.py in
    # 2.x): epoch, global_step, pytorch-lightning_version, state_dict, loops,
    # callbacks ({state_key: callback.state_dict()}: ModelCheckpoint keeps
    # best_model_score and current_score as tensors), optimizer_states (a
    # list), lr_schedulers (a list), hparams_name, hyper_parameters.
    model, opt, _ = trained(LitNet, torch.optim.Adam, lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
    ckpt_cb = ("ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min', "
               "'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None}")
    ckpt = {
        "epoch": 0, "global_step": 1, "pytorch-lightning_version": "2.1.0",
        "state_dict": model.state_dict(),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {
            "total": {"ready": 1, "started": 1, "processed": 1, "completed": 0}}}},
        "callbacks": {ckpt_cb: {
            "monitor": "val_loss", "best_model_score": torch.tensor(0.75),
            "best_model_path": "epoch=0-step=1.ckpt", "current_score": torch.tensor(0.75),
            "dirpath": "checkpoints", "best_k_models": {"epoch=0-step=1.ckpt": torch.tensor(0.75)},
            "kth_best_model_path": "", "kth_value": torch.tensor(float("inf")),
            "last_model_path": ""}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [sched.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": {"lr": 1e-3, "hidden": 16},
    }
    kinds = {"state_dict": "model", "callbacks": "other", "optimizer_states": "optimizer"}
    return "lightning.ckpt", ckpt, kinds, counts(model)


def timm():
    # timm/utils/checkpoint_saver.py CheckpointSaver._save: epoch, arch,
    # state_dict, optimizer, version, state_dict_ema (with a ModelEmaV2),
    # the loss scaler under its state_dict_key ('amp_scaler'), metric.
    model, opt, _ = trained(Net, torch.optim.AdamW, lr=1e-3)
    ema = copy.deepcopy(model)
    ckpt = {"epoch": 3, "arch": "net", "state_dict": model.state_dict(),
            "optimizer": opt.state_dict(), "version": 2,
            "state_dict_ema": ema.state_dict(),
            "amp_scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                           "growth_interval": 2000, "_growth_tracker": 0},
            "metric": 71.2}
    kinds = {"state_dict": "model", "optimizer": "optimizer", "state_dict_ema": "ema"}
    return "timm_checkpoint.pth.tar", ckpt, kinds, counts(model)


def deepspeed_model_states():
    # DeepSpeed deepspeed/runtime/engine.py _save_checkpoint, the file
    # mp_rank_00_model_states.pt: module, buffer_names, optimizer (None under
    # ZeRO: the moments are in the ZeRO files), param_shapes, lr_scheduler,
    # skipped_steps, global_steps, global_samples, dp_world_size,
    # mp_world_size, ds_config, ds_version, plus client state.
    model, opt, _ = trained(Net, torch.optim.AdamW, lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    sd = sched.state_dict()
    sd["lr_lambdas"] = [None]
    ckpt = {"module": model.state_dict(),
            "buffer_names": [n for n, _ in model.named_buffers()],
            "optimizer": None,
            "param_shapes": [{n: p.shape for n, p in model.named_parameters()}],
            "frozen_param_shapes": None, "shared_params": {}, "frozen_param_fragments": None,
            "lr_scheduler": sd, "data_sampler": None, "random_ltd": None,
            "sparse_tensor_module_names": set(), "skipped_steps": 0, "global_steps": 1,
            "global_samples": 6, "dp_world_size": 1, "mp_world_size": 1,
            "ds_config": {"train_batch_size": 6, "zero_optimization": {"stage": 3}},
            "ds_version": "0.12.6"}
    kinds = {"module": "model"}
    return "deepspeed_mp_rank_00_model_states.pt", ckpt, kinds, counts(model)


def deepspeed_zero_optim_states():
    # DeepSpeed engine.py _save_zero_checkpoint:
    # zero_pp_rank_0_mp_rank_00_optim_states.pt holds
    # {'optimizer_state_dict': optimizer.state_dict(), 'ds_config',
    # 'ds_version'}; stage 3's state_dict (runtime/zero/stage3.py
    # _rigid_state_dict): zero_stage, loss_scaler, dynamic_loss_scale,
    # overflow, partition_count, optimizer_state_dict (the base optimizer's,
    # over the flat partition), fp32_flat_groups.
    model, _, _ = trained(Net, torch.optim.AdamW, lr=1e-3)
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
    flat.requires_grad_(True)
    base = torch.optim.AdamW([flat], lr=1e-3)
    flat.grad = torch.ones_like(flat)
    base.step()
    ckpt = {"optimizer_state_dict": {
                "zero_stage": 3, "loss_scaler": {"cur_scale": 1.0},
                "dynamic_loss_scale": False, "overflow": False, "partition_count": [1],
                "optimizer_state_dict": base.state_dict(),
                "fp32_flat_groups": [flat.detach()]},
            "ds_config": {"train_batch_size": 6, "zero_optimization": {"stage": 3}},
            "ds_version": "0.12.6"}
    kinds = {"optimizer_state_dict": "optimizer"}
    return "deepspeed_zero_pp_rank_0_mp_rank_00_optim_states.pt", ckpt, kinds, NO_MODEL


def hf_optimizer():
    # transformers Trainer._save_optimizer_and_scheduler: torch.save(
    # self.optimizer.state_dict(), os.path.join(output_dir, OPTIMIZER_NAME)),
    # OPTIMIZER_NAME = "optimizer.pt"; AdamW.
    _, opt, _ = trained(Net, torch.optim.AdamW, lr=5e-5)
    return "hf_optimizer.pt", opt.state_dict(), {"state": "optimizer"}, NO_MODEL


def hf_scheduler():
    # The same method: torch.save(self.lr_scheduler.state_dict(),
    # "scheduler.pt"); the linear schedule is a LambdaLR.
    _, opt, _ = trained(Net, torch.optim.AdamW, lr=5e-5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    sd = sched.state_dict()
    sd["lr_lambdas"] = [None]
    return "hf_scheduler.pt", sd, {}, NO_MODEL


def hf_rng_state():
    # transformers Trainer._save_rng_state: rng_state.pth (rng_state_{rank}.pth
    # when distributed) = {'python': random.getstate(), 'numpy':
    # np.random.get_state(), 'cpu': torch.random.get_rng_state()} plus 'cuda'
    # where CUDA is available.
    seed_all(0)
    states = {"python": random.getstate(), "numpy": np.random.get_state(),
              "cpu": torch.random.get_rng_state()}
    return "hf_rng_state.pth", states, {"cpu": "rng"}, NO_MODEL


def plain_optimizer():
    # torch.save(optimizer.state_dict(), PATH): the optimizer half of the
    # tutorial's "Saving & loading a model for inference" advice.
    _, opt, _ = trained(Net, torch.optim.SGD, lr=0.1, momentum=0.9)
    return "optimizer_state_dict.pt", opt.state_dict(), {"state": "optimizer"}, NO_MODEL


def fairseq():
    # fairseq/checkpoint_utils.py save_state (via trainer.state_dict()):
    # args, cfg, model, criterion, optimizer_history, task_state,
    # extra_state, last_optimizer_state.
    model, opt, _ = trained(Net, torch.optim.Adam, lr=5e-4)
    ckpt = {"args": None,
            "cfg": {"common": {"seed": 1}, "optimization": {"lr": [5e-4]}},
            "model": model.state_dict(),
            "criterion": {},
            "optimizer_history": [{"criterion_name": "CrossEntropyCriterion",
                                   "optimizer_name": "FairseqAdam",
                                   "lr_scheduler_state": {"best": 2.5}, "num_updates": 1}],
            "task_state": {},
            "extra_state": {"metrics": {}, "previous_training_time": 1.5,
                            "train_iterator": {"epoch": 1, "iterations_in_epoch": 1,
                                               "shuffle": True},
                            "val_loss": 2.5},
            "last_optimizer_state": opt.state_dict()}
    kinds = {"model": "model", "last_optimizer_state": "optimizer"}
    return "fairseq_checkpoint_last.pt", ckpt, kinds, counts(model)


def mmengine():
    # mmengine/runner/runner.py Runner.save_checkpoint: meta, state_dict
    # (weights_to_cpu(get_state_dict(model))), message_hub
    # (MessageHub.state_dict()), optimizer (OptimWrapper.state_dict()),
    # param_schedulers (a list of state dicts).
    model, opt, _ = trained(Net, torch.optim.SGD, lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=8)
    ckpt = {"meta": {"epoch": 1, "iter": 1, "cfg": "model = dict(type='Net')", "seed": 0,
                     "experiment_name": "net_20240101"},
            "state_dict": model.state_dict(),
            "message_hub": {"log_scalars": {}, "runtime_info": {"epoch": 1, "iter": 1},
                            "resumed_keys": {"epoch": True, "iter": True}},
            "optimizer": opt.state_dict(),
            "param_schedulers": [sched.state_dict()]}
    kinds = {"state_dict": "model", "optimizer": "optimizer"}
    return "mmengine_epoch_1.pth", ckpt, kinds, counts(model)


def _fp16_optimizer_state(sd):
    # ultralytics.utils.torch_utils.convert_optimizer_state_dict_to_fp16
    for state in sd["state"].values():
        for k, v in state.items():
            if k != "step" and isinstance(v, torch.Tensor) and v.dtype is torch.float32:
                state[k] = v.half()
    return sd


def yolov5():
    # ultralytics/yolov5 train.py: ckpt = {'epoch', 'best_fitness', 'model':
    # deepcopy(de_parallel(model)).half(), 'ema': deepcopy(ema.ema).half(),
    # 'updates', 'optimizer', 'opt': vars(opt), 'git', 'date'}: whole modules.
    model, opt, _ = trained(Net, torch.optim.SGD, lr=0.01, momentum=0.937, nesterov=True)
    ema = copy.deepcopy(model)
    ckpt = {"epoch": 0, "best_fitness": 0.1, "model": copy.deepcopy(model).half(),
            "ema": ema.half(), "updates": 1, "optimizer": opt.state_dict(),
            "opt": {"epochs": 1, "batch_size": 6}, "git": None, "date": "2024-01-01T00:00:00"}
    kinds = {"model": "model", "ema": "ema", "optimizer": "optimizer"}
    return "yolov5_last.pt", ckpt, kinds, counts(model)


def ultralytics():
    # ultralytics/engine/trainer.py BaseTrainer.save_model (8.1+): 'model':
    # None ("resume and final checkpoints derive from EMA"), 'ema':
    # deepcopy(self.ema.ema).half(), 'updates', 'optimizer' (fp16 moments),
    # 'train_args', 'train_metrics', 'train_results', 'date', 'version',
    # 'license', 'docs'. The EMA module is the model here.
    model, opt, _ = trained(Net, torch.optim.AdamW, lr=1e-3)
    ckpt = {"epoch": 0, "best_fitness": None, "model": None,
            "ema": copy.deepcopy(model).half(), "updates": 1,
            "optimizer": _fp16_optimizer_state(copy.deepcopy(opt.state_dict())),
            "train_args": {"model": "net.yaml", "epochs": 1, "batch": 6},
            "train_metrics": {"metrics/mAP50(B)": 0.0, "fitness": 0.0},
            "train_results": {"epoch": [1]},
            "date": "2024-01-01T00:00:00", "version": "8.1.0",
            "license": "AGPL-3.0 (https://ultralytics.com/license)",
            "docs": "https://docs.ultralytics.com"}
    kinds = {"ema": "ema", "optimizer": "optimizer"}
    return "ultralytics_last.pt", ckpt, kinds, counts(model)


def torchtune_recipe_state():
    # torchtune recipes (full_finetune_single_device.py save_checkpoint ->
    # FullModelHFCheckpointer.save_checkpoint): the model goes to its own
    # files, recipe_state.pt holds {'optimizer', 'seed', 'epochs_run',
    # 'total_epochs', 'max_steps_per_epoch'} (training.OPT_KEY, SEED_KEY...).
    _, opt, _ = trained(Net, torch.optim.AdamW, lr=2e-5)
    ckpt = {"optimizer": opt.state_dict(), "seed": 1234, "epochs_run": 1,
            "total_epochs": 3, "max_steps_per_epoch": None}
    return "torchtune_recipe_state.pt", ckpt, {"optimizer": "optimizer"}, NO_MODEL


def torchtitan():
    # torchtitan/components/checkpoint.py CheckpointManager: states = {model
    # (ModelWrapper), optimizer (OptimizersContainer: state keyed by FQN, as
    # get_optimizer_state_dict gives it), lr_scheduler, dataloader,
    # train_state}; _flattened_model_states_sd() puts the model's entries at
    # the top level beside them. Written as torch.save does it after
    # dcp_to_torch_save.
    model, opt, _ = trained(Net, torch.optim.AdamW, lr=8e-4)
    names = [n for n, _ in model.named_parameters()]
    osd = opt.state_dict()
    optimizer = {"state": {names[i]: s for i, s in osd["state"].items()},
                 "param_groups": [dict(g, params=names) for g in osd["param_groups"]]}
    ckpt = {"optimizer": optimizer,
            "lr_scheduler": {"lr_scheduler_0": {"last_epoch": 1, "_step_count": 2}},
            "dataloader": {"dp_rank_0": b"\x80\x04N."},
            "train_state": {"step": torch.tensor(1), "global_avg_losses": [1.25],
                            "global_max_losses": [1.5], "log_steps": [1]}}
    ckpt.update(model.state_dict())
    kinds = {"optimizer": "optimizer", "train_state": "other", TOP_LEVEL: "model"}
    return "torchtitan_step-1.pt", ckpt, kinds, counts(model)


WRITERS = [tutorial_general, imagenet_example, lightning, timm, deepspeed_model_states,
           deepspeed_zero_optim_states, hf_optimizer, hf_scheduler, hf_rng_state,
           plain_optimizer, fairseq, mmengine, yolov5, ultralytics,
           torchtune_recipe_state, torchtitan]

NO_MODEL_ERROR = "holds no model state ({}): nothing to estimate"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "fixtures" / "trainer")
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    expected = {}
    for writer in WRITERS:
        name, obj, kinds, truth = writer()
        torch.save(obj, out / name)
        groups = groups_of(out / name, kinds)
        entry = dict(truth, groups=groups)
        has_model = any(k in ("model", "ema") for _, k in groups) or (
            not groups and truth["parameters"] is not None)
        if has_model:
            entry["estimate"] = "ok"
        else:
            held = []
            for _, k in groups:
                k = k + " state" if k in ("optimizer", "rng") else k
                if k not in held:
                    held.append(k)
            entry["estimate"] = NO_MODEL_ERROR.format(
                (", ".join(held) + " only") if held else "no tensors")
        expected[name] = entry
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(expected)} fixtures to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
