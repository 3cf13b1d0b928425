"""Learning per CPU minute for the blind `photo` model (issue 28): training settings, then architectures, each for the same minutes.

    python bench/photo_training.py settings [--minutes 2.5] [--runs fp32,bf16,bf16_cl,...]
    python bench/photo_training.py archs [--minutes 8] [--runs today,naf,naf4,...]

Each run trains a model from scratch in its own process on the `photo` crappifier (the photos of `tools/pretrain.py photo`, same
split: the 10 Sun80 photos `bench/photos.py` scores on are never trained on) with `fit_budget` over the same wall-clock minutes,
then restores 4 of those held-out photos (fp32, whole photos, no strength calibration) on a few rows of `protocols.photo_inputs`.

`settings` varies how one architecture (today's `photo`: `RestoreUnet(factor=2, nf=32)`) trains: fp32, bf16 autocast, bf16 with
channels-last, `torch.compile`, a DataLoader worker, batch size. Columns: samples/s (training steps only, after the first 5),
steps reached, and the gains after the same minutes, so that a fast setting that learns worse shows.

`archs` varies the net under the winning setting. Columns: parameters, GFLOP per megapixel (forward, counted by
`torch.utils.flop_counter`), inference seconds per MP (bf16, channels-last, 2 threads, a 1-MP image), samples/s, and the gains.
"""
import argparse, json, subprocess, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
from fastai.callback.core import Callback
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'tools'))

ROWS = ['jpeg q10', 'jpeg q30', 'jpeg q50', 'noise σ15', 'clean']
# name -> (architecture, training settings); settings: precision, channels_last, compile, workers, bs
SETTINGS = dict(
    fp32=dict(precision='fp32', channels_last=False), bf16=dict(precision='bf16', channels_last=False),
    bf16_cl=dict(precision='bf16'), bf16_cl_compile=dict(precision='bf16', compile=True),
    bf16_cl_worker=dict(precision='bf16', workers=1), bf16_cl_bs8=dict(precision='bf16', bs=8), bf16_cl_bs32=dict(precision='bf16', bs=32),
    fp32_cl=dict(precision='fp32'),
)
ARCHS = dict(  # today's `photo`, more channels at the low levels, NAF blocks at today's cost, a fourth level, NAF at half the cost
    today=('RestoreUnet', dict(factor=2, nf=32)),
    wide_low=('RestoreUnet', dict(factor=4, nf=64)),
    naf48=('NafUnet', dict(factor=2, nf=48, blocks=(1, 1, 4))),
    naf4=('NafUnet', dict(factor=2, nf=32, blocks=(1, 2, 4, 8))),
    naf=('NafUnet', dict(factor=2, nf=32, blocks=(1, 1, 4))),
    naf_nopool=('NafUnet', dict(factor=2, nf=32, blocks=(1, 1, 4), pool=0)),
)

def build(arch):
    import lesson7ext.zoo as zoo
    name, kw = ARCHS[arch]
    return getattr(zoo, name)(**kw)

