"""x4 super-resolution (issue 41): bicubic, the x4 shipped before issue 41, the shipped `x4`, and the published nets, in one run.

    python bench/x4.py [--data ../shared/data] [--old FILE] [--new FILE] [--quick]

Rows, each scored with Y-PSNR (border 4) on photos no model here was trained on:
- Set5 (`../shared/data/CSet5`), the benchmarks' protocol (`protocols.heldout_pairs(..., 'x4')`: crop to a multiple of 4,
  PIL's bicubic down);
- the 10 BSDS500 photos `tools/pretrain.py`'s `eval_bsds` holds out, and the 10 Sun80 photos of `eval_sun80` (downscaled to a
  480-px short side as training does), by the same protocol;
- inputs people have, on Set5: the small photo made with another kernel (box, `Image.reduce`), saved as a JPEG at q90, and
  with light noise (σ 3): a model that is worse than bicubic on any of them has a bug.
Costs, each model in its own process: seconds per output MP (a 1000x1000 output, `restore` as the CLI runs it: tiles,
`precision='auto'`), the same for `lesson7` at the same output size (the ratio is what issue 41 targets: <= 0.5), and the
peak memory of a 3000x2000 output. `--old` is the x4 file from before issue 41 (default: read from git, commit 6fbbe7f); `--new`
adds a candidate not shipped yet (a further run's model, `tools/pretrain.py x4 --init x4 --out DIR`).
The published lines are their papers' Set5 numbers (trained for days on DIV2K/DF2K with GPUs).
"""
import argparse, json, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root/'tools'))

PUBLISHED = [('SRCNN', 30.48, 'Dong et al., TPAMI 2016'), ('FSRCNN', 30.72, 'Dong et al., ECCV 2016'), ('VDSR', 31.35, 'Kim et al., CVPR 2016'),
             ('IMDN', 32.21, 'Hui et al., ACM MM 2019'), ('RLFN', 32.24, 'Kong et al., CVPRW 2022'), ('SwinIR-light', 32.44, 'Liang et al., ICCVW 2021')]
OLD_COMMIT = '6fbbe7f'

def inputs(data, quick):
    "name -> list of `(name, small input, original, None)`."
    import pretrain
    from PIL import Image
    from lesson7ext.protocols import heldout_pairs, jpeg_file
    from lesson7ext.degrade import gaussian_noise
    set5 = heldout_pairs(Path(data)/'CSet5', 'x4')
    work = Path(tempfile.gettempdir())/'lesson7ext_x4_bench'
    rows = {'Set5': set5, 'BSDS500 (10 held out)': heldout_pairs(pretrain.eval_bsds(data)[:3 if quick else 10], 'x4')}
    if not quick: rows['Sun80 (10 held out)'] = heldout_pairs(pretrain.eval_files(data, work), 'x4')
    rows['Set5, box-filtered'] = [(n, hr.reduce(4), hr, None) for n, _, hr, _ in set5]
    rows['Set5, JPEG q90'] = [(n, jpeg_file(x, 90), hr, None) for n, x, hr, _ in set5]
    rows['Set5, noise σ3'] = [(n, gaussian_noise(x, 3., False, i), hr, None) for i, (n, x, hr, _) in enumerate(set5)]
    return rows

