"""What `tests/test_distributed.py` launches in 1 or 2 processes (`accelerate launch`): `train`, `losses`, `nogan`.

Each process records what it saw in `RESULTS/rank{R}.json`: the files lesson7ext wrote from that process (every
`atomic_write`), a digest of the weights after every optimizer step gathered from all ranks, the losses.
"""
import argparse, atexit, hashlib, json, os
from pathlib import Path
import torch
from fastai.vision.all import Callback, DataLoader, DataLoaders, Learner
from fastai.torch_core import rank_distrib
import lesson7ext.images as images, lesson7ext.train as training, lesson7ext.gan as gan
from lesson7ext.distributed import gather_objects, unwrap, distrib_fit, init_distributed

rank = rank_distrib()
record = dict(rank=rank, world=int(os.environ.get('WORLD_SIZE', 1)), writes=[], digests=[], losses=[], modes=[])

_write = images.atomic_write
def atomic_write(path, data):
    record['writes'].append(str(path))
    return _write(path, data)
for mod in (images, training, gan): mod.atomic_write = atomic_write  # every module that writes files

def digest(model):
    return hashlib.sha256(b''.join(p.detach().cpu().numpy().tobytes() for p in unwrap(model).parameters())).hexdigest()[:16]

class Digests(Callback):
    "After every optimizer step: every rank's weight digest, gathered (all must be equal), and the loss."
    order = 99
    def after_step(self):
        record['digests'].append(gather_objects(digest(self.learn.model)))
        record["losses"].append(gather_objects(float(self.learn.loss.detach())))
        gt = getattr(self.learn, 'gan_trainer', None)
        if gt is not None: record['modes'].append(gather_objects(bool(gt.gen_mode)))  # the step just taken: generator or critic

class Interrupt(Callback):
    "Stop every rank at the same GAN iteration, as Ctrl-C would."
    order = 97  # after `GenCheckpoint` (96) saved that iteration
    def __init__(self, at): self.at, self.n = at, 0
    def after_batch(self):
        if not self.training: return
        self.n += 1
        if self.n == self.at: raise KeyboardInterrupt

def tensors(n, size=32, seed=0):
    "`n` fixed (input, target) pairs in the loaders' normalised space."
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(n, 3, size, size, generator=g)
    x = (y + 0.1 * torch.randn(y.shape, generator=g)).clamp(0, 1)
    return [(a, b) for a, b in zip(x, y)]

def losses(args):
    "A few steps with the same global batch: 2 processes of `bs` vs 1 of `2*bs` ordered like the two ranks' halves."
    items, world, bs = tensors(32), record['world'], args.bs
    if world == 1:  # rank r of 2 reads items[16r:16r+16] in order: global batch i = items[bs*i:..] + items[16+bs*i:..]
        items = [it for i in range(16 // bs) for it in items[bs * i: bs * i + bs] + items[16 + bs * i: 16 + bs * i + bs]]
        bs *= 2
    dls = DataLoaders(DataLoader(items, bs=bs, shuffle=False), DataLoader(tensors(8, seed=1), bs=bs), device='cpu')
    torch.manual_seed(0)
    learn = training.restoration_learner(dls, nf=8, precision='fp32', channels_last=False, metrics=[])
    init_distributed()
    with distrib_fit(learn): learn.fit(1, 1e-3, cbs=Digests())
    bn = Learner(dls, torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.BatchNorm2d(3)), loss_func=torch.nn.MSELoss())
    with bn.distrib_ctx(): bn.fit(1)  # fastai's own context on a batch-norm model: no `SyncBatchNorm` on CPU processes
    record['batchnorm'] = True

def train(args):
    learn = training.train_restorer(args.photos, args.out, 'lesson7', minutes=args.minutes, size=32, bs=args.bs, valid_pct=0.25,
                                   precision='fp32', nf=8, quiet=True, cbs=[Digests()])
    record['metrics'] = training.final_metrics(learn)

def nogan(args):
    cbs = [Digests()] + ([Interrupt(args.interrupt)] if args.interrupt else [])
    try: gan.nogan(args.photos, args.out, 'lesson7', size=64, bs=args.bs, gen_minutes=args.minutes, crit_minutes=args.minutes,
                   gan_iters=8, ckpt_every=2, precision='fp32', nf=8, epoch_size=4 * args.bs, cbs=cbs)
    except KeyboardInterrupt: record['interrupted'] = True

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('job', choices=['train', 'losses', 'nogan'])
    p.add_argument('--results', required=True)
    p.add_argument('--photos')
    p.add_argument('--out')
    p.add_argument('--minutes', type=float, default=0.1)
    p.add_argument('--bs', type=int, default=4)
    p.add_argument('--interrupt', type=int, default=0)
    args = p.parse_args()
    res = Path(args.results)
    res.mkdir(parents=True, exist_ok=True)
    atexit.register(lambda: (res/f'rank{rank}.json').write_text(json.dumps(record)))
    dict(train=train, losses=losses, nogan=nogan)[args.job](args)
