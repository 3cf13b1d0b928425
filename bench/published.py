"""Benchmark: the real published files in `../shared/data/published` give their published numbers through lesson7ext.

    python bench/published.py [--data ../shared/data] [--n 68]

On the DnCNN paper's protocol (Zhang et al., TIP 2017): clean/255 plus unclipped Gaussian noise of sigma 25,
`np.random.seed(0)` before each image, the output clipped and rounded to 8 bits, PSNR over the whole image. For each file:
spandrel's own fp32 call (the reference), `restore_batch` through lesson7ext in fp32, with `precision='auto'` (what the CLI
uses: fp32 for a published net unless bf16 was measured equal) and in bf16; then "as a user gives it": the noisy image
saved as an 8-bit PNG (so clipped) and restored by `restore_files`, the CLI's call, with no option.
`dncnn_25.pth` is scored on CBSD68 made grey (PIL's `L`), which gives spandrel's 29.233 on the paper's BSD68 grey set to the
third decimal (shared/data/published/README.md); `dncnn_color_blind.pth` on CBSD68 itself (paper: 31.23).
"""
import argparse, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
import numpy as np, torch
from PIL import Image

ROWS = [('dncnn_25.pth', 'L', 'BSD68 grey, sigma 25: 29.23 (DnCNN-S, TIP 2017 Table 2)'),
        ('dncnn_color_blind.pth', 'RGB', 'CBSD68, sigma 25: 31.23 (CDnCNN-B, TIP 2017 Table 4)')]

def psnr(a, b): return 10 * np.log10(255 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))

def to8(t): return np.round(t.clamp(0, 1).numpy() * 255).astype(np.uint8)

def score(fn, mode, photos, tmp):
    "Mean PSNR of each way of running `fn` over `photos`."
    from spandrel import ModelLoader
    from lesson7ext.zoo import load_restorer
    from lesson7ext.restore import restore_batch
    from lesson7ext.batch import restore_files
    ref, m = ModelLoader().load_from_file(str(fn)).eval(), load_restorer(fn)
    res = {k: [] for k in ('spandrel fp32', 'lesson7ext fp32', 'lesson7ext auto', 'lesson7ext bf16', 'as a user gives it (8-bit PNG, CLI)')}
    for p in photos:
        clean = np.asarray(Image.open(p).convert(mode), dtype=np.float64) / 255
        clean = clean[..., None] if clean.ndim == 2 else clean
        np.random.seed(0)
        noisy = clean + np.random.normal(0, 25 / 255, clean.shape)
        x = torch.from_numpy(noisy).permute(2, 0, 1).float()
        gt = np.round(clean * 255)
        with torch.no_grad(): o = ref(x[None])[0]
        res['spandrel fp32'].append(psnr(to8(o), gt.transpose(2, 0, 1)))
        rgb = x.expand(3, -1, -1) if mode == 'L' else x  # lesson7ext takes RGB; a grey net restores its luma
        for k, prec in (('lesson7ext fp32', 'fp32'), ('lesson7ext auto', 'auto'), ('lesson7ext bf16', 'bf16')):
            y = restore_batch(m, rgb.contiguous(), precision=prec)
            y = y[:1] if mode == 'L' else y
            res[k].append(psnr(to8(y), gt.transpose(2, 0, 1)))
        src = tmp/'in'/p.name
        src.parent.mkdir(exist_ok=True)
        Image.fromarray(to8(x.permute(1, 2, 0)).squeeze()).save(src)
        restore_files(m, [src], tmp/'out', quiet=True)
        out = np.asarray(Image.open(tmp/'out'/p.name).convert(mode))
        res['as a user gives it (8-bit PNG, CLI)'].append(psnr(out[..., None] if out.ndim == 2 else out, gt))
        src.unlink()
    return {k: float(np.mean(v)) for k, v in res.items()}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=str(root.parent/'shared'/'data'))
    ap.add_argument('--n', type=int, default=68, help='photos of CBSD68 to score (all 68: the published protocol)')
    a = ap.parse_args()
    data = Path(a.data)
    photos = sorted((data/'CBSD68').glob('*.png'))[:a.n]
    from lesson7ext.precision import bf16_fast
    print(f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}; native bf16: {bf16_fast(torch.device('cpu'))}; {len(photos)} photos")
    for fn, mode, pub in ROWS:
        t0 = time.time()
        with tempfile.TemporaryDirectory() as t: r = score(data/'published'/fn, mode, photos, Path(t))
        print(f"\n{fn} ({time.time() - t0:.0f} s); published: {pub}\n| run | PSNR (dB) | vs spandrel |\n|---|---|---|")
        for k, v in r.items(): print(f"| {k} | {v:.3f} | {v - r['spandrel fp32']:+.3f} |")

if __name__ == '__main__': main()
