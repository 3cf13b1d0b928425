"""Benchmark: crappify a folder as Lesson 7 does vs `crappify_folder`, and the on-the-fly batch crappifier.

    python bench/crappify.py [--n 500] [--workers 2] [--data ../shared/data/CBSD68]

Prints img/s for, in the same run and with the same workers:
- the lesson's own crappifier class under fastcore `parallel` (the baseline, written here as the course has it),
- `crappify_folder` with the `lesson7` preset,
on the CBSD68 photos repeated to `n` files, as PNG and as JPEG copies (quality 75 and 95), and `n`/5 large JPEGs
(the photos upscaled 4x: where decoding at reduced scale matters most);
and `lesson7()` applied to float batches of 32 x 128 x 128 (on-the-fly training data).
"""
import argparse, os, random, shutil, tempfile, time
from pathlib import Path
import torch
import PIL
from PIL import Image, ImageDraw
from fastcore.parallel import parallel

from lesson7ext.crappify import lesson7

from lesson7ext.folder import crappify_folder

# --- the baseline: the course notebook's crappifier (fastai v1 `crappify.py`), unchanged but for fastcore's
# `parallel`, which calls `f(item)` where fastai v1 called `f(item, index)`.
def resize_to(img, targ_sz, use_min=False):
    w, h = img.size
    min_sz = (min if use_min else max)(w, h)
    ratio = targ_sz / min_sz
    return int(w * ratio), int(h * ratio)

class crappifier():
    def __init__(self, path_lr, path_hr):
        self.path_lr = path_lr
        self.path_hr = path_hr

    def __call__(self, fn, i=None):
        dest = self.path_lr/fn.relative_to(self.path_hr)
        dest.parent.mkdir(parents=True, exist_ok=True)
        img = PIL.Image.open(fn)
        targ_sz = resize_to(img, 96, use_min=True)
        img = img.resize(targ_sz, resample=PIL.Image.BILINEAR).convert('RGB')
        w, h = img.size
        q = random.randint(10, 70)
        ImageDraw.Draw(img).text((random.randint(0, w // 2), random.randint(0, h // 2)), str(q), fill=(255, 255, 255))
        img.save(dest, quality=q)

def make_sources(data, n, work, kind):
    "`n` files cycling through the photos of `data`: PNG as they are, JPEG at a quality, or 4x upscaled large JPEGs."
    photos = sorted(Path(data).glob('*.png'))
    if not photos: raise SystemExit(f'{data}: no PNG photos found')
    out = work/kind; out.mkdir(parents=True)
    ext = '.png' if kind == 'png' else '.jpg'
    for k in range(n):
        p, dst = photos[k % len(photos)], out/f'{k // len(photos)}_{photos[k % len(photos)].stem}{ext}'
        if k >= len(photos): shutil.copy(out/f'0_{p.stem}{ext}', dst); continue
        img = Image.open(p).convert('RGB')
        if kind == 'png': shutil.copy(p, dst)
        elif kind == 'jpg75': img.save(dst, quality=75)
        elif kind == 'jpg95': img.save(dst, quality=95)
        else: img.resize((img.width * 4, img.height * 4), Image.Resampling.BICUBIC).save(dst, quality=90)
    return out

def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t

def bench_folder(src, work, workers, reps):
    items = sorted(src.iterdir())
    base, ours = [], []
    for r in range(reps):
        lr = work/f'base_{src.name}_{r}'
        base.append(timed(lambda: parallel(crappifier(lr, src), items, n_workers=workers)))
        out = work/f'ours_{src.name}_{r}'
        ours.append(timed(lambda: crappify_folder(src, out, 'lesson7', n_workers=workers, seed=r, progress=False)))
        assert len(list(out.rglob('*.jpg'))) == len(items)
    return len(items) / min(base), len(items) / min(ours)

def bench_batch(bs=32, sz=128, n=30):
    c = lesson7(seed=0)
    x = torch.rand(bs, 3, sz, sz)
    for _ in range(3): c(x)
    return bs * n / min(timed(lambda: [c(x) for _ in range(n)]) for _ in range(3))  # best of 3 rounds

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=500, help='number of source files')
    ap.add_argument('--workers', type=int, default=2, help='worker processes for both')
    ap.add_argument('--reps', type=int, default=3, help='repetitions (best is kept)')
    ap.add_argument('--data', default=str(Path(__file__).resolve().parents[1].parent/'shared'/'data'/'CBSD68'))
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix='bench_crappify_'))
    try:
        rows = []
        kinds = [('png', a.n, 'PNG'), ('jpg75', a.n, 'JPEG q75 (Pillow default)'), ('jpg95', a.n, 'JPEG q95'),
                 ('jpgbig', a.n // 5, 'JPEG q90, 4x upscaled (1924x1284)')]
        for kind, n, label in kinds:
            src = make_sources(a.data, n, work, kind)
            b, o = bench_folder(src, work, a.workers, a.reps)
            rows.append((f'folder: {n} {label}', b, o))
        rows.append(('on the fly, batch 32 x 128 px', None, bench_batch()))
        print(f"\ntorch {torch.__version__}, Pillow {PIL.__version__}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}")
        print(f"| {'task':<50} | {'lesson (img/s)':>14} | {'lesson7ext (img/s)':>18} | {'speed-up':>8} |")
        print(f"|{'-'*52}|{'-'*16}|{'-'*20}|{'-'*10}|")
        for t, b, o in rows:
            print(f"| {t:<50} | {(f'{b:.0f}' if b else '-'):>14} | {o:>18.0f} | {(f'{o/b:.2f}x' if b else '-'):>8} |")
    finally: shutil.rmtree(work, ignore_errors=True)
