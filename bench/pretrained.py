"""Benchmark: the models lesson7ext ships, against their targets (issue 10), in one run.

    python bench/pretrained.py [--data ../shared/data] [--demo] [--demo-minutes 10] [--out bench/results]

For each shipped model (`lesson7ext/weights/*.safetensors`), scored on CSet5 (never trained on) with the protocol of
`protocols.heldout_scores` (Y-PSNR and SSIM with a border of 4, fixed crappify seeds per file):
- `lesson7`: gain over bicubic-of-crappy, and the watermark residue (error inside the text's mask over the error
  around it; bicubic's beside it);
- `realistic`: gain over the crappy input resized to size, on `realistic`-crappified CSet5;
- `x4`: Set5 x4 Y-PSNR (published: bicubic 28.42, SRCNN 30.48, FSRCNN 30.72, VDSR 31.35);
- `colorize`: RGB PSNR against the gray input's, and colourfulness against the originals';
- all: the largest mean colour shift of a channel (8-bit units), seconds to restore a 1-MP photo on this machine, and
  the peak memory of that restore (each model in its own process).
`--demo` also runs `lesson7ext-demo` (its default: fine-tune the shipped model for `--demo-minutes`) and reports its
held-back gain. Each model's numbers are also in its card (`lesson7ext-restore --list-models`).
"""
import argparse, json, resource, subprocess, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))

TARGETS = dict(lesson7=('gain over bicubic-of-crappy', 3.0), realistic=('gain over the crappy input', 1.5),
               x4=('Set5 x4 Y-PSNR', 31.35), colorize=('RGB PSNR over the gray input', 0.0))

def part_model(name, data, out):
    "One model's held-out scores, 1-MP restore time and peak memory (own process: peak RSS is this model's)."
    import numpy as np, torch
    from PIL import Image, ImageFilter
    from lesson7ext.zoo import load_restorer
    from lesson7ext.restore import restore
    from lesson7ext.gan import colorize
    from lesson7ext.protocols import heldout_pairs, heldout_scores
    m = load_restorer(name)
    apply = (lambda im: colorize(im, m)) if name == 'colorize' else (lambda im: restore(im, m))
    sc = heldout_scores(apply, heldout_pairs(Path(data)/'CSet5', name))
    rng = np.random.default_rng(0)
    side = 1000 // (m.scale if name == 'x4' else 1)  # the output is 1 MP
    img = Image.fromarray((rng.random((side, side, 3)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.time(); apply(img); dt = time.time() - t0
    sc.update(seconds_1mp=dt, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_before_mb=rss0 / 1024,
              threads=torch.get_num_threads(), card=m.restorer_info.get('card'))
    json.dump(sc, open(out, 'w'))

def run_part(*args):
    subprocess.run([sys.executable, __file__, *map(str, args)], check=True)

def show_models(a, work):
    from lesson7ext.zoo import shipped_models, shipped_names
    have = shipped_models()
    rows = []
    print("\n## Shipped models on CSet5 (held out; Y-PSNR, border 4)\n")
    print("| model | measure | target | lesson7ext | baseline | met |")
    print("|---|---|---|---|---|---|")
    res = {}
    for n in shipped_names:
        if n not in have: print(f"| `{n}` | (not installed) | | | | no |"); continue
        run_part('--part', n, '--data', a.data, '--out', work/f'{n}.json')
        r = res[n] = json.load(open(work/f'{n}.json'))
        m, b = r['model'], r['baseline']
        if n == 'x4': rows = [('Set5 x4 Y-PSNR', '>= 31.35 dB (VDSR); < 30.72 a miss', f"{m['psnr']:.2f} dB", f"{b['psnr']:.2f} dB (bicubic)", m['psnr'] >= 31.35)]
        elif n == 'colorize':
            rows = [('RGB PSNR', '> the gray input\'s', f"{m['psnr_rgb']:.2f} dB", f"{b['psnr_rgb']:.2f} dB (gray)", m['psnr_rgb'] > b['psnr_rgb']),
                    ('colourfulness', f">= 0.5 x originals' ({r['original_colourfulness']:.1f})", f"{m['colourfulness']:.1f} ({m['colourfulness'] / r['original_colourfulness']:.2f}x)",
                     f"{b['colourfulness']:.1f} (gray)", m['colourfulness'] >= 0.5 * r['original_colourfulness'])]
        else:
            t = TARGETS[n][1]
            rows = [(TARGETS[n][0], f'>= +{t:.1f} dB', f"{r['gain_db']:+.2f} dB ({m['psnr']:.2f})", f"{b['psnr']:.2f} dB", r['gain_db'] >= t)]
            if n == 'lesson7': rows.append(('watermark residue', '<= 1.5', f"{m['residue']:.2f}", f"{b['residue']:.2f} (bicubic)", m['residue'] <= 1.5))
        rows.append(('colour shift (max channel)', '<= 1/255', f"{m['colour_shift']:.2f}/255", f"{b['colour_shift']:.2f}/255", m['colour_shift'] <= 1))
        for meas, tgt, v, base, ok in rows: print(f"| `{n}` | {meas} | {tgt} | {v} | {base} | {'yes' if ok else 'no'} |")
    print("\n## Cost of restoring a 1-MP photo on this machine\n")
    print("| model | seconds | peak memory (MB) | threads | trained (min) |")
    print("|---|---|---|---|---|")
    for n, r in res.items():
        print(f"| `{n}` | {r['seconds_1mp']:.2f} | {r['peak_rss_mb']:.0f} | {r['threads']} | {(r.get('card') or {}).get('minutes', '?')} |")
    return res

def show_demo(a, work):
    d = work/'demo'
    t0 = time.time()
    r = subprocess.run([sys.executable, '-c', 'from lesson7ext.cli import demo_cli; demo_cli()', '--out', str(d), '--minutes', str(a.demo_minutes)], capture_output=True, text=True)
    print("\n## Demo (held-back photos astronaut, china)\n")
    print(r.stdout.strip().splitlines()[-2] if r.returncode == 0 else f"demo failed: {r.stderr[-500:]}")
    print(f"({(time.time() - t0) / 60:.1f} min in all; report {d/'report.html'})")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--part'); p.add_argument('--out', default=str(root/'bench'/'results'))
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--demo', action='store_true'); p.add_argument('--demo-minutes', type=float, default=10.)
    a = p.parse_args()
    if a.part: return part_model(a.part, a.data, a.out)
    work = Path(a.out)/'pretrained'; work.mkdir(parents=True, exist_ok=True)
    res = show_models(a, work)
    json.dump({k: {kk: v for kk, v in r.items() if kk != 'card'} for k, r in res.items()}, open(work/'summary.json', 'w'), indent=1)
    if a.demo: show_demo(a, work)

if __name__ == '__main__': main()