def part(model, data, out, quick):
    "One model in this process: its scores on every row, its seconds per output MP and its peak memory on a 3000x2000 output."
    import numpy as np, torch
    from PIL import Image, ImageFilter
    from lesson7ext.restore import restore, cached_restorer
    from lesson7ext.protocols import heldout_scores
    res = {}
    m = None if model == 'bicubic' else cached_restorer(model)
    apply = (lambda im: im.resize((im.width * 4, im.height * 4), Image.Resampling.BICUBIC)) if m is None else (lambda im: restore(im, m, scale=4))
    for row, pairs in inputs(data, quick).items():
        s = heldout_scores(apply, pairs)
        res[row] = dict(psnr=s['model']['psnr'], bicubic=s['baseline']['psnr'], worst=min(a['psnr'] - b['psnr'] for a, b in zip(s['per_image']['model'], s['per_image']['baseline'])))
    if m is not None:
        img = Image.fromarray((np.random.default_rng(0).random((250, 250, 3)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))
        apply(img); t0 = time.perf_counter(); apply(img); res['s_mp'] = time.perf_counter() - t0  # a 1000x1000 output
        l7 = cached_restorer('lesson7'); big = img.resize((1000, 1000), Image.Resampling.BICUBIC)
        restore(big, l7); t0 = time.perf_counter(); restore(big, l7); res['lesson7_s_mp'] = time.perf_counter() - t0
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        apply(img.resize((750, 500)))  # a 3000x2000 output
        res.update(peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_before_mb=rss0 / 1024,
                   params=sum(p.numel() for p in m.parameters()), arch=type(m).__name__, minutes=(m.restorer_info.get('card') or {}).get('minutes'))
    json.dump(res, open(out, 'w'))

def old_file(path):
    "The x4 shipped before issue 41: `path`, else read from git at `OLD_COMMIT` into a temporary file."
    if path: return Path(path)
    f = Path(tempfile.gettempdir())/f'x4_{OLD_COMMIT}.safetensors'
    if not f.exists():
        r = subprocess.run(['git', 'show', f'{OLD_COMMIT}:lesson7ext/weights/x4.safetensors'], cwd=root, capture_output=True)
        if r.returncode: sys.exit(f"the old x4 is not in this clone's history ({r.stderr.decode().strip()}): give --old FILE")
        f.write_bytes(r.stdout)
    return f

def main():
    import torch
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default=str(root.parent/'shared'/'data'))
    p.add_argument('--old', help='the x4 model file from before issue 41 (default: from git)')
    p.add_argument('--new', help='a candidate x4 file, scored beside the shipped one')
    p.add_argument('--quick', action='store_true', help='3 BSDS photos, no Sun80 (a smoke run, not the reported numbers)')
    p.add_argument('--part', nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.part: return part(a.part[0], a.data, a.part[1], a.quick)
    from pretrain import cpu_name
    models = [('bicubic', 'bicubic'), ('x4 before issue 41 (RestoreUnet on the bicubic upscale)', str(old_file(a.old))), ('x4 (shipped)', 'x4')] + ([(f'x4 candidate ({Path(a.new).name})', a.new)] if a.new else [])
    res = {}
    with tempfile.TemporaryDirectory() as d:
        for label, m in models:
            out = Path(d)/'r.json'
            subprocess.run([sys.executable, __file__, '--part', m, str(out), '--data', a.data] + (['--quick'] if a.quick else []), check=True)
            res[label] = json.load(open(out))
    rows = [r for r in res['bicubic'] if isinstance(res['bicubic'][r], dict)]
    print(f"\n## x4 super-resolution, Y-PSNR dB (border 4); {cpu_name()}, {torch.get_num_threads()} threads\n")
    print('| model | params | ' + ' | '.join(rows) + ' | worst photo vs bicubic | s per output MP | vs lesson7 at that size | peak MB, 3000x2000 out |')
    print('|---|---|' + '---|' * len(rows) + '---|---|---|---|')
    for label, r in res.items():
        worst = min(r[k]['worst'] for k in rows) if label != 'bicubic' else 0.
        cost = f"{r['s_mp']:.2f} | {r['s_mp'] / r['lesson7_s_mp']:.2f}x | {r['peak_mb']:.0f}" if 's_mp' in r else ' | | '
        print(f"| {label} | {r['params'] / 1e6:.2f}M | " if 'params' in r else f"| {label} | | ", end='')
        print(' | '.join(f"{r[k]['psnr']:.2f}" for k in rows) + f" | {worst:+.2f} | {cost} |")
    for n, v, c in PUBLISHED: print(f"| {n} (published: {c}) | | {v:.2f} |" + ' |' * (len(rows) - 1) + ' | | | |')

if __name__ == '__main__': main()
