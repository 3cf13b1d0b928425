"""Benchmark: what a minute of CPU training buys, and where the minutes go.

    python bench/restore.py [--parts budget,data,step,curve] [--curve 2,4,8,16,32] [--data ../shared/data] [--out bench/results]
    python bench/restore.py --parts compare [--minutes 8]     # the lesson's recipe vs ours, and tiled vs whole restore

Parts (each measurement runs in its own process; timings on a 2-core CPU move 20-50 % between runs):
- budget: the share of a time budget training really uses, for x4 super-resolution on CBSD68 (the case that stopped
  at 1.3 of 6 minutes): the old plan-from-a-3-step-probe (`fit_one_cycle` sized from the probe, hard stop) against
  `fit_budget` (the schedule follows the clock).
- data: samples/s of the data pipeline alone (lesson7 crappifier, 128-px crops, batch 16) on 16 CBSD68 photos and on
  12-MP JPEG copies of them: whole-photo crappify then crop (before) against crop-first with the photo cache
  (after); the flat-cost ratio is 12-MP / originals (target >= 0.8).
- step: samples/s of the default learner's training step with and without channels-last, `torch.compile`, one or
  two intra-op threads, DataLoader workers, and crop/batch sizes at equal pixels per step.
- curve: CSet5 gain over bicubic-of-crappy (lesson7 crappifier, fixed seeds) after each budget of training from
  scratch on CBSD68 + Sun80 (Sun80 downscaled to a 480-px short side), and x4 super-resolution Y-PSNR on Set5, with
  the samples/s of each run. Each finished point is kept in `--out/curve.json`: a rerun does only the missing ones.
  Writes `--out/curve.png` and, from the 8-minute model, `--out/cset5_8min.png`.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch
from PIL import Image

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from lesson7ext.images import open_image
from lesson7ext.degrade import resize
from lesson7ext.folder import crappify_folder
from lesson7ext.protocols import heldout_pairs, heldout_scores
from lesson7ext.losses import FeatureLoss
from lesson7ext.restore import restore
from lesson7ext.train import restoration_learner, fit_budget
from lesson7ext.zoo import export_restorer, load_restorer, LessonUnetConfig
from lesson7ext.data import restoration_dls

BORDER = 4

def peak_rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def eval_pairs(data, task='lesson7'):
    "CSet5 held-out pairs `(name, input, original, mask)`: `protocols.heldout_pairs` (lesson7 crappifier or x4 bicubic, fixed seeds)."
    return heldout_pairs(Path(data)/'CSet5', task)

def score(model, pairs, tile=512, up=1):
    "Mean Y-PSNR and SSIM (border 4) of `model` on `pairs` by `protocols.heldout_scores`; `up`: upsample the inputs bicubically first."
    bigger = lambda im: im if up == 1 else im.resize((im.width * up, im.height * up), Image.Resampling.BICUBIC)
    m = heldout_scores(lambda im: restore(bigger(im), model, tile=tile, scale=1), pairs)['model']
    return m['psnr'], m['ssim']

# --- (a) the lesson's recipe, as a fastai 2.8 user types it (course notebook lesson7-superres, ported) ----------
def lesson_recipe(data, minutes, work):
    from fastai.vision.all import (DataBlock, ImageBlock, get_image_files, RandomSplitter, Resize, aug_transforms,
                                   Normalize, imagenet_stats, unet_learner, resnet34, NormType, LossMetrics)
    path_hr, path_lr = Path(data)/'CBSD68', Path(work)/'lesson_lr'
    crappify_folder(path_hr, path_lr, 'lesson7', n_workers=2, progress=False)  # the lesson's crappifier, saved
    bs, size = 8, 128
    dblock = DataBlock(blocks=(ImageBlock, ImageBlock), get_items=get_image_files,
                       get_y=lambda x: path_hr/f'{x.stem}.png', splitter=RandomSplitter(0.1, seed=42),
                       item_tfms=Resize(size), batch_tfms=[*aug_transforms(max_zoom=2.), Normalize.from_stats(*imagenet_stats)])
    dls = dblock.dataloaders(path_lr, bs=bs, num_workers=0)
    feat_loss = FeatureLoss()  # VGG16-BN ReLUs before max-pools 3-5, weights [5,15,2]; ImageNet weights if available
    learn = unet_learner(dls, resnet34, loss_func=feat_loss, metrics=LossMetrics(feat_loss.metric_names), blur=True,
                         norm_type=NormType.Weight, self_attention=True, y_range=(-3., 3.), wd=1e-3, pretrained=False, n_out=3)
    learn.model.cfg = LessonUnetConfig(img_size=(size, size))  # exported like the package's lesson U-Nets
    return train_counted(learn, minutes, lr=1e-3, pct_start=0.9)  # the lesson: fit_one_cycle(n, 1e-3, pct_start=0.9)

def train_counted(learn, minutes, **kwargs):
    "Train within `minutes` (one cycle sized to fit); returns the learner and training samples per second."
    from fastai.callback.core import Callback
    from fastai.torch_core import find_bs
    seen = [0]
    class Count(Callback):
        def after_batch(self):
            if self.training: seen[0] += find_bs(self.yb)
    learn.add_cb(Count())
    t0 = time.time()
    with learn.no_bar(): fit_budget(learn, minutes, **kwargs)
    return learn, seen[0] / (time.time() - t0)

def ours(data, minutes, work):
    dls = restoration_dls(Path(data)/'CBSD68', 'lesson7', size=128, bs=16, valid_pct=0.1, epoch_size=512)
    learn = restoration_learner(dls)
    return train_counted(learn, minutes)

def part_train(which, data, minutes, out):
    torch.manual_seed(0)
    work = tempfile.mkdtemp()
    learn, sps = (lesson_recipe if which == 'lesson' else ours)(data, minutes, work)
    learn.model.eval()
    p, s = score(learn.model, eval_pairs(data))
    json.dump(dict(samples_per_s=sps, psnr=p, ssim=s, peak_rss_mb=peak_rss_mb()), open(out, 'w'))
    export_restorer(learn, Path(out).with_suffix('.safetensors'))

def part_bicubic(data, out):
    "The baselines: bicubic of the crappy input on CSet5, and x4 bicubic on Set5 (`heldout_scores`' baseline)."
    b = heldout_scores(lambda im: im, eval_pairs(data))['baseline']
    x4 = heldout_scores(lambda im: im.resize((im.width * 4, im.height * 4), Image.Resampling.BICUBIC), eval_pairs(data, 'x4'))['baseline']
    json.dump(dict(psnr=b['psnr'], ssim=b['ssim'], sr4=x4['psnr']), open(out, 'w'))

def part_big(model_path, tile, out, data):
    model = load_restorer(model_path)
    src = open_image(sorted((Path(data)/'CBSD68').glob('*.png'))[0]).resize((2048, 2048), Image.Resampling.BICUBIC)
    t0 = time.time()
    r = restore(src, model, tile=tile)
    dt = time.time() - t0
    r.save(Path(out).with_suffix('.png'))
    json.dump(dict(seconds=dt, peak_rss_mb=peak_rss_mb()), open(out, 'w'))



# --- budget: the share of a time budget training uses ------------------------------------------------------------
def old_fit_budget(learn, minutes, lr=3e-3, probe=3):
    "The planner lesson7ext had before (the baseline): one cycle sized from a 3-step probe, stopped hard at the budget."
    from fastai.callback.core import Callback, CancelFitException
    from lesson7ext.precision import autocast_for
    class HardStop(Callback):
        order = 90
        def __init__(self, s): self.s = s
        def before_fit(self): self.t0 = time.time()
        def after_batch(self):
            if self.training and self.epoch >= 1 and time.time() - self.t0 > self.s: raise CancelFitException()
    t0, it = time.time(), iter(learn.dls.train)
    learn.model.to(learn.dls.device).train()
    opt = torch.optim.SGD(learn.model.parameters(), lr=0.)
    for i in range(probe + 1):
        if i == 1: t1 = time.time()
        xb, yb = (t.as_subclass(torch.Tensor) for t in next(it))
        with autocast_for(learn): loss = learn.loss_func(learn.model(xb).float(), yb)
        opt.zero_grad(); loss.backward()
    step = (time.time() - t1) / probe
    per_epoch = step * len(learn.dls.train) + 1.5 * step * len(learn.dls.valid) / 2
    n_epoch = max(1, int((minutes * 60 - (time.time() - t0)) / per_epoch))
    learn.fit_one_cycle(n_epoch, lr, cbs=[HardStop(minutes * 60 - (time.time() - t0))])

def part_budget(which, data, minutes, out):
    torch.manual_seed(0)
    dls = restoration_dls(Path(data)/'CBSD68', None, scale=4, size=128, bs=16, epoch_size=800)
    learn = restoration_learner(dls, channels_last=which == 'after')
    t0 = time.time()
    with learn.no_bar(): (old_fit_budget if which == 'before' else fit_budget)(learn, minutes)
    lrs = learn.recorder.lrs
    json.dump(dict(used=(time.time() - t0) / 60, epochs=len(learn.recorder.values), lr_end_ratio=float(lrs[-1] / max(lrs))), open(out, 'w'))

# --- data: samples/s of the pipeline alone -------------------------------------------------------------------------
def big_copies(data, work, n=16, mp=12e6):
    "JPEG copies (quality 92) of the first `n` CBSD68 photos upscaled to `mp` pixels, and PNG copies of the originals."
    small, big = Path(work)/'small', Path(work)/'big'
    for d in (small, big): d.mkdir(parents=True, exist_ok=True)
    for f in sorted((Path(data)/'CBSD68').glob('*.png'))[:n]:
        if (big/f'{f.stem}.jpg').exists(): continue
        im = open_image(f); im.save(small/f.name)
        s = (mp / (im.width * im.height)) ** 0.5
        im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.BICUBIC).save(big/f'{f.stem}.jpg', quality=92)
    return small, big

def whole_photo_dls(folder, size=128, bs=16, epoch_size=2000):
    "The pipeline before crop-first: decode, crappify the whole photo, resize back, then crop (the baseline)."
    from fastai.vision.all import DataBlock, ImageBlock, RandomCrop, FlipItem, Normalize, imagenet_stats, get_image_files
    from lesson7ext.data import CrappifyItem
    files = sorted(get_image_files(folder)); files = files * (epoch_size // len(files) + 1)
    db = DataBlock(blocks=(ImageBlock, ImageBlock), get_items=lambda _: files, splitter=lambda o: (list(range(len(o))), []),
                   item_tfms=[CrappifyItem('lesson7'), RandomCrop(size), FlipItem(0.5)], batch_tfms=[Normalize.from_stats(*imagenet_stats)])
    return db.dataloaders(None, bs=bs, num_workers=0)

def part_data(which, folder, out):
    dls = whole_photo_dls(folder) if which == 'before' else restoration_dls(folder, 'lesson7', size=128, bs=16, valid_pct=0.1, epoch_size=2000)
    it, t0 = iter(dls.train), time.time()
    warm, n = (1, 4) if which == 'before' else (8, 40)  # after: the first batches decode every photo once (into the cache)
    for _ in range(warm): next(it)
    t1 = time.time()
    for _ in range(n): next(it)
    json.dump(dict(rate=16 * n / (time.time() - t1), warm_s=t1 - t0), open(out, 'w'))

# --- step: the training step's options ---------------------------------------------------------------------------
def part_step(variant, data, out):
    from fastai.callback.core import Callback, CancelFitException
    size, bs = dict(bs4_256=(256, 4), bs64_64=(64, 64)).get(variant, (128, 16))
    if variant == 'threads1': torch.set_num_threads(1)
    dls = restoration_dls(Path(data)/'CBSD68', 'lesson7', size=size, bs=bs, valid_pct=0.1, epoch_size=4000,
                          num_workers=1 if variant == 'workers1' else 0)
    learn = restoration_learner(dls, channels_last=variant != 'plain')
    if variant == 'compile': learn.model = torch.compile(learn.model)
    warm, n = 3, 15
    class Timer(Callback):
        order = 99
        def before_fit(self): self.k, self.t0 = 0, time.time()
        def after_batch(self):
            self.k += 1
            if self.k == warm: self.tw, self.t0 = time.time() - self.t0, time.time()
            if self.k == warm + n: self.dt = time.time() - self.t0; raise CancelFitException()
    t = Timer()
    try:
        with learn.no_bar(), learn.no_logging(): learn.fit(100, 1e-3, cbs=t)
        res = dict(rate=bs * n / t.dt, pix_rate=bs * n / t.dt * (size / 128) ** 2, warm_s=t.tw)
    except Exception as e: res = dict(error=f'{type(e).__name__}: {str(e).splitlines()[0][:90]}')
    json.dump(res, open(out, 'w'))

# --- curve: what a minute buys -------------------------------------------------------------------------------------
def train_folder(data, work):
    "CBSD68 and Sun80 (downscaled to a 480-px short side, so its JPEG blocks vanish) as PNGs in one folder."
    d = Path(work)/'train'
    if d.exists() and len(list(d.glob('*.png'))) >= 148: return d
    d.mkdir(parents=True, exist_ok=True)
    for f in sorted((Path(data)/'CBSD68').glob('*.png')): open_image(f).save(d/f'cbsd_{f.stem}.png')
    for f in sorted((Path(data)/'Sun80').glob('*')):
        im = open_image(f)
        if min(im.size) > 480: im = resize(im, short_side=480, method='lanczos')
        im.save(d/f'sun_{f.stem}.png')
    return d

def part_curve(task, minutes, data, work, out):
    torch.manual_seed(0)
    folder = train_folder(data, work)
    dls = restoration_dls(folder, 'lesson7' if task == 'restore' else None, scale=1 if task == 'restore' else 4,
                          size=128, bs=16, valid_pct=0.05, epoch_size=800)
    learn, sps = train_counted(restoration_learner(dls), minutes)
    learn.model.eval()
    p, s = score(learn.model, eval_pairs(data, 'lesson7' if task == 'restore' else 'x4'), up=1 if task == 'restore' else 4)
    export_restorer(learn, Path(out).with_suffix('.safetensors'))
    json.dump(dict(samples_per_s=sps, psnr=p, ssim=s), open(out, 'w'))

def show_compare(a, work):
    "The lesson's recipe against ours for the same budget, then a 2048x2048 restore, tiled vs whole."
    run_part('--part', 'bicubic', '--data', a.data, '--out', work/'bicubic.json')
    res = {'bicubic': json.load(open(work/'bicubic.json'))}
    for w in a.only.split(','):
        run_part('--part', w, '--data', a.data, '--minutes', a.minutes, '--out', work/f'{w}.json')
        res[w] = json.load(open(work/f'{w}.json'))
    model = work/('ours.safetensors' if 'ours' in res else f'{a.only.split(",")[0]}.safetensors')
    for t in (512, 0):
        run_part('--part', 'big', '--model', model, '--tile', t, '--data', a.data, '--out', work/f'big{t}.json')
        res[f'big{t}'] = json.load(open(work/f'big{t}.json'))
    ta, wh = (np.asarray(Image.open(work/f'big{t}.png'), dtype=np.int16) for t in (512, 0))
    diff = int(np.abs(ta - wh)[16:-16, 16:-16].max())
    b = res['bicubic']
    print(f"\ntorch {torch.__version__}, {os.cpu_count()} cores; CBSD68 train, CSet5 test (Y channel, border {BORDER}); "
          f"{a.minutes:g} min of training each")
    print(f"| {'':<44} | {'samples/s':>9} | {'Y-PSNR dB':>9} | {'SSIM':>6} | {'peak RSS MB':>11} |")
    print(f"|{'-'*46}|{'-'*11}|{'-'*11}|{'-'*8}|{'-'*13}|")
    print(f"| {'bicubic of crappy input':<44} | {'-':>9} | {b['psnr']:>9.2f} | {b['ssim']:>6.4f} | {'-':>11} |")
    names = dict(lesson='(a) lesson recipe: unet_learner(resnet34)', ours='(b) lesson7ext restoration_learner')
    for w in a.only.split(','):
        r = res[w]
        print(f"| {names[w]:<44} | {r['samples_per_s']:>9.1f} | {r['psnr']:>9.2f} | {r['ssim']:>6.4f} | {r['peak_rss_mb']:>11.0f} |")
    if 'lesson' in res and 'ours' in res:
        print(f"\n(b) vs (a): {res['ours']['samples_per_s'] / res['lesson']['samples_per_s']:.1f}x samples/s; "
              f"(b) vs bicubic: {res['ours']['psnr'] - b['psnr']:+.2f} dB")
    print(f"\nx4 super-resolution, bicubic, CSet5 Y-PSNR: {b['sr4']:.2f} dB (published: 28.42)")
    print(f"2048x2048 restore: tiled (512, overlap 96) {res['big512']['seconds']:.1f} s, peak RSS {res['big512']['peak_rss_mb']:.0f} MB; "
          f"whole image {res['big0']['seconds']:.1f} s, peak RSS {res['big0']['peak_rss_mb']:.0f} MB; "
          f"largest difference away from the border: {diff}/255")

def run_part(*args):
    subprocess.run([sys.executable, __file__, *map(str, args)], check=True)

def part(name, out, *args):
    "Run one measurement in its own process; its JSON result."
    run_part('--part', name, '--out', out, *args)
    return json.load(open(out))

def show_budget(a, work):
    res = {w: part('budget', work/f'budget_{w}.json', '--which', w, '--data', a.data, '--minutes', a.budget_minutes) for w in ('before', 'after')}
    print(f"\n## Budget used (x4 super-resolution on CBSD68, 128-px crops, batch 16, budget {a.budget_minutes:g} min)")
    print("| schedule | minutes used | share | epochs validated | final lr / peak lr |\n|---|---|---|---|---|")
    for w, n in (('before', 'plan from a 3-step probe (before)'), ('after', '`fit_budget` by the clock (after)')):
        r = res[w]; print(f"| {n} | {r['used']:.2f} | {100 * r['used'] / a.budget_minutes:.0f} % | {r['epochs']} | {r['lr_end_ratio']:.1e} |")

def show_data(a, work):
    small, big = big_copies(a.data, work)
    res = {(w, k): part('data', work/f'data_{w}_{k}.json', '--which', w, '--folder', f) for w in ('before', 'after') for k, f in (('orig', small), ('12mp', big))}
    print("\n## Data pipeline alone (lesson7 crappifier, 128-px crops, batch 16, 16 CBSD68 photos; samples/s)")
    print("| pipeline | originals (0.15 MP PNG) | 12-MP JPEG copies | flat-cost ratio (12 MP / originals) | first batches (decode, s) 12 MP |\n|---|---|---|---|---|")
    for w, n in (('before', 'whole photo, then crop (before)'), ('after', 'crop first + photo cache (after)')):
        o, b = res[(w, 'orig')], res[(w, '12mp')]
        print(f"| {n} | {o['rate']:.1f} | {b['rate']:.1f} | {b['rate'] / o['rate']:.2f} | {b['warm_s']:.1f} |")

def show_step(a, work):
    names = dict(plain='default learner, contiguous (before)', channels_last='channels-last (new default)', threads1='channels-last, 1 intra-op thread',
                 workers1='channels-last, 1 DataLoader worker', compile='channels-last + torch.compile',
                 bs4_256='channels-last, 256-px crops, batch 4', bs64_64='channels-last, 64-px crops, batch 64')
    print("\n## Training step (restoration_learner defaults, lesson7 data on CBSD68, 15 steps after 3; samples/s)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    print("| variant | samples/s | in 128-px samples/s | first 3 steps (s) |\n|---|---|---|---|")
    for v, n in names.items():
        r = part('step', work/f'step_{v}.json', '--variant', v, '--data', a.data)
        if 'error' in r: print(f"| {n} | fails: {r['error']} | - | - |")
        else: print(f"| {n} | {r['rate']:.1f} | {r['pix_rate']:.1f} | {r['warm_s']:.1f} |")

def show_curve(a, work):
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    store = out/'curve.json'
    res = json.load(open(store)) if store.exists() else {}
    if 'bicubic' not in res: res['bicubic'] = part('bicubic', work/'bicubic.json', '--data', a.data)
    for m in [float(x) for x in a.curve.split(',')]:
        for task in ('restore', 'x4'):
            k = f'{task}:{m:g}'
            if k in res: continue
            res[k] = part('curve', out/f'curve_{task}_{m:g}.json', '--task', task, '--minutes', m, '--data', a.data, '--work', out)
            json.dump(res, open(store.with_suffix('.tmp'), 'w'), indent=1); os.replace(store.with_suffix('.tmp'), store)
    b = res['bicubic']
    print("\n## What a minute buys (from scratch on CBSD68 + Sun80; CSet5, Y channel, border 4)")
    print(f"bicubic of crappy: {b['psnr']:.2f} dB; x4 bicubic: {b['sr4']:.2f} dB (published 28.42); SRCNN x4: 30.48 dB")
    print("| minutes | lesson7 gain over bicubic dB | samples/s | x4 Y-PSNR dB | samples/s |\n|---|---|---|---|---|")
    ms = sorted({float(k.split(':')[1]) for k in res if ':' in k})
    for m in ms:
        r, x = res.get(f'restore:{m:g}'), res.get(f'x4:{m:g}')
        gain = f"{r['psnr'] - b['psnr']:+.2f}" if r else '-'
        rs, xp, xs = (f"{r['samples_per_s']:.1f}" if r else '-'), (f"{x['psnr']:.2f}" if x else '-'), (f"{x['samples_per_s']:.1f}" if x else '-')
        print(f"| {m:g} | {gain} | {rs} | {xp} | {xs} |")
    plot_curve(res, out/'curve.png')
    if (out/'curve_restore_8.safetensors').exists(): cset5_figure(out/'curve_restore_8.safetensors', a.data, out/'cset5_8min.png')

def cset5_figure(model_path, data, path):
    "Crappy | bicubic | restored | original for three CSet5 photos (lesson7 crappifier, the curve's fixed seeds)."
    from lesson7ext.data import image_grid
    model, rows = load_restorer(model_path), []
    for name, up, hr, _ in [p for p in eval_pairs(data) if p[0] in ('baby', 'butterfly', 'head')]:
        rows.append([up, restore(up, model), hr])
    image_grid(rows, ['crappy (lesson7), bicubic', 'restored (8 min, CPU)', 'original'], height=256).save(path)

def plot_curve(res, path):
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    b = res['bicubic']
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for a_, task, base, ref, title in ((ax[0], 'restore', b['psnr'], None, 'lesson7 crappifier: CSet5 gain over bicubic'),
                                       (ax[1], 'x4', 0, 30.48, 'x4 super-resolution: Set5 Y-PSNR')):
        pts = sorted((float(k.split(':')[1]), v['psnr'] - base) for k, v in res.items() if k.startswith(task + ':'))
        if pts: a_.plot(*zip(*pts), 'o-', label='lesson7ext, from scratch, CPU')
        if ref: a_.axhline(ref, ls='--', c='gray', label='SRCNN (published)'); a_.axhline(b['sr4'], ls=':', c='gray', label='bicubic')
        a_.set_xscale('log', base=2); a_.set_xlabel('training minutes (2-core CPU)'); a_.set_ylabel('dB'); a_.set_title(title, fontsize=10); a_.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--parts', default='budget,data,step,curve', help='budget, data, step, curve, compare')
    ap.add_argument('--curve', default='2,4,8,16,32', help='training budgets of the curve, minutes')
    ap.add_argument('--budget-minutes', type=float, default=2.)
    ap.add_argument('--minutes', type=float, default=8., help='budget of each training in compare')
    ap.add_argument('--data', default=str(root.parent/'shared'/'data'))
    ap.add_argument('--out', default=str(root/'bench'/'results'), help='where the curve (curve.json, curve.png, cset5_8min.png) is kept')
    ap.add_argument('--only', default='lesson,ours', help='which trainings compare runs')
    for h in ('--part', '--which', '--folder', '--task', '--variant', '--work', '--model'): ap.add_argument(h, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--tile', type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.part is not None:
        {'bicubic': lambda: part_bicubic(a.data, a.out), 'big': lambda: part_big(a.model, a.tile or None, a.out, a.data),
         'lesson': lambda: part_train('lesson', a.data, a.minutes, a.out), 'ours': lambda: part_train('ours', a.data, a.minutes, a.out),
         'budget': lambda: part_budget(a.which, a.data, a.minutes, a.out), 'data': lambda: part_data(a.which, a.folder, a.out),
         'step': lambda: part_step(a.variant, a.data, a.out), 'curve': lambda: part_curve(a.task, a.minutes, a.data, a.work, a.out)}[a.part]()
        sys.exit()
    work = Path(tempfile.mkdtemp(prefix='bench_restore_'))
    print(f"torch {torch.__version__}, {os.cpu_count()} cores; one run; each measurement in its own process")
    for p in a.parts.split(','): {'budget': show_budget, 'data': show_data, 'step': show_step, 'curve': show_curve, 'compare': show_compare}[p](a, work)