def cost(model):
    "Parameters, forward GFLOP per output megapixel, and inference seconds per output MP (bf16 autocast, channels-last, a 1024x1024 output; a net that upscales `u` times is given the input that makes it)."
    from torch.utils.flop_counter import FlopCounterMode
    m, u = model.eval(), getattr(model, 'upscales', 1)
    with torch.no_grad(), FlopCounterMode(display=False) as fc: m(torch.randn(1, 3, 256 // u, 256 // u))
    x = torch.randn(1, 3, 1024 // u, 1024 // u).contiguous(memory_format=torch.channels_last)
    m = m.to(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        m(x); t0 = time.perf_counter(); m(x); m(x); s = (time.perf_counter() - t0) / 2 / (1024 * 1024 / 1e6)
    return dict(params=sum(p.numel() for p in model.parameters()), gflop_mp=fc.get_total_flops() / (256 * 256) * 1e6 / 1e9, s_mp=s)

class Speed(Callback):
    "Samples per second of the training steps after the first `skip` (data loading between steps included)."
    order = 100
    def __init__(self, skip=5): self.skip, self.n, self.samples, self.t0 = skip, 0, 0, None
    def before_train(self): self.t0 = None
    def after_batch(self):
        if not self.training: return
        self.n += 1
        if self.n == self.skip: self.t0 = time.perf_counter(); self.samples = 0; self.secs0 = getattr(self, 'secs', 0.)
        elif self.n > self.skip: self.samples += len(self.xb[0])
    def after_train(self):
        if self.t0 is not None: self.secs = self.secs0 + time.perf_counter() - self.t0; self.secs0 = self.secs; self.t0 = None
    def rate(self): return self.samples / max(getattr(self, 'secs', 0.), 1e-9)

def one(arch, setting, minutes, out, data, work):
    "One run in this process: train `arch` with `setting` for `minutes`, score, write JSON to `out`."
    import pretrain
    from lesson7ext.data import restoration_dls
    from lesson7ext.train import restoration_learner, fit_budget
    from lesson7ext.restore import restore
    from lesson7ext.protocols import photo_grid
    s = dict(dict(precision='bf16', channels_last=True, compile=False, workers=0, bs=16), **SETTINGS[setting])
    torch.manual_seed(0)
    train, valid = pretrain.train_files(data, work, hold_out=True)
    dls = restoration_dls(train, 'photo', size=128, bs=s['bs'], valid_files=valid[:8], epoch_size=100_000, align=16, num_workers=s['workers'])
    model = build(arch)
    c = cost(build(arch)) if setting == 'bf16_cl' or arch != 'today' else {}
    learn = restoration_learner(dls, model.train(), loss_func=torch.nn.functional.mse_loss, precision=s['precision'], channels_last=s['channels_last'], guard=False)
    if s['compile']: learn.model = torch.compile(learn.model)
    sp = Speed()
    t0 = time.time()
    fit_budget(learn, minutes, lr=1.5e-3, cbs=[sp])
    m = getattr(learn.model, '_orig_mod', learn.model).float().eval().to(memory_format=torch.contiguous_format)
    evals = pretrain.eval_files(data, work)[:4]
    g = photo_grid(lambda im: restore(im, m, strength=1., consistent=False), evals, ROWS)
    json.dump(dict(arch=arch, setting=setting, samples_s=sp.rate(), steps=learn.train_iter, minutes=(time.time() - t0) / 60,
                   grid={r: dict(gain=v['gain'], worst=v['worst'], input=v['input'], output=v['output']) for r, v in g.items()}, **c), open(out, 'w'))

def table(kind, res):
    cols = ['params', 'GFLOP/MP', 's/MP (bf16, cl)'] if kind == 'archs' else []
    print('| run | ' + ' | '.join(cols + ['samples/s', 'steps']) + ' | ' + ' | '.join(f'{r} gain (worst)' if r != 'clean' else 'clean dB' for r in ROWS) + ' |')
    print('|---|' + '---|' * (len(cols) + 2 + len(ROWS)))
    for r in res:
        if 'error' in r:
            print(f"| {r['arch'] if kind == 'archs' else r['setting']} | failed: {r['error']} |"); continue
        c = [f"{r['params'] / 1e6:.2f}M", f"{r['gflop_mp']:.0f}", f"{r['s_mp']:.2f}"] if kind == 'archs' else []
        g = [f"{r['grid'][k]['output']:.1f}" if k == 'clean' else f"{r['grid'][k]['gain']:+.2f} ({r['grid'][k]['worst']:+.2f})" for k in ROWS]
        print(f"| {r['arch'] if kind == 'archs' else r['setting']} | " + ' | '.join(c + [f"{r['samples_s']:.1f}", str(r['steps'])] + g) + ' |')

def main():
    p = argparse.ArgumentParser()
    p.add_argument('kind', nargs='?', choices=['settings', 'archs'])
    p.add_argument('--minutes', type=float, default=None, help='per run (default: 2.5 for settings, 8 for archs)')
    p.add_argument('--runs', default=None, help='comma-separated names (default: all of the kind)')
    p.add_argument('--setting', default='bf16_cl', help='the training setting of the archs runs')
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--work', default=str(Path.home()/'.cache'/'lesson7ext'/'pretrain'))
    p.add_argument('--out', default=str(root/'bench'/'results'/'photo_training'), help="each run's numbers, kept (a rerun does the missing ones)")
    p.add_argument('--one', nargs=4, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one: return one(a.one[0], a.one[1], float(a.one[2]), a.one[3], a.data, a.work)
    names = a.runs.split(',') if a.runs else list(SETTINGS if a.kind == 'settings' else ARCHS)
    minutes = a.minutes or (2.5 if a.kind == 'settings' else 8.)
    d, res = Path(a.out)/a.kind, []
    d.mkdir(parents=True, exist_ok=True)
    for n in names:
        arch, setting = ('today', n) if a.kind == 'settings' else (n, a.setting)
        f = d/f'{arch}@{setting}@{minutes:g}.json'  # a finished run is kept: a rerun does only the missing ones
        if not f.exists():
            r = subprocess.run([sys.executable, __file__, '--one', arch, setting, str(minutes), str(f), '--data', a.data, '--work', a.work],
                               capture_output=True, text=True)
            if r.returncode: f.write_text(json.dumps(dict(arch=arch, setting=setting, error=(r.stderr.strip().splitlines() or ['?'])[-1][:300])))
        res.append(json.load(open(f)))
        print(f"done {n}: " + (f"{res[-1]['samples_s']:.1f} samples/s" if 'error' not in res[-1] else f"failed: {res[-1]['error']}"), flush=True)
    print(f"\n## {a.kind}: {minutes:g} min each from scratch, {torch.get_num_threads()} threads; gains in dB on 4 held-out Sun80 photos\n")
    table(a.kind, res)

if __name__ == '__main__': main()
