"""Benchmark: Lesson 7's restoration recipe vs lesson7ext's, same data, same wall-clock budget.

    python bench/restore.py [--minutes 8] [--data ../shared/data]

One run prints a table with, for (a) the lesson's recipe as a user types it in fastai 2.8 (paired crappified
folders, `unet_learner(resnet34)`, feature loss, written here) and (b) `restoration_learner` with its defaults,
each trained on CBSD68 crappified with the lesson's crappifier for the same budget: training samples/s, Y-PSNR and
SSIM on CSet5 (inputs crappified with a fixed seed, then bicubic-upsampled: the "bicubic" row), and peak memory.
Then standard x4 super-resolution bicubic on CSet5 (a check of the metric: published 28.42 dB), and a 2048x2048
restore, tiled vs whole image: time, peak RSS, and the largest difference between them away from the border.
Each part runs in its own process, so peak memory is its own.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch
from PIL import Image

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from lesson7ext.crappify import lesson7, file_seed, crappify_folder, load_image, resize
from lesson7ext.losses import psnr, ssim, FeatureLoss
from lesson7ext.restore import restore, restoration_learner, fit_budget, export_restorer, load_restorer
from lesson7ext.data import restoration_dls

BORDER = 4

def peak_rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def eval_pairs(data):
    "CSet5 (crappy-and-bicubic-upsampled, good) pairs, crappified with the lesson's preset and a fixed seed."
    c, out = lesson7(), []
    for p in sorted((Path(data)/'CSet5').glob('*.png')):
        hr = load_image(p)
        lr = c(hr, file_seed(0, p.name))
        out.append((p.stem, lr, resize(lr, to=hr.size, method='bicubic'), hr))
    return out

def score(model, pairs, tile=512):
    ps, ss = [], []
    for _, lr, up, hr in pairs:
        r = restore(up, model, tile=tile)
        ps.append(psnr(np.asarray(r), np.asarray(hr), BORDER)); ss.append(ssim(np.asarray(r), np.asarray(hr), BORDER))
    return float(np.mean(ps)), float(np.mean(ss))

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
    learn.unet_config = dict(arch='unet', encoder='resnet34', img_size=[size, size], blur=True, norm_type='Weight',
                             self_attention=True, y_range=[-3., 3.])
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
    fit_budget(learn, minutes, **kwargs)
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
    pairs = eval_pairs(data)
    p = np.mean([psnr(np.asarray(u), np.asarray(h), BORDER) for _, _, u, h in pairs])
    s = np.mean([ssim(np.asarray(u), np.asarray(h), BORDER) for _, _, u, h in pairs])
    sr = []
    for f in sorted((Path(data)/'CSet5').glob('*.png')):
        hr = load_image(f); w, h = hr.size; hr = hr.crop((0, 0, w - w % 4, h - h % 4))
        lr = hr.resize((hr.width // 4, hr.height // 4), Image.Resampling.BICUBIC)
        sr.append(psnr(np.asarray(lr.resize(hr.size, Image.Resampling.BICUBIC)), np.asarray(hr), 4))
    json.dump(dict(psnr=float(p), ssim=float(s), sr4=float(np.mean(sr))), open(out, 'w'))

def part_big(model_path, tile, out, data):
    model = load_restorer(model_path)
    src = load_image(sorted((Path(data)/'CBSD68').glob('*.png'))[0]).resize((2048, 2048), Image.Resampling.BICUBIC)
    t0 = time.time()
    r = restore(src, model, tile=tile)
    dt = time.time() - t0
    r.save(Path(out).with_suffix('.png'))
    json.dump(dict(seconds=dt, peak_rss_mb=peak_rss_mb()), open(out, 'w'))

def run_part(*args):
    subprocess.run([sys.executable, __file__, *map(str, args)], check=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--minutes', type=float, default=8.)
    ap.add_argument('--data', default=str(root.parent/'shared'/'data'))
    ap.add_argument('--only', default='lesson,ours', help='which trainings to run')
    ap.add_argument('--part', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--out', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--tile', type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument('--model', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.part == 'bicubic': part_bicubic(a.data, a.out); sys.exit()
    if a.part in ('lesson', 'ours'): part_train(a.part, a.data, a.minutes, a.out); sys.exit()
    if a.part == 'big': part_big(a.model, a.tile or None, a.out, a.data); sys.exit()
    work = Path(tempfile.mkdtemp(prefix='bench_restore_'))
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
